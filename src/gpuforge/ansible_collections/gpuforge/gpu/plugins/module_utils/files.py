# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Write a file only when its content or attributes differ; shared by config_files and cdi_spec."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ansible.module_utils.common.text.converters import to_bytes


def _current(path: str) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _make_parents(module: Any, path: str, owner: str, group: str, mode: str) -> None:
    """Create the missing folders above `path`, outermost first, with the given owner and mode."""
    missing = []
    folder = os.path.dirname(path)
    while folder and not os.path.isdir(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for folder in reversed(missing):
        os.mkdir(folder)
        args = module.load_file_common_arguments(
            dict(path=folder, owner=owner, group=group, mode=mode)
        )
        module.set_fs_attributes_if_different(args, True)


def _write(module: Any, path: str, data: bytes) -> None:
    """Replace `path` by `data` atomically (a temporary file in the same folder, then a rename)."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".gpuforge-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        module.atomic_move(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def ensure_file(
    module: Any, path: str, content: str, owner: str, group: str, mode: str, directory_mode: str
) -> tuple[bool, list[dict[str, Any]]]:
    """Make `path` hold `content` with the given owner, group and mode; (changed, diffs).

    Writes atomically and creates missing folders (with `directory_mode`) only when the content
    differs; in check mode changes nothing and reports what would change. `diffs` are Ansible
    diff entries: the old and new text, and the attributes that change.
    """
    data = to_bytes(content, errors="surrogate_or_strict")
    before = _current(path)
    changed = before != data
    diffs: list[dict[str, Any]] = []
    if changed:
        diffs.append(
            dict(
                before_header=path,
                after_header=path,
                before="" if before is None else before.decode("utf-8", "replace"),
                after=content,
            )
        )
        if not module.check_mode:
            _make_parents(module, path, owner, group, directory_mode)
            _write(module, path, data)
    if before is not None or not module.check_mode:
        args = module.load_file_common_arguments(
            dict(path=path, owner=owner, group=group, mode=mode)
        )
        attributes = dict(before=dict(path=path), after=dict(path=path))
        if module.set_fs_attributes_if_different(args, False, diff=attributes):
            changed = True
            diffs.append(attributes)
    return changed, diffs
