"""No file of the gpuforge.gpu collection touches a private part of ansible-core, Jinja2 or mitogen.

Private means a name with a leading underscore that the collection does not define itself: a
module path or name imported from those libraries, an attribute read or written on their objects
(`strategy._queued_task_cache`), or the same through getattr/setattr, in Python; an attribute
access like `x._name` in the playbooks, roles and templates. Such code breaks on the next
ansible-core and is unreadable to anyone who knows Ansible.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
COLLECTION = REPO / "src" / "gpuforge" / "ansible_collections" / "gpuforge" / "gpu"
LIBRARIES = ("ansible", "jinja2", "mitogen", "ansible_mitogen")
# ActionBase's members that Ansible's guide to developing action plugins has plugins use: the
# task (its args) and the call that runs a module on the host.
DOCUMENTED = frozenset(("_task", "_execute_module"))
# `x._name` in YAML or a template (Jinja attribute access).
TEMPLATE_ACCESS = re.compile(r"[\w)\]]\._[A-Za-z]\w*")
# What ansible-test sanity leaves in the collection (git ignores it).
SCRATCH = Path("tests/output")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _init_attributes(function: ast.FunctionDef) -> set[str]:
    """The attributes an `__init__` creates (`self._x = ...`): the class's own, not a base's."""
    if function.name != "__init__":
        return set()
    targets = [
        target
        for node in ast.walk(function)
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
    ]
    return {
        target.attr
        for target in targets
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    }


def _own_names(trees: list[ast.Module]) -> set[str]:
    """Every name the collection's Python defines: functions, classes, variables, and the
    attributes its classes create in `__init__`."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                names |= _init_attributes(node)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


def _library_module(module: str) -> bool:
    return module.split(".")[0] in LIBRARIES


def _reflected(node: ast.AST, own: set[str]) -> str | None:
    """The private name of a getattr/setattr/delattr/hasattr call, when not the collection's."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    if node.func.id not in ("getattr", "setattr", "delattr", "hasattr") or len(node.args) < 2:
        return None
    name = node.args[1]
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    return name.value if _private(name.value) and name.value not in own else None


def _python_findings(tree: ast.Module, own: set[str]) -> list[str]:
    """Each private use of a library in one parsed file, as `line: what`."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and _library_module(node.module):
            parts = node.module.split(".") + [alias.name for alias in node.names]
            found += [f"{node.lineno}: from {node.module} import {p}" for p in parts if _private(p)]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _library_module(alias.name) and any(map(_private, alias.name.split("."))):
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            if node.attr not in own and node.attr not in DOCUMENTED:
                found.append(f"{node.lineno}: .{node.attr}")
        elif (reflected := _reflected(node, own)) is not None:
            found.append(f"{node.lineno}: reflection on {reflected!r}")
    return found


def findings(root: Path) -> dict[str, list[str]]:
    """Every private use of ansible-core, Jinja2 or mitogen under `root`, by relative path."""
    files = sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and SCRATCH not in path.relative_to(root).parents
    )
    python = {
        path: ast.parse(path.read_text(encoding="utf-8")) for path in files if path.suffix == ".py"
    }
    own = _own_names(list(python.values()))
    found: dict[str, list[str]] = {}
    for path in files:
        if path in python:
            problems = _python_findings(python[path], own)
        else:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            problems = [
                f"{number}: {match.group(0)}"
                for number, line in enumerate(text.splitlines(), start=1)
                for match in TEMPLATE_ACCESS.finditer(line)
            ]
        if problems:
            found[str(path.relative_to(root))] = problems
    return found


def test_the_collection_uses_no_private_internals() -> None:
    assert findings(COLLECTION) == {}


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("jinja.py", "from jinja2.utils import _PassArg\n", "1: from jinja2.utils import _PassArg"),
        ("planner.py", "import ansible_mitogen.planner as p\np._load_collections = 1\n", "2: ."),
        ("strategy.py", "class S(B):\n def run(self):\n  self._pending += 1\n", "3: ._pend"),
        ("cb.py", "def f(r):\n    return getattr(r, '_result')\n", "2: reflection on '_result'"),
        ("core.py", "from ansible.module_utils._text import to_bytes\n", "1: from"),
        ("play.yml", "- debug:\n    msg: '{{ result._result }}'\n", "2: t._result"),
    ],
)
def test_private_uses_are_found(tmp_path: Path, name: str, text: str, expected: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "own.py").write_text("class A:\n    def __init__(self):\n        self._mine = 1\n")
    (tmp_path / "uses.py").write_text("def f(a):\n    return a._mine\n")
    found = findings(tmp_path)
    assert list(found) == [name]
    (problem,) = found[name]
    assert problem.startswith(expected)
