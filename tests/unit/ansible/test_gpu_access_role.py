"""GPU devices only for a group (issue 24): the spec's security.gpu_group/gpu_users reach the
gpu_access role, whose udev rule and driver options make /dev/nvidia* root:<group> 0660."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from local_play import REPO, run_local

from gpuforge.check import make_context, solve_lock
from gpuforge.errors import InputError
from gpuforge.render import render_group_vars
from gpuforge.spec import SpecDocument, load_spec

ROLE = (
    REPO / "src" / "gpuforge" / "ansible_collections" / "gpuforge" / "gpu" / "roles" / "gpu_access"
)
EXAMPLES = REPO / "examples"
AS_OF = date(2026, 11, 28)


class _AnsibleLoader(yaml.SafeLoader):
    """Reads group_vars as Ansible does: `!unsafe` marks a plain (never templated) string."""


_AnsibleLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _all_vars(doc: SpecDocument) -> dict[str, Any]:
    lock = solve_lock(make_context(doc, AS_OF))
    loaded: dict[str, Any] = yaml.load(
        render_group_vars(doc.spec, lock)["all.yml"], Loader=_AnsibleLoader
    )
    return loaded


def _spec(tmp_path: Path, security: str) -> Path:
    shutil.copyfile(EXAMPLES / "local.lock", tmp_path / "local.lock")
    text = (EXAMPLES / "local.yaml").read_text(encoding="utf-8") + security
    path = tmp_path / "local.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_spec_leaves_gpu_devices_as_they_are(tmp_path: Path) -> None:
    doc = load_spec(_spec(tmp_path, ""))
    all_vars = _all_vars(doc)
    assert all_vars["gpu_access_group"] == "" and all_vars["gpu_access_users"] == []


def test_spec_group_and_users_reach_the_role(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "security: {gpu_group: gpu, gpu_users: [alice, bob]}\n")
    doc = load_spec(spec)
    all_vars = _all_vars(doc)
    assert all_vars["gpu_access_group"] == "gpu"
    assert all_vars["gpu_access_users"] == ["alice", "bob"]


@pytest.mark.parametrize(
    ("security", "expected"),
    [
        ("security: {gpu_group: 'gpu;rm -rf /'}\n", "not a usable group name"),
        ("security: {gpu_group: gpu, gpu_users: ['Alice Smith']}\n", "not a usable user name"),
        ("security: {gpu_users: [alice]}\n", "gpu_group is not"),
    ],
)
def test_bad_gpu_group_or_users_are_refused(tmp_path: Path, security: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        load_spec(_spec(tmp_path, security))
    assert expected in str(caught.value.problems[0].message)  # type: ignore[attr-defined]


def test_role_templates_make_the_devices_root_group_0660(tmp_path: Path) -> None:
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "all",
                    "gather_facts": False,
                    "vars": {"__gpu_access_group": {"gid": 4242}},
                    "tasks": [
                        {
                            "name": f"render {name}",
                            "ansible.builtin.template": {
                                "src": str(ROLE / "templates" / name),
                                "dest": str(tmp_path / name.removesuffix(".j2")),
                                "mode": "0644",
                            },
                        }
                        for name in (
                            "70-gpuforge-gpu-access.rules.j2",
                            "gpuforge-gpu-access.conf.j2",
                        )
                    ],
                }
            ]
        )
    )
    variables = {"gpu_access_group": "gpu", "gpu_access_mode": "0660"}
    run_local(tmp_path, {"node": {}}, variables, str(playbook))

    rules = (tmp_path / "70-gpuforge-gpu-access.rules").read_text().splitlines()
    active = [line for line in rules if line and not line.startswith("#")]
    assert active == [
        'KERNEL=="nvidia*", SUBSYSTEM!="nvidia-caps", OWNER="root", GROUP="gpu", MODE="0660"',
    ]
    options = (tmp_path / "gpuforge-gpu-access.conf").read_text().splitlines()[-1]
    assert options == (
        "options nvidia NVreg_DeviceFileUID=0 NVreg_DeviceFileGID=4242 NVreg_DeviceFileMode=0660"
    )


def test_the_mig_capability_files_keep_the_drivers_modes() -> None:
    """/dev/nvidia-caps holds the mig-config capability (root-only, 0400, from the driver): given
    to the GPU group it would let every GPU user create and destroy any MIG instance, and the
    mig role's per-profile groups would flip back to the group's mode on every run."""
    rules = (ROLE / "templates" / "70-gpuforge-gpu-access.rules.j2").read_text()
    active = [line for line in rules.splitlines() if line and not line.startswith("#")]
    assert all('SUBSYSTEM!="nvidia-caps"' in line for line in active), active
    tasks = yaml.safe_load((ROLE / "tasks" / "apply.yml").read_text())
    searched = [
        path
        for task in tasks
        if "ansible.builtin.find" in task
        for path in task["ansible.builtin.find"]["paths"]
    ]
    assert searched == ["/dev"], searched
