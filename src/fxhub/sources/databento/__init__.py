"""Databento: CME futures (GLBX.MDP3) with real traded volume and a real order book."""
