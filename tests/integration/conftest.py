"""Module-scoped running stacks for the integration tests (see harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness import FIXTURES, Stack, running_stack


@pytest.fixture(scope="module")
def netzone_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The project's template.yaml, running (no demo)."""
    with running_stack(tmp_path_factory.mktemp("netzone-stack")) as stack:
        yield stack


@pytest.fixture(scope="module")
def fixture_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """tests/integration/fixtures/template.yaml, running: test handlers for the event sources."""
    with running_stack(
        tmp_path_factory.mktemp("fixture-stack"),
        "--template",
        str(FIXTURES / "template.yaml"),
        "--stack-name",
        "fx",
    ) as stack:
        yield stack
