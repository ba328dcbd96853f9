"""Before every apply and destroy the engine copies the state (owner-only), keeping N copies."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpuforge.provision import STATE_BACKUP_DIR, TerraformBinary

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


def _apply_count(root: Path, engine: Any, count: int) -> None:
    pools = {"training": {**POOLS["training"], "count": count}}
    (root / "terraform.tfvars.json").write_text(json.dumps({"pools": pools}), encoding="utf-8")
    engine.apply(engine.plan().plan_file.name)


def test_every_apply_keeps_the_previous_state_owner_only(
    any_binary: TerraformBinary,
    module_copy: Callable[..., Path],
    offline_engine: Callable[..., Any],
) -> None:
    root = module_copy("nodes")
    engine = offline_engine(root, any_binary, state_backups=2)
    engine.init()
    _apply_count(root, engine, 1)
    folder = root / STATE_BACKUP_DIR
    assert not folder.exists(), "no state before the first apply: nothing to back up"

    first_state = (root / "terraform.tfstate").read_text(encoding="utf-8")
    _apply_count(root, engine, 2)
    copies = sorted(folder.iterdir())
    assert [p.read_text(encoding="utf-8") for p in copies] == [first_state]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(copies[0].stat().st_mode) == 0o600

    _apply_count(root, engine, 3)
    _apply_count(root, engine, 1)
    engine.destroy()
    copies = sorted(folder.iterdir())
    assert len(copies) == 2, "only the newest state_backups copies are kept"
    serials = [json.loads(p.read_text(encoding="utf-8"))["serial"] for p in copies]
    assert (
        serials == sorted(serials)
        and serials[-1]
        < json.loads((root / "terraform.tfstate").read_text(encoding="utf-8"))["serial"]
    )
