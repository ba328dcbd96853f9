"""The roles site.yml runs, in its order, with each role's switch default: read from site.yml.

site.yml is the one list (its `gpuforge_site_defaults`); gpuforge reads it rather than keeping
a copy, and tests/unit/desired/test_site_order.py checks that site.yml's includes follow it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from gpuforge.desired._roles import ROLES_DIR
from gpuforge.errors import InputError
from gpuforge.files import MIB, load_yaml, read_text

SITE_PLAYBOOK = ROLES_DIR.parent / "playbooks" / "site.yml"
_FIX = "reinstall gpuforge: its collection's playbooks/site.yml is damaged"


@functools.cache
def site_role_defaults(path: Path = SITE_PLAYBOOK) -> tuple[tuple[str, bool], ...]:
    """(role, switched on by default) for every role site.yml runs, in its order."""
    plays = load_yaml(read_text(path, max_bytes=MIB, fix=_FIX), str(path), _FIX)
    try:
        defaults = plays[0]["vars"]["gpuforge_site_defaults"]
        return tuple((str(name), bool(on)) for name, on in defaults.items())
    except (KeyError, IndexError, TypeError, AttributeError):
        raise InputError(f"{path}: no gpuforge_site_defaults in its first play", _FIX) from None
