"""The JSON Schema of each command's `--json` answer, shipped in `gpuforge/cli/schemas/`."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any


def command_schema(command: str) -> dict[str, Any]:
    """The schema of `gpuforge COMMAND --json` (`fleet status` -> schemas/fleet-status.json)."""
    resource = files("gpuforge.cli").joinpath("schemas", f"{command.replace(' ', '-')}.json")
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return schema


def schema_commands() -> list[str]:
    """Every command that has a published schema, as typed on the command line."""
    folder = files("gpuforge.cli").joinpath("schemas")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".json"))
    schemas = [json.loads(folder.joinpath(n).read_text(encoding="utf-8")) for n in names]
    return [str(schema["properties"]["command"]["const"]) for schema in schemas]
