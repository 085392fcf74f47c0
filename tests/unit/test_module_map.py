"""The module map in netzone's docstring names every module of the package."""

from __future__ import annotations

import re
from pathlib import Path

import netzone

PACKAGE = Path(netzone.__file__).parent


def test_the_module_map_lists_every_module() -> None:
    listed = set(re.findall(r"^ {4}(\w+)/? ", netzone.__doc__ or "", flags=re.MULTILINE))
    modules = {path.stem for path in PACKAGE.rglob("*.py") if path.stem != "__init__"}
    modules |= {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    assert not modules - listed, f"add to the module map in netzone/__init__.py: {sorted(modules - listed)}"
    assert not listed - modules, f"the module map names modules that are gone: {sorted(listed - modules)}"
