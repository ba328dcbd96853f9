"""Read a spec file with ruamel.yaml, keeping line/column of every key, and validate it.

Every problem, from YAML syntax to a wrong field, becomes a `Problem` naming file, line,
column and field path with a "To fix:" hint; all problems are reported at once (SpecError).
The file is read and its YAML composed by `gpuforge.files` first (regular files only, size
capped, no alias bombs or Python tags), so nothing hostile is ever constructed.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from gpuforge.errors import FileError, InputError, Location, MissingFileError, Problem, SpecError
from gpuforge.files import check_yaml, read_text
from gpuforge.spec._models import ClusterSpec

PathKey = tuple[str | int, ...]
MAX_SPEC_BYTES = 4 * 1024 * 1024
_READ_FIX = "pass a UTF-8 YAML file of at most 4 MiB"
_VALUE_KINDS = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string",
}
_DUPLICATE_KEY = re.compile(r'found duplicate key "(.*?)"')


class SpecDocument:
    """A loaded spec: the validated model plus the position of every key in the file."""

    def __init__(self, spec: ClusterSpec, file: str, positions: dict[PathKey, tuple[int, int]]):
        self.spec = spec
        self.file = file
        self.positions = positions

    def locate(self, *path: str | int) -> Location:
        """The file position of a field path, falling back to its nearest written parent."""
        return _locate(self.file, self.positions, tuple(path))


def _locate(file: str, positions: dict[PathKey, tuple[int, int]], path: PathKey) -> Location:
    shown = _path_text(path)
    probe = path
    while probe and probe not in positions:
        probe = probe[:-1]
    line, column = positions.get(probe, (0, 0))
    return Location(file, line, column, shown)


def _path_text(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _plain(node: Any, path: PathKey, positions: dict[PathKey, tuple[int, int]]) -> Any:
    """Copy ruamel's node tree into plain Python values, recording each key's position."""
    if isinstance(node, CommentedMap):
        result: dict[Any, Any] = {}
        for key in node:
            child = (*path, str(key))
            line, col = node.lc.key(key)
            positions[child] = (line + 1, col + 1)
            result[str(key)] = _plain(node[key], child, positions)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = (*path, index)
            line, col = node.lc.item(index)
            positions[child] = (line + 1, col + 1)
            items.append(_plain(value, child, positions))
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def _map_at(node: Any, path: PathKey, line: int, column: int) -> PathKey | None:
    """The path of the mapping that starts at (line, column), 0-based as ruamel counts."""
    if isinstance(node, CommentedMap):
        if (node.lc.line, node.lc.col) == (line, column):
            return path
        children: list[tuple[str | int, Any]] = [(str(k), v) for k, v in node.items()]
    elif isinstance(node, CommentedSeq):
        children = list(enumerate(node))
    else:
        return None
    for key, child in children:
        found = _map_at(child, (*path, key), line, column)
        if found is not None:
            return found
    return None


def _duplicate_path(text: str, error: DuplicateKeyError) -> PathKey:
    """The field path of a duplicated key: reload allowing duplicates, find its mapping."""
    match = _DUPLICATE_KEY.search(error.problem or "")
    mark = error.context_mark
    if match is None or mark is None:
        return ()
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    try:
        parent = _map_at(yaml.load(text), (), mark.line, mark.column)
    except (YAMLError, ValueError, TypeError, RecursionError, AttributeError):
        return ()
    return () if parent is None else (*parent, match.group(1))


def _fields_of(path: PathKey) -> list[str]:
    """Names a user may write at `path` (for did-you-mean hints on unknown fields)."""
    annotation: Any = ClusterSpec
    for part in path:
        model = _model_in(annotation)
        origin = getattr(annotation, "__origin__", None)
        if origin in (dict, list):
            annotation = annotation.__args__[-1]
        elif model is not None:
            info = model.model_fields.get(str(part)) or next(
                (f for f in model.model_fields.values() if f.alias == part), None
            )
            if info is None:
                return []
            annotation = info.annotation
        else:
            return []
    model = _model_in(annotation)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if getattr(annotation, "__origin__", None) in (dict, list):
        return None
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _fix_for(error: ErrorDetails, path: PathKey) -> str:
    kind = error["type"]
    names = [str(p) for p in path if isinstance(p, str)]
    field = names[-1] if names else "the document"
    if kind == "extra_forbidden":
        allowed = _fields_of(path[:-1])
        close = difflib.get_close_matches(field, allowed, n=1)
        if close:
            return f"did you mean `{close[0]}`? Rename the field."
        return f"remove `{field}`" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return f"add `{field}:` here"
    if kind.startswith("literal_error"):
        expected = error.get("ctx", {}).get("expected", "")
        return f"use one of {expected}"
    if kind in _VALUE_KINDS:
        return f"write {_VALUE_KINDS[kind]} for `{field}`"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"change `{field}` to a value within the allowed range"
    if kind == "too_short":
        return f"`{field}` needs at least one entry"
    return f"correct `{field}` as the message says"


def _user_path(data: Any, loc: tuple[str | int, ...]) -> PathKey:
    """The part of a pydantic error location the user wrote: keys found in the data are kept
    (even `a[b]`), validator tags such as `function-before[...]` are dropped."""
    path: list[str | int] = []
    node = data
    for part in loc:
        written = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if written:
            node = node[part]
        elif isinstance(part, str) and "[" in part:
            continue
        else:
            node = None
        path.append(part)
    return tuple(path)


def _problems(
    error: ValidationError, data: Any, file: str, positions: dict[PathKey, tuple[int, int]]
) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        path = _user_path(data, item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        fix = _fix_for(item, path)
        if item["type"] == "extra_forbidden":
            message = f"unknown field `{path[-1]}`"
        elif item["type"] == "value_error" and "; " in message:
            message, fix = message.split("; ", 1)
        problems.append(Problem(_locate(file, positions, path), message, fix))
    return problems


def load_spec_text(text: str, file: str = "<spec>") -> SpecDocument:
    """Parse and validate spec text; raises SpecError listing every problem with its location."""
    if len(text.encode("utf-8", "replace")) > MAX_SPEC_BYTES:
        raise SpecError([Problem(Location(file), "file is larger than 4 MiB", "split the spec")])
    try:
        check_yaml(text, file)
    except FileError as error:
        raise SpecError(error.problems) from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        raw = yaml.load(text)
    except DuplicateKeyError as error:
        mark = error.problem_mark
        shown = _path_text(_duplicate_path(text, error))
        where = Location(file, mark.line + 1, mark.column + 1, shown) if mark else Location(file)
        raise SpecError(
            [Problem(where, "duplicate key: " + (error.problem or "").strip(), "keep one of them")]
        ) from None
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        message = f"invalid YAML: {error.problem or error.context}"
        raise SpecError([Problem(where, message, "fix the YAML syntax at this position")]) from None
    except (YAMLError, ValueError, TypeError, RecursionError, AttributeError) as error:
        raise SpecError(
            [Problem(Location(file), f"invalid YAML: {error}", "fix the YAML syntax")]
        ) from None
    if not isinstance(raw, CommentedMap):
        raise SpecError(
            [
                Problem(
                    Location(file, 1, 1),
                    "a spec must be a YAML mapping (apiVersion, kind, name, target, pools...)",
                    "start from examples/local.yaml",
                )
            ]
        )
    positions: dict[PathKey, tuple[int, int]] = {(): (1, 1)}
    try:
        data = _plain(raw, (), positions)
    except RecursionError:
        raise SpecError(
            [Problem(Location(file), "document nests too deeply", "flatten it")]
        ) from None
    try:
        spec = ClusterSpec.model_validate(data)
    except ValidationError as error:
        raise SpecError(_problems(error, data, file, positions)) from None
    return SpecDocument(spec, file, positions)


def load_spec(path: str | Path) -> SpecDocument:
    """Read and validate a spec file; InputError when unreadable, SpecError when invalid."""
    file = Path(path)
    try:
        text = read_text(file, max_bytes=MAX_SPEC_BYTES, fix=_READ_FIX)
    except MissingFileError:
        raise InputError(f"{file}: no such file", "check the path to the spec") from None
    except FileError as error:
        raise SpecError(error.problems) from None
    return load_spec_text(text, str(file))
