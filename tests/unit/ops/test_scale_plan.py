"""`scale` reads Terraform's plan per node: created and destroyed nodes are the delta, and a plan
that would replace or change an existing node is refused before anything is drained."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.cli import scale_cmds
from gpuforge.ops import ScaleRefused, node_actions
from gpuforge.ops._scale import _refuse_moves
from gpuforge.provision import Action, PlanSummary, ResourceChange

REPO = Path(__file__).parents[3]


def _plan(*changes: tuple[str, Action]) -> dict[str, PlanSummary]:
    return {
        "local": PlanSummary(
            changes=tuple(ResourceChange(a, "null_resource", action) for a, action in changes)
        )
    }


def test_the_delta_is_read_per_node() -> None:
    plans = _plan(
        ('module.pool_gpu.null_resource.node["gpu-4"]', Action.CREATE),
        ('module.pool_gpu.null_resource.node["gpu-5"]', Action.CREATE),
        ('module.pool_gpu.null_resource.node["gpu-0"]', Action.NO_OP),
        ('module.pool_gpu.null_resource.node["gpu-3"]', Action.DELETE),
    )
    assert node_actions(plans) == {
        "gpu-3": Action.DELETE,
        "gpu-4": Action.CREATE,
        "gpu-5": Action.CREATE,
    }
    _refuse_moves(node_actions(plans), {"gpu-0", "gpu-1", "gpu-2", "gpu-3"})


@pytest.mark.parametrize("action", [Action.REPLACE, Action.UPDATE])
def test_a_plan_that_moves_an_existing_node_is_refused(action: Action) -> None:
    plans = _plan(
        ('module.pool_gpu.null_resource.node["gpu-0"]', action),
        ('module.pool_gpu.null_resource.node["gpu-4"]', Action.CREATE),
    )
    with pytest.raises(ScaleRefused) as refused:
        _refuse_moves(node_actions(plans), {"gpu-0"})
    assert "gpu-0" in refused.value.message and "gpuforge plan" in refused.value.fix
    assert refused.value.exit_code == 2


def test_scale_before_up_is_refused_with_a_fix(tmp_path: Path) -> None:
    shutil.copyfile(REPO / "examples" / "local.lock", tmp_path / "local.lock")
    spec = shutil.copyfile(REPO / "examples" / "local.yaml", tmp_path / "local.yaml")
    app = typer.Typer()
    app.callback()(lambda: None)
    scale_cmds.register(app)
    result = CliRunner().invoke(app, ["scale", str(spec), "--json"])
    assert result.exit_code == 2, result.output
    assert "never brought up" in result.output and "gpuforge up" in result.output
