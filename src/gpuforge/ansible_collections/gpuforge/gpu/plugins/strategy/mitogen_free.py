# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible strategy: mitogen's `free` strategy without its CPU pinning."""

from __future__ import annotations

DOCUMENTATION = r"""
name: mitogen_free
short_description: Mitogen's free strategy, with Ansible's processes free to use every CPU
description:
  - Runs plays like C(mitogen_free) from mitogen (which must be installed), but leaves CPU
    placement to the kernel. Mitogen pins every worker process to one CPU and the connection
    multiplexer to another, so on a machine with fewer than four CPUs all task workers and the
    controller share a single CPU; unpinned, a no-op run of C(site.yml) on 16 nodes of a
    2-CPU machine takes about half the time.
  - Select it with C(strategy = gpuforge.gpu.mitogen_free) in C(ansible.cfg).
extends_documentation_fragment: [gpuforge.gpu.strategy_savings]
author: gpuforge maintainers
"""

import ansible_mitogen.affinity
import ansible_mitogen.loaders
import ansible_mitogen.strategy

from ansible_collections.gpuforge.gpu.plugins.plugin_utils import collection_dirs, controller_skip, template_cache

# mitogen looks the policy up at each use, so replacing it before a play starts takes effect.
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()
template_cache.install_from_config()
collection_dirs.install()

_Base = ansible_mitogen.loaders.strategy_loader.get("free", class_only=True)


class StrategyModule(
    controller_skip.SkipInController, template_cache.ReadBeforeFork, ansible_mitogen.strategy.StrategyMixin, _Base
):
    """mitogen's free strategy with the null affinity policy (no CPU pinning)."""
