# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A disk cache of compiled Jinja2 templates, shared by Ansible's worker processes.

ansible-core 2.18 compiles every template string again each time it renders it, and a linear
play does that in a fresh worker process per task and host, so the same few hundred strings
are parsed and compiled thousands of times per run. `install(folder)` makes Ansible's Jinja2
environments keep the compiled code of a string under `folder`, keyed by the source and every
environment setting that shapes the code; a worker that meets the string again loads the code
instead of compiling it.

The cached code is generated without Jinja2's constant folding, so a filter in the template
runs at render time, as it does when Ansible compiles a string just before rendering it: a
`random` or `strftime` is not frozen into the cache. The filters and tests a template names are
looked up when it is compiled; their presence and calling convention are stored with the code
and checked on load, so a plugin that changes them gets the template compiled anew.

Each process also keeps the code it loaded or compiled in memory. The process that installed
the cache (the controller, where the strategy loads) reads and checks the entries the folder
gained since it last looked, when it compiles and (`ReadBeforeFork`) before it forks a worker,
so its workers inherit the checked code, and the filter and test plugins it names, without
opening a file.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import marshal
import os
import re
import sys
import tempfile
from types import CodeType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import TemplateSyntaxError
from jinja2.utils import _PassArg

import ansible.release
import ansible.template
from ansible import constants as C

_DEPENDENCY = re.compile(r"environment\.(filters|tests)\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]")
_ORIGINAL_COMPILE = ansible.template.AnsibleEnvironment.compile
_FOLDER_MODE = 0o700
_RENDER_TIME_GENERATORS: dict[type, type] = {}
# A folder holds the strings of the playbooks and inventories run with it: a few hundred. Past
# this many files it is emptied rather than pruned, so old settings cannot pile up.
_MAX_ENTRIES = 4096
ENV_VAR = "GPUFORGE_TEMPLATE_CACHE"
# Part of every key: a change to how this module generates code makes all old entries misses.
_FORMAT = "gpuforge-render-time-1"


def install_from_config() -> str | None:
    """Install the cache where `GPUFORGE_TEMPLATE_CACHE` says, by default under ANSIBLE_HOME.

    `GPUFORGE_TEMPLATE_CACHE=off` leaves Ansible's templating as it is. Returns the folder used.
    """
    setting = os.environ.get(ENV_VAR)
    if setting == "off":
        return None
    folder = setting or os.path.join(C.config.get_config_value("ANSIBLE_HOME"), "gpuforge", "templates")
    try:
        install(folder)
    except OSError:
        return None
    return folder


class _Memory:
    """The code this process has loaded or compiled, by entry name, and how far it read the folder.

    `owner` is the process that installed the cache: only it reads the whole folder, since the
    workers it forks inherit what it read.
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.owner = os.getpid()
        self.code: dict[str, CodeType] = {}
        self.read: set[str] = set()
        self.folder_mtime: float | None = None
        self.environment: Any = None

    def refresh(self) -> None:
        """In the owner: load and check the entries added to the folder since it last looked.

        Entries are checked against an environment of its own: filters and tests resolve
        through the process's plugin loaders, the same for every Ansible environment.
        """
        if os.getpid() != self.owner:
            return
        try:
            mtime = os.stat(self.folder).st_mtime
            if mtime == self.folder_mtime:
                return
            names = [name for name in os.listdir(self.folder) if not name.startswith(".")]
        except OSError:
            return
        self.folder_mtime = mtime
        if self.environment is None:
            self.environment = ansible.template.AnsibleEnvironment()
        for name in names:
            if name not in self.read:
                self.read.add(name)
                code = _load(self.environment, os.path.join(self.folder, name))
                if code is not None:
                    self.code.setdefault(name, code)


class ReadBeforeFork:
    """Strategy mixin: the controller takes in the cache's new entries before a worker forks."""

    def _queue_task(self, host: Any, task: Any, task_vars: Any, play_context: Any) -> Any:
        """Refresh the installed cache's memory, then queue the worker as the strategy does."""
        memory = getattr(ansible.template.AnsibleEnvironment, "_gpuforge_cache_memory", None)
        if memory is not None:
            memory.refresh()
        return super()._queue_task(host, task, task_vars, play_context)  # type: ignore[misc]


def install(folder: str) -> None:
    """Make every Ansible Jinja2 environment in this process cache compiled strings in `folder`."""
    os.makedirs(folder, mode=_FOLDER_MODE, exist_ok=True)
    entries = os.listdir(folder)
    if len(entries) > _MAX_ENTRIES:
        for entry in entries:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, entry))
    ansible.template.AnsibleEnvironment.compile = _cached_compile  # type: ignore[method-assign]
    ansible.template.AnsibleEnvironment._gpuforge_cache_memory = _Memory(folder)  # type: ignore[attr-defined]


