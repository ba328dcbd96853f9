#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: run the read-only GPU node fact collectors and keep their raw outputs."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gpu_collect
short_description: Run read-only GPU node collectors and keep their raw outputs
description:
  - Runs nvidia-smi (query-gpu CSV, -q, topo -m, mig -lgi), dcgmi diag, ibstat, the kernel log,
    installed package versions and a single-node all_reduce_perf, each tolerant of a missing tool or
    a failure, and writes to O(dest) per collector its stdout, C(STEM.rc) (exit status, 127 when
    the tool is missing) and C(STEM.err) (stderr), an index C(collectors.json) (command, rc, stderr
    per collector).
  - Where the tools offer a structured form it is asked for first, and the text form only when
    the tool rejects it - C(nvidia-smi -q -x) (XML), C(dcgmi diag -j) (JSON).
  - It never changes GPU settings; it reports C(changed=false).
  - Its action plugin of the same name also writes every file on the controller when given
    C(controller_dest), and fails the host when a collector listed in C(required) failed.
options:
  dest:
    description: Directory on the node for the raw outputs (recreated on each run).
    type: path
    default: /var/lib/gpuforge/validation
  dcgm_level:
    description: C(dcgmi diag -r) level; 0 skips DCGM.
    type: int
    default: 1
  mig:
    description: Also list MIG GPU instances.
    type: bool
    default: false
  nccl:
    description: Run all_reduce_perf over all GPUs of the node.
    type: bool
    default: true
  return_outputs:
    description: Also return every file's text in RV(outputs) (the action plugin sets it).
    type: bool
    default: false
author: gpuforge maintainers (@gpuforge)
"""

EXAMPLES = r"""
- name: Collect validation facts
  gpuforge.gpu.gpu_collect:
    dcgm_level: 1
"""

RETURN = r"""
collectors:
  description: Per collector name, the command run, rc, file and stderr.
  returned: always
  type: dict
outputs:
  description: File name -> text of every file written to O(dest).
  returned: when O(return_outputs) is true
  type: dict
"""

import json
import os
import shutil
import subprocess
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils.collect import collectors, gpu_count


def _run(module: Any, collector: Any) -> tuple[list[str], int, str, str]:
    for argv in collector.commands:
        program = module.get_bin_path(argv[0])
        if program is None:
            continue
        try:
            done = subprocess.run(
                [program, *argv[1:]],
                capture_output=True,
                text=True,
                timeout=collector.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            partial = exc.stdout or ""
            if isinstance(partial, bytes):
                partial = partial.decode("utf-8", "replace")
            return list(argv), 124, partial, f"timed out after {collector.timeout_s:d}s"
        if collector.keeps(argv, done.returncode, done.stdout):
            return list(argv), done.returncode, done.stdout, done.stderr
    return list(collector.commands[0]), 127, "", f"{collector.commands[0][0]}: command not found"


def main() -> None:
    """Run every collector and write the raw files (and return them, for the action plugin)."""
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", default="/var/lib/gpuforge/validation"),
            dcgm_level=dict(type="int", default=1),
            mig=dict(type="bool", default=False),
            nccl=dict(type="bool", default=True),
            return_outputs=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    dest = params["dest"]
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest, mode=0o755)
    index: dict[str, Any] = {}
    gpus = 0
    for collector in collectors(params["dcgm_level"], params["mig"], 0):
        index[collector.name] = _store(module, dest, collector)
        if collector.name == "smi_query":
            with open(os.path.join(dest, collector.filename)) as handle:
                gpus = gpu_count(handle.read())
    if params["nccl"] and gpus:
        nccl = collectors(0, False, gpus)[-1]
        index[nccl.name] = _store(module, dest, nccl)
    with open(os.path.join(dest, "collectors.json"), "w") as handle:
        json.dump(index, handle, indent=2, sort_keys=True)
    result: dict[str, Any] = {"changed": False, "collectors": index}
    if params["return_outputs"]:
        result["outputs"] = {}
        for name in sorted(os.listdir(dest)):
            with open(os.path.join(dest, name), encoding="utf-8", errors="replace") as handle:
                result["outputs"][name] = handle.read()
    module.exit_json(**result)


def _store(module: Any, dest: str, collector: Any) -> dict[str, Any]:
    argv, rc, out, err = _run(module, collector)
    for name, text in (
        (collector.filename, out),
        (collector.stem + ".rc", f"{rc:d}\n"),
        (collector.stem + ".err", err),
    ):
        with open(os.path.join(dest, name), "w") as handle:
            handle.write(text)
    return {"command": argv, "rc": rc, "file": collector.filename, "stderr": err[-4000:]}


if __name__ == "__main__":
    main()
