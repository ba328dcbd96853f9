"""Shared helpers for the spec tests: a minimal valid spec to build cases from."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gpuforge.errors import Problem, SpecError
from gpuforge.spec import SpecDocument, load_spec_text

MINIMAL = """\
apiVersion: gpuforge/v1
kind: Cluster
name: demo
target: local
pools:
  train:
    gpu: H100:8
"""


@pytest.fixture
def minimal() -> str:
    """The smallest valid spec: one local pool of 8 x H100."""
    return MINIMAL


@pytest.fixture
def load() -> Callable[[str], SpecDocument]:
    """Load spec text as if it came from `cluster.yaml`."""
    return lambda text: load_spec_text(text, "cluster.yaml")


@pytest.fixture
def problems() -> Callable[[str], list[Problem]]:
    """Load spec text that must fail and return every problem reported."""

    def run(text: str) -> list[Problem]:
        with pytest.raises(SpecError) as caught:
            load_spec_text(text, "cluster.yaml")
        assert caught.value.problems, "a SpecError must carry at least one problem"
        return caught.value.problems

    return run