def _cached_compile(
    env: Any,
    source: Any,
    name: str | None = None,
    filename: str | None = None,
    raw: bool = False,
    defer_init: bool = False,
) -> Any:
    """Jinja2's `Environment.compile`, served from the cache for plain template strings."""
    if raw or defer_init or name is not None or filename is not None or not isinstance(source, str):
        return _ORIGINAL_COMPILE(env, source, name, filename, raw, defer_init)
    memory = env._gpuforge_cache_memory
    memory.refresh()
    name = _key(env, source)
    code = memory.code.get(name)
    if code is not None:
        return code
    path = os.path.join(memory.folder, name)
    code = _load(env, path)
    if code is None:
        code, dependencies = _compile(env, source)
        _store(path, code, dependencies)
    memory.code[name] = code
    return code


def _key(env: Any, source: str) -> str:
    """The file name of a string's code: a digest of the source and the settings that shape it."""
    shape = (
        _FORMAT,
        sys.version_info[:2],
        jinja2.__version__,
        ansible.release.__version__,
        type(env).__module__,
        type(env).__qualname__,
        env.code_generator_class.__qualname__,
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.is_async,
        _name_of(env.finalize),
        _name_of(env.autoescape) if callable(env.autoescape) else env.autoescape,
        sorted(env.extensions),
        source,
    )
    return hashlib.sha256(repr(shape).encode("utf-8", "surrogatepass")).hexdigest()


def _name_of(thing: Any) -> str | None:
    """A callable's module and qualified name, or None: what identifies it across processes."""
    if thing is None:
        return None
    return f"{getattr(thing, '__module__', '')}.{getattr(thing, '__qualname__', type(thing).__qualname__)}"


def _compile(env: Any, source: str) -> tuple[CodeType, list[tuple[str, str, bool, str]]]:
    """Compile `source` without constant folding; list the filters and tests the code looks up."""
    python = _python_source(env, source)
    code = env._compile(python, "<template>")
    dependencies = [
        (kind, name, *_calling(env, kind, name))
        for kind, literal in sorted(set(_DEPENDENCY.findall(python)))
        for name in [ast.literal_eval(literal)]
    ]
    return code, dependencies


def _python_source(env: Any, source: str) -> str:
    """The Python code of a template that evaluates every expression when it is rendered.

    Jinja2 folds constant expressions at compile time: through its optimizer, and for each
    `{{ }}` whose filters get only literals (`{{ 100 | random }}`) even without it. Both are
    off here, so the code is the same whichever render compiled it.
    """
    generator_class = _RENDER_TIME_GENERATORS.get(env.code_generator_class)
    if generator_class is None:
        generator_class = type(
            "RenderTime" + env.code_generator_class.__name__,
            (env.code_generator_class,),
            {"_output_child_to_const": _literal_output_only},
        )
        _RENDER_TIME_GENERATORS[env.code_generator_class] = generator_class
    generator = generator_class(env, None, None, None, False, False)
    generator.visit(env._parse(source, None, None))
    return str(generator.stream.getvalue())


def _literal_output_only(generator: Any, node: Any, frame: Any, finalize: Any) -> str:
    """Fold only literal text and constants into the code; any other output waits for render."""
    if not isinstance(node, (nodes.TemplateData, nodes.Const)):
        raise nodes.Impossible()
    return str(CodeGenerator._output_child_to_const(generator, node, frame, finalize))


def _calling(env: Any, kind: str, name: str) -> tuple[bool, str]:
    """Whether the filter or test exists here, and what it asks Jinja2 to pass it first."""
    try:
        func = getattr(env, kind)[name]
    except (KeyError, TemplateSyntaxError):
        return False, ""
    return True, str(_PassArg.from_obj(func))


def _load(env: Any, path: str) -> CodeType | None:
    """The cached code at `path` when it exists, is readable and its filters are still the same."""
    try:
        with open(path, "rb") as handle:
            dependencies, code = marshal.load(handle)
        unchanged = all(
            _calling(env, kind, name) == (present, calling) for kind, name, present, calling in dependencies
        )
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return code if unchanged and isinstance(code, CodeType) else None


def _store(path: str, code: CodeType, dependencies: list[tuple[str, str, bool, str]]) -> None:
    """Write the code atomically; a worker that loses a race or a full disk just compiles again."""
    try:
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            marshal.dump((dependencies, code), out)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
