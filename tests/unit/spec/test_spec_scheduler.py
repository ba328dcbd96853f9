"""The scheduler section (issue 18): none by default; slurm with a controller that is a pool or
one of the cluster's nodes; every mistake located with a fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gpuforge.errors import Problem
from gpuforge.spec import SpecDocument

Load = Callable[[str], SpecDocument]
Problems = Callable[[str], list[Problem]]

TWO_NODES = "    count: 2\n"


def test_no_scheduler_by_default(load: Load, minimal: str) -> None:
    assert load(minimal).spec.scheduler.model_dump() == {"kind": "none", "controller": None}


@pytest.mark.parametrize("controller", [None, "train", "train-1", "demo-train-0", "demo-train-1"])
def test_slurm_controller_is_a_pool_or_one_of_its_nodes(
    load: Load, minimal: str, controller: str | None
) -> None:
    extra = f", controller: {controller}" if controller else ""
    spec = load(minimal + TWO_NODES + f"scheduler: {{kind: slurm{extra}}}\n").spec

    assert (spec.scheduler.kind, spec.scheduler.controller) == ("slurm", controller)


@pytest.mark.parametrize(
    ("section", "where", "message", "fix"),
    [
        (
            "scheduler:\n  kind: slurm\n  controller: demo-train-2\n",
            (11, 3, "scheduler.controller"),
            "controller 'demo-train-2' is neither a pool nor a node of this cluster",
            "name a pool or a node: demo-train-0, demo-train-1, train, train-0, train-1",
        ),
        (
            "scheduler:\n  controller: train\n",
            (9, 1, "scheduler"),
            "a controller is given but no scheduler",
            "set `kind: slurm`, or remove `controller`",
        ),
        (
            "scheduler:\n  kind: kubernetes\n",
            (10, 3, "scheduler.kind"),
            "Input should be 'none' or 'slurm'",
            "use one of 'none' or 'slurm'",
        ),
    ],
)
def test_bad_scheduler_is_located_with_a_fix(
    problems: Problems,
    minimal: str,
    section: str,
    where: tuple[int, int, str],
    message: str,
    fix: str,
) -> None:
    [problem] = problems(minimal + TWO_NODES + section)

    loc = problem.location
    assert (loc.file, loc.line, loc.column, loc.path) == ("cluster.yaml", *where)
    assert (problem.message, problem.fix) == (message, fix)
