# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action for gpuforge.gpu.gpu_collect: run the collectors and land their files on the controller.

With `controller_dest`, the module returns every raw file and this plugin writes them into
`controller_dest/<inventory_hostname>/` in the same task: no archive, fetch or unpack steps, each
of which would cost a task per host. `required` fails the host when one of those collectors failed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

_MODULE = "gpuforge.gpu.gpu_collect"
_OWN_ARGS = ("controller_dest", "required")
# The module's options (checked again by the module) and the action's own.
_ARGUMENT_SPEC = dict(
    dest=dict(type="path"),
    dcgm_level=dict(type="int"),
    mig=dict(type="bool"),
    nccl=dict(type="bool"),
    controller_dest=dict(type="path"),
    required=dict(type="list", elements="str", default=[]),
)


class ActionModule(ActionBase):
    """Runs the gpu_collect module; writes its outputs on the controller; checks required ones."""

    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        """Collect on the node; write `<controller_dest>/<host>/` when asked; fail on required."""
        task_vars = task_vars or {}
        result: dict[str, Any] = super().run(tmp, task_vars)
        _validation, checked = self.validate_argument_spec(argument_spec=_ARGUMENT_SPEC)
        controller_dest, required = checked["controller_dest"], checked["required"]
        args = {name: value for name, value in self._task.args.items() if name not in _OWN_ARGS}
        args["return_outputs"] = bool(controller_dest)
        result.update(
            self._execute_module(module_name=_MODULE, module_args=args, task_vars=task_vars)
        )
        if result.get("failed"):
            return result
        outputs = result.pop("outputs", {})
        if controller_dest:
            host = task_vars.get("inventory_hostname") or self._task.get_name()
            folder = os.path.join(os.path.expanduser(str(controller_dest)), host)
            _replace_folder(folder, outputs)
            result["controller_folder"] = folder
        failed = [
            "{} (rc {}): {}".format(
                name, run.get("rc", "missing"), str(run.get("stderr", ""))[-300:].strip()
            )
            for name in required
            for run in [result.get("collectors", {}).get(name, {})]
            if run.get("rc", 127) != 0
        ]
        if failed:
            result["failed"] = True
            result["msg"] = "required collectors failed on {}: {}".format(
                task_vars.get("inventory_hostname", "this host"),
                "; ".join(failed),
            )
        return result


def _replace_folder(folder: str, outputs: dict[str, str]) -> None:
    """Write `outputs` (name -> text) as a fresh `folder`, swapped in whole: never seen half."""
    parent = os.path.dirname(folder)
    try:
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(folder)}.", dir=parent)
        for name, text in outputs.items():
            if os.path.basename(name) != name or name in ("", ".", ".."):
                raise AnsibleActionFail(f"gpu_collect returned an unsafe file name: {name!r}")
            with open(os.path.join(staging, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        os.chmod(staging, 0o755)
        if os.path.isdir(folder):
            retired = folder + ".old"
            shutil.rmtree(retired, ignore_errors=True)
            os.rename(folder, retired)
            shutil.rmtree(retired, ignore_errors=True)
        os.rename(staging, folder)
    except OSError as exc:
        raise AnsibleActionFail(f"cannot write the collected files to {folder}: {exc}") from exc
