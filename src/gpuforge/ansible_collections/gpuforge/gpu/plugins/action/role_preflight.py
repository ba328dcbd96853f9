# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action: check the inputs of several of the collection's roles in one task per host.

Each role checks its own inputs with its `meta/argument_specs.yml` and the assertion in its
`tasks/preflight.yml`. Run role by role that is one task per role and host, and each task of a
linear play costs a worker process per host. This action reads the same two files of every role
it is given and judges them against the variables each role would see: the host's variables
with the role defaults of that role and the roles before it below them, their role variables
above them, and extra variables on top, as `include_role` with `public: true` layers them.

It also returns, per role that has one, the role's `_<role>_stack` (the packages its install task
would install, their optional ones and whether it holds them) as that role would see it:
`site.yml` checks them all in one task (gpuforge.gpu.packages_in_place) and the roles whose
packages are in place skip their own install task.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.playbook.conditional import Conditional
from ansible.plugins.action import ActionBase
from ansible.template import Templar
from ansible.utils.vars import combine_vars, load_extra_vars

_ROLES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles"
)
_ASSERT = ("ansible.builtin.assert", "assert", "ansible.legacy.assert")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ActionModule(ActionBase):
    """Validates every listed role's argument spec and preflight assertion, in order."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("roles",))

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        """Check each role in turn; the first role whose inputs fail fails the host with its message."""
        result = super().run(tmp, task_vars)
        roles = self._task.args.get("roles")
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise AnsibleError(f"roles must be a list of role names of gpuforge.gpu, got {roles!r}")
        host_vars = task_vars or {}
        extra_vars = load_extra_vars(self._loader)
        defaults: dict[str, Any] = {}
        role_vars: dict[str, Any] = {}
        templar = Templar(loader=self._loader)
        packages: dict[str, Any] = {}
        for role in roles:
            own_vars = _role_file(role, "vars", "main.yml") or {}
            defaults = combine_vars(defaults, _role_file(role, "defaults", "main.yml") or {})
            role_vars = combine_vars(role_vars, own_vars)
            seen = combine_vars(
                combine_vars(combine_vars(defaults, host_vars), role_vars), extra_vars
            )
            templar.available_variables = seen
            failure = self._argument_errors(role, seen, templar) or self._failed_assertion(
                role, seen, templar
            )
            if failure:
                result.update(failed=True, role=role, **failure)
                return result
            stack = f"_{role}_stack"
            if stack in own_vars:
                try:
                    packages[role] = templar.template(seen[stack])
                except AnsibleError:
                    # Left out: the role's own install task templates it and says what is wrong.
                    pass
        result.update(
            changed=False,
            roles=roles,
            packages=packages,
            msg=f"inputs of {len(roles)} roles are usable",
        )
        return result

    def _argument_errors(
        self, role: str, seen: dict[str, Any], templar: Templar
    ) -> dict[str, Any] | None:
        """The role's `main` argument spec checked against the values it would see, as Ansible does."""
        specs = _role_file(role, "meta", "argument_specs.yml") or {}
        options = specs.get("argument_specs", {}).get("main", {}).get("options", {})
        provided = templar.template({name: seen[name] for name in options if name in seen})
        validation = ArgumentSpecValidator(options).validate(
            provided, validate_role_argument_spec=True
        )
        if not validation.error_messages:
            return None
        return {
            "msg": f"Validation of arguments failed for role gpuforge.gpu.{role}:\n"
            + "\n".join(validation.error_messages),
            "argument_errors": validation.error_messages,
        }

    def _failed_assertion(
        self, role: str, seen: dict[str, Any], templar: Templar
    ) -> dict[str, Any] | None:
        """The first condition of the role's preflight assertion that is false, with its message."""
        conditional = Conditional(loader=self._loader)
        for task in _role_file(role, "tasks", "preflight.yml") or []:
            action = next((key for key in _ASSERT if key in task), None)
            if action is None or set(task) - {"name", "tags", action}:
                raise AnsibleError(
                    f"role {role}: its preflight.yml may hold only assert tasks without conditions, "
                    f"found {task.get('name', task)!r}"
                )
            thats = task[action]["that"]
            for that in [thats] if isinstance(thats, str) else thats:
                conditional.when = [that]
                if not conditional.evaluate_conditional(templar=templar, all_vars=seen):
                    message = task[action].get(
                        "fail_msg", task[action].get("msg", "Assertion failed")
                    )
                    return {
                        "msg": templar.template(message),
                        "assertion": that,
                        "evaluated_to": False,
                    }
        return None


def _role_file(role: str, folder: str, name: str) -> Any:
    """One YAML file of a role of this collection, or None when the role has no such file.

    The collection's own files hold plain YAML (no vault, no `!unsafe`): libyaml's safe loader
    reads them several times faster than Ansible's loader, which matters once per host.
    """
    if not os.path.isdir(os.path.join(_ROLES, role)):
        raise AnsibleError(f"gpuforge.gpu has no role named {role!r}")
    path = os.path.join(_ROLES, role, folder, name)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_YAML_LOADER)
