"""site.yml is the one list of roles: gpuforge reads its order and switch defaults from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gpuforge.desired import ROLE_DEFAULTS, ROLES, SITE_PLAYBOOK, site_role_defaults
from gpuforge.desired._roles import ROLES_DIR
from gpuforge.errors import InputError


def _site() -> dict[str, Any]:
    return yaml.safe_load(SITE_PLAYBOOK.read_text(encoding="utf-8"))[0]


def test_includes_follow_the_defaults_list() -> None:
    """site.yml includes each role of gpuforge_site_defaults once, in that order, switched by
    its own name; gpuforge's ROLES are that list."""
    play = _site()
    included = [
        (task["ansible.builtin.include_role"]["name"], task["when"])
        for task in play["tasks"]
        if "ansible.builtin.include_role" in task
    ]
    assert included == [
        (f"gpuforge.gpu.{role}", f"'{role}' in gpuforge_site_enabled_roles") for role in ROLES
    ]
    assert tuple(play["vars"]["gpuforge_site_defaults"].items()) == ROLE_DEFAULTS


def test_every_role_of_the_collection_is_run() -> None:
    """No role of the collection is left out of site.yml."""
    assert sorted(ROLES) == sorted(p.name for p in ROLES_DIR.iterdir() if p.is_dir())


def test_a_site_playbook_without_the_list_is_a_clear_error(tmp_path: Path) -> None:
    """A damaged site.yml is an error that says how to fix it, not a traceback."""
    broken = tmp_path / "site.yml"
    broken.write_text("- name: no list\n  hosts: all\n", encoding="utf-8")
    with pytest.raises(InputError, match="gpuforge_site_defaults"):
        site_role_defaults(broken)
