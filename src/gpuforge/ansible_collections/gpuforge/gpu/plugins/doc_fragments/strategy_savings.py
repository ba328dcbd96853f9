# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Documentation shared by the collection's strategies: what each one saves the controller."""

from __future__ import annotations


class ModuleDocFragment:
    """The notes every strategy of gpuforge.gpu carries."""

    DOCUMENTATION = r"""
options: {}
notes:
  - Keeps the compiled code of every template string in a folder, C(gpuforge/templates) under
    C(ANSIBLE_HOME) or the folder in the environment variable C(GPUFORGE_TEMPLATE_CACHE), so the
    worker process of each task and host finds it instead of compiling it again; the controller
    reads and checks the folder's entries before it forks workers, which inherit them (see
    C(plugin_utils/template_cache.py)); C(GPUFORGE_TEMPLATE_CACHE=off) turns this off.
  - Skips a task whose conditions are false for a host without forking a worker process for it
    (see C(plugin_utils/controller_skip.py)); C(GPUFORGE_CONTROLLER_SKIP=off) turns this off.
"""
