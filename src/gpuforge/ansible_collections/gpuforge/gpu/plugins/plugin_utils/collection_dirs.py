# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The installed collections' folders, listed once per run for mitogen's module planner.

Before it runs a module from a collection, mitogen's planner adds the folder of every installed
collection to the paths the target may import from. It lists them for each task and host in a
fresh worker process: ansible-galaxy's artifacts manager makes and removes a temporary folder
and reads every collection's metadata, about a tenth of a worker's time on a re-run of site.yml.
The installed collections do not change while a playbook runs, so `install()` lists them once
in the controller, before any worker forks, and every worker inherits the list.
"""

from __future__ import annotations

from typing import Any

import ansible_mitogen.planner
from ansible.collections.list import list_collection_dirs


def install() -> list[str] | None:
    """List the collection folders now and make the planner use that list; returns it.

    When they cannot be listed here, the planner keeps listing them itself (and reports the
    error in the worker, as it would without this) and None is returned.
    """
    try:
        folders = [path.decode("utf-8") for path in list_collection_dirs()]
    except Exception:  # noqa: BLE001 - the planner's own listing reports it in the worker
        return None

    def load_collections(invocation: Any) -> None:
        """What the planner's own `_load_collections` adds, from the list made at install."""
        invocation._extra_sys_paths.update(folders)

    ansible_mitogen.planner._load_collections = load_collections
    return folders
