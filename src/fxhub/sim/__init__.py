"""A synthetic but realistic market (IG spot quotes and CME MBP-10 books) for demos, tests and benchmarks."""

from fxhub.sim.runner import SimulationConfig, SimulationResult, simulate

__all__ = ["SimulationConfig", "SimulationResult", "simulate"]
