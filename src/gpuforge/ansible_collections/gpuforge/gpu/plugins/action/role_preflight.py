# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action: check the inputs of several of the collection's roles in one task per host.

Each role checks its own inputs with its `meta/argument_specs.yml` and the assertion in its
`tasks/preflight.yml`. Run role by role that is one task per role and host, and each task of a
linear play costs a worker process per host. This action reads the same two files of every role
it is given and judges them against the variables each role would see: the host's variables
with the role defaults of that role and the roles before it below them, their role variables
above them, and extra variables on top, as `include_role` with `public: true` layers them.

It also returns, per role that has them, what the role's state-setting tasks would set, as that
role would see it: its `_<role>_stack` (the packages its install task would install, their
optional ones and whether it holds them), its `_<role>_units` (the units it enables and starts)
and its `_<role>_files` (the files it writes, rendered here from the role's own folder, passed on
as path, SHA-1 and mode). `site.yml` judges them all on the host in one task
(gpuforge.gpu.roles_in_place) and the roles in place skip those tasks; a role whose
`_<role>_skip_when_in_place` is true sets nothing else, and is not included at all when it is in
place on every host.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.playbook.conditional import Conditional
from ansible.plugins.action import ActionBase
from ansible.template import Templar
from ansible.utils.vars import combine_vars, load_extra_vars
from ansible_collections.gpuforge.gpu.plugins.module_utils.files import content_checksum

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
        published: dict[str, dict[str, Any]] = {
            "packages": {},
            "units": {},
            "files": {},
            "skippable": {},
        }
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
            self._publish(role, own_vars, seen, templar, published)
        result.update(changed=False, roles=roles, msg=f"inputs of {len(roles)} roles are usable")
        result.update(published)
        return result

    def _publish(
        self,
        role: str,
        own_vars: dict[str, Any],
        seen: dict[str, Any],
        templar: Templar,
        published: dict[str, dict[str, Any]],
    ) -> None:
        """Add the role's `_<role>_stack`, `_units`, `_files` and `_skip_when_in_place` to `published`.

        A value that does not template is left out: the role's own task templates it and says
        what is wrong. File templates are looked up in the role's folder, as its tasks look them up.
        """
        role_path = os.path.join(_ROLES, role)
        seen["role_path"] = role_path
        seen["ansible_search_path"] = [role_path, *seen.get("ansible_search_path", [])]
        templar.available_variables = seen
        for kind, suffix in (
            ("packages", "stack"),
            ("units", "units"),
            ("files", "files"),
            ("skippable", "skip_when_in_place"),
        ):
            name = f"_{role}_{suffix}"
            if name not in own_vars:
                continue
            try:
                value = templar.template(seen[name])
            except AnsibleError:
                continue
            if kind == "files":
                value = [
                    {
                        "dest": entry["dest"],
                        "checksum": content_checksum(entry["content"]),
                        "mode": str(entry.get("mode", "0644")),
                    }
                    for entry in value
                ]
            elif kind == "skippable":
                value = boolean(value, strict=False)
            published[kind][role] = value

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
