"""What a role of the collection declares it writes and runs, read from the role's own files.

Each role names, in its `vars/main.yml`, its managed files (`_<role>_files`: dest, content or
`generated`, mode), units (`_<role>_units`: names, started; or a list of such groups), the
kernel modules it loads (`_<role>_modules_loaded`) and the container engines it configures
(`_<role>_runtimes`), and its tasks apply exactly those. Here the same declarations are
evaluated with Jinja2 over the same inputs (the role's defaults, the rendered group_vars, the
role's vars) and the role's own templates, with Ansible's rules for variable precedence and
for turning a rendered `[...]`/`{...}` into data. So the digest of a file is that of the
content the role writes, without a copy of any template in Python;
tests/unit/ansible/test_desired_files.py checks the result against ansible-playbook itself.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain, islice
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, Undefined, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from gpuforge.errors import InputError
from gpuforge.files import MIB, load_yaml, read_text

ROLES_DIR = (
    Path(__file__).resolve().parents[1] / "ansible_collections" / "gpuforge" / "gpu" / "roles"
)
# ansible-core's default `ansible_managed` text (DEFAULT_MANAGED_STR); gpuforge does not set it.
ANSIBLE_MANAGED = "Ansible managed"
_TRUE = frozenset(("yes", "on", "1", "true", "y", "t"))
# What a template lookup gives here when the template reads what only the node knows (a fact, a
# registered result): the file's content is then not known before the role runs.
NODE_CONTENT = "\x00gpuforge: content made from the node's own state\x00"


def _ansible_concat(nodes: Iterable[Any]) -> Any:
    """Join a template's output as Ansible does: text, but `[..]`/`{..}`/booleans become data."""
    head = list(islice(nodes, 2))
    if not head:
        return ""
    if len(head) == 1 and not isinstance(head[0], str):
        out = head[0]
        if isinstance(out, (list, dict, bool)) or out is None:
            return out
        return str(out)
    text = "".join(str(part) for part in chain(head, nodes))
    if text.startswith(("{", "[")) or text in ("True", "False"):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return text
    return text


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _combine(*dicts: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for item in dicts:
        merged.update(item)
    return merged


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", str(text)))


def _version(value: Any, other: Any, operator: str = "eq") -> bool:
    left, right = _version_key(value), _version_key(other)
    ops = {"<": left < right, "lt": left < right, "<=": left <= right, "le": left <= right}
    ops.update({">": left > right, "gt": left > right, ">=": left >= right, "ge": left >= right})
    ops.update({"==": left == right, "eq": left == right, "!=": left != right, "ne": left != right})
    return ops[operator]


class _Environment(ImmutableSandboxedEnvironment):
    """Jinja2 with the few Ansible filters and tests the roles' declarations use."""

    concat = staticmethod(_ansible_concat)


@functools.cache
def _environment(text_output: bool) -> ImmutableSandboxedEnvironment:
    env: ImmutableSandboxedEnvironment = (
        ImmutableSandboxedEnvironment if text_output else _Environment
    )(undefined=StrictUndefined, trim_blocks=True, keep_trailing_newline=True)
    env.filters.update(
        {
            "bool": _to_bool,
            "combine": _combine,
            "regex_replace": lambda value, pattern, repl: re.sub(pattern, repl, str(value)),
            "regex_findall": lambda value, pattern: re.findall(pattern, str(value)),
            "quote": lambda value: shlex.quote(str(value)),
            "to_json": lambda value: json.dumps(value),
            # Ansible's to_nice_json: 4-space indent, sorted keys, no space before a colon.
            "to_nice_json": lambda value: json.dumps(
                value, indent=4, sort_keys=True, separators=(",", ": ")
            ),
            "split": lambda value, sep=None: str(value).split(sep),
        }
    )
    env.tests["version"] = _version
    return env


@functools.lru_cache(maxsize=1024)
def _compiled(env: ImmutableSandboxedEnvironment, source: str) -> Template:
    """A template compiled once per environment and source text."""
    return env.from_string(source)


def _read(path: Path) -> str:
    return read_text(path, max_bytes=MIB, fix="reinstall gpuforge: its collection is incomplete")


@functools.cache
def _role_file(role: str, kind: str) -> dict[str, Any]:
    path = ROLES_DIR / role / kind / "main.yml"
    if not path.is_file():
        return {}
    return dict(load_yaml(_read(path), str(path)) or {})


class RoleScope(Mapping[str, Any]):
    """The variables one role sees: its defaults, then `inputs` (group_vars), then its vars.

    Values from the role's files are templated when read, as Ansible templates them lazily;
    `inputs` are data from gpuforge and are never templated.
    """

    def __init__(self, role: str, inputs: Mapping[str, Any]) -> None:
        self.role = role
        self.inputs = dict(inputs)
        self.defaults = _role_file(role, "defaults")
        self.vars = _role_file(role, "vars")
        self.cache: dict[str, Any] = {}
        self.native = _environment(text_output=False)
        self.text = _environment(text_output=True)
        self.globals = {"lookup": self._lookup, "ansible_managed": ANSIBLE_MANAGED}

    def __getitem__(self, key: str) -> Any:
        if key in self.cache:
            return self.cache[key]
        for source, templated in ((self.vars, True), (self.inputs, False), (self.defaults, True)):
            if key in source:
                try:
                    value = self.template(source[key]) if templated else source[key]
                except UndefinedError as error:
                    # As Ansible does: fail only where the value is used, not where it is named.
                    return self.native.undefined(hint=str(error), name=key)
                self.cache[key] = value
                return value
        if key in self.globals:
            return self.globals[key]
        return self.native.globals[key]

    def __iter__(self) -> Iterator[str]:
        return iter({*self.defaults, *self.inputs, *self.vars, *self.globals})

    def __len__(self) -> int:
        return len(set(self))

    def _render(self, env: ImmutableSandboxedEnvironment, source: str) -> Any:
        template = _compiled(env, source)
        # A shared context reads this mapping as it is, key by key: values are templated lazily.
        context = template.new_context(self, shared=True)  # type: ignore[arg-type]
        return env.concat(template.root_render_func(context))

    def template(self, value: Any) -> Any:
        """`value` (from the role's files) with every string in it templated in this scope."""
        if isinstance(value, str):
            return self._render(self.native, value) if "{" in value else value
        if isinstance(value, list):
            return [self.template(item) for item in value]
        if isinstance(value, dict):
            return {key: self.template(item) for key, item in value.items()}
        return value

    def _lookup(self, plugin: str, name: str, rstrip: bool = True) -> str:
        if plugin in ("file", "ansible.builtin.file"):
            # As Ansible's file lookup: the role's file as it is, its trailing space stripped
            # unless `rstrip=false`.
            text = _read(ROLES_DIR / self.role / "files" / name)
            return text.rstrip() if rstrip else text
        if plugin not in ("template", "ansible.builtin.template"):
            raise InputError(f"role {self.role}: lookup {plugin!r} is not supported here", "")
        return self.template_text(name)

    def template_text(self, name: str) -> str:
        """The text the role's template `name` renders to in this scope, as Ansible's template
        lookup gives it; NODE_CONTENT when it reads what only the node knows."""
        source = _read(ROLES_DIR / self.role / "templates" / name)
        try:
            return str(self._render(self.text, source))
        except UndefinedError:
            return NODE_CONTENT

    def declared(self, name: str, key: str | None = None) -> Any:
        """The role's variable `name` (or only its `key`) as plain data; None when the role does
        not define it, or when its value depends on what only the node knows (its facts)."""
        raw = self.vars.get(name, self.defaults.get(name))
        if raw is None or (key is not None and not isinstance(raw, dict)):
            return None
        try:
            return _plain(self[name] if key is None else self.template(raw.get(key)))
        except UndefinedError:
            return None
        except (TemplateError, KeyError, TypeError, ValueError) as error:
            raise InputError(
                f"role {self.role}: cannot evaluate {name}: {error}",
                "the role's declaration uses a variable or filter gpuforge does not provide; "
                "add it to gpuforge.desired",
            ) from error


def _plain(value: Any) -> Any:
    """`value` with every lazily failing Undefined in it made to fail now (StrictUndefined)."""
    if isinstance(value, Undefined):
        return str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def role_packages(role: str, inputs: Mapping[str, Any]) -> tuple[list[str], bool]:
    """(`NAME` or `NAME=PATTERN` entries, held) of the packages `role` installs with these inputs.

    Only the role's required packages: optional ones (kernel headers) depend on the node.
    """
    scope = RoleScope(role, inputs)
    packages = scope.declared(f"_{role}_stack", "packages") or []
    return [str(p) for p in packages], _to_bool(scope.declared(f"_{role}_stack", "hold"))


def _digest(entry: Mapping[str, Any]) -> str | None:
    content = entry.get("content")
    if content is None or content == NODE_CONTENT:
        return None
    return hashlib.sha256(str(content).encode()).hexdigest()


def role_files(
    role: str, inputs: Mapping[str, Any]
) -> list[tuple[str, str | None, str, str | None]]:
    """(path, SHA-256 of the content, mode, generator) of every file `role` writes with these
    inputs.

    The digest is None for a file whose content the node makes or decides (an entry without
    `content`, or one whose template reads the node's facts); the generator names the tool
    that makes it there (the entry's `generated`), if any.
    """
    files = RoleScope(role, inputs).declared(f"_{role}_files") or []
    return [
        (
            str(entry["dest"]),
            _digest(entry),
            str(entry.get("mode", "0644")),
            str(entry["generated"]) if entry.get("generated") else None,
        )
        for entry in files
    ]


def role_modules(role: str, inputs: Mapping[str, Any]) -> list[str]:
    """The kernel modules `role` loads with these inputs (its `_<role>_modules_loaded`)."""
    modules = RoleScope(role, inputs).declared(f"_{role}_modules_loaded") or []
    return [str(name).replace("-", "_") for name in modules]


def role_runtimes(role: str, inputs: Mapping[str, Any]) -> list[dict[str, str]]:
    """The container engines `role` makes nvidia the default runtime of (`_<role>_runtimes`):
    each an `engine`, its `daemon`, its `config` file and the `marker` text it then contains."""
    runtimes = RoleScope(role, inputs).declared(f"_{role}_runtimes") or []
    keys = ("engine", "daemon", "config", "marker")
    return [{key: str(entry[key]) for key in keys} for entry in runtimes]


def role_option(role: str, inputs: Mapping[str, Any], name: str) -> Any:
    """The value `role` sees for its option `name`: from `inputs`, else the role's default."""
    scope = RoleScope(role, inputs)
    try:
        return _plain(scope[name])
    except KeyError:
        return None


def role_units(role: str, inputs: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """(unit, must run) of every systemd unit `role` enables with these inputs.

    `_<role>_units` is one group (`names`, `started`: true when absent) or a list of groups.
    """
    declared = RoleScope(role, inputs).declared(f"_{role}_units") or {}
    groups = declared if isinstance(declared, list) else [declared]
    return [
        (name if "." in name else f"{name}.service", _to_bool(group.get("started", True)))
        for group in groups
        for name in group.get("names", [])
    ]
