"""The public surface of `fxhub` is exactly what `__all__` lists, sorted, and nothing private leaks."""

import fxhub


def test_public_names_are_sorted_and_importable() -> None:
    names = fxhub.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(fxhub, name), name


def test_module_exposes_no_unlisted_public_names() -> None:
    public = {name for name in vars(fxhub) if not name.startswith("_")}
    subpackages = {
        "abtest",
        "cli",
        "collect",
        "core",
        "errors",
        "fetcher",
        "indicators",
        "hub",
        "instruments",
        "model",
        "ops",
        "sessions",
        "settings",
        "sim",
        "sources",
    }
    assert public - subpackages == set(fxhub.__all__) - {"__version__"}


def test_candle_is_importable_from_the_package_root() -> None:
    from fxhub import Candle

    assert Candle.__module__ == "fxhub.model.candle"
