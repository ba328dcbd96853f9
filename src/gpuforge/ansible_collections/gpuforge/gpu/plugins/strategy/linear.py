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
  - Select it with C(strategy = gpuforge.gpu.linear) in C(ansible.cfg).
extends_documentation_fragment: [gpuforge.gpu.strategy_savings]
author: gpuforge maintainers
"""

from ansible.plugins.strategy.linear import StrategyModule as _Base

from ansible_collections.gpuforge.gpu.plugins.plugin_utils import controller_skip, template_cache

template_cache.install_from_config()


class StrategyModule(controller_skip.SkipInController, template_cache.ReadBeforeFork, _Base):
    """ansible-core's linear strategy; false conditions are skipped without a worker."""
