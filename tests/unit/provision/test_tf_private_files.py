"""Terraform's state and plan files may hold secrets: the engine has them written owner-only."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpuforge.provision import TerraformBinary

POOLS = {
    "training": {
        "count": 1,
        "gpu_model": "H100",
        "gpu_count": 8,
        "instance_type": "p5.48xlarge",
        "market": "spot",
        "zone": "us-west-2a",
        "generation": 1,
    }
}


def test_state_and_plan_files_are_owner_only(
    any_binary: TerraformBinary,
    module_copy: Callable[..., Path],
    offline_engine: Callable[..., Any],
) -> None:
    root = module_copy("nodes")
    (root / "terraform.tfvars.json").write_text(json.dumps({"pools": POOLS}), encoding="utf-8")
    engine = offline_engine(root, any_binary)
    engine.init()
    plan = engine.plan()
    engine.apply(plan.plan_file.name)

    for path in (root / "terraform.tfstate", plan.plan_file):
        assert path.stat().st_mode & 0o077 == 0, f"{path.name}: {path.stat().st_mode:o}"
