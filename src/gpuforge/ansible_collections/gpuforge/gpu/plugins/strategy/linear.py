# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible strategy: ansible-core's `linear`, with the collection's two controller savings."""

from __future__ import annotations

DOCUMENTATION = r"""
name: linear
short_description: Ansible's linear strategy with cached templates and skips decided in the controller
description:
  - Runs plays exactly like C(ansible.builtin.linear), the strategy gpuforge falls back to when
    mitogen is not installed or does not load, and for C(--engine ssh).
  - Keeps the compiled code of every template string in a folder, C(gpuforge/templates) under
    C(ANSIBLE_HOME) or the folder in the environment variable C(GPUFORGE_TEMPLATE_CACHE), so the
    worker process of each task and host loads it instead of compiling it again (see
    C(plugin_utils/template_cache.py)); C(GPUFORGE_TEMPLATE_CACHE=off) turns this off.
  - Skips a task whose conditions are false for a host without forking a worker process for it
    (see C(plugin_utils/controller_skip.py)); C(GPUFORGE_CONTROLLER_SKIP=off) turns this off.
  - Select it with C(strategy = gpuforge.gpu.linear) in C(ansible.cfg).
author: gpuforge maintainers
"""

from ansible.plugins.strategy.linear import StrategyModule as _Base

from ansible_collections.gpuforge.gpu.plugins.plugin_utils import controller_skip, template_cache

template_cache.install_from_config()


class StrategyModule(controller_skip.SkipInController, _Base):
    """ansible-core's linear strategy; false conditions are skipped without a worker."""
