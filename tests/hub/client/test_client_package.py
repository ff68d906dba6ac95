"""The client package exports exactly its sorted `__all__`, and every name in it is importable."""

from __future__ import annotations

import types

import fxhub.hub.client as client_package


def test_public_names_are_sorted_and_importable() -> None:
    names = client_package.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(client_package, name), name


def test_package_exposes_no_unlisted_public_names() -> None:
    public = {
        name
        for name, value in vars(client_package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(client_package.__all__)
