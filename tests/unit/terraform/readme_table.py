"""Write (or check) the inputs/outputs tables of each module's README, terraform-docs style.

The tables sit between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`. After changing a
module's variables or outputs, regenerate them with:

    .venv/bin/python tests/unit/terraform/readme_table.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hcl import module_dirs, outputs, unquote, variables

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def _cell(text: str) -> str:
    """Escape a value for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _default(body: dict[str, Any]) -> str:
    """The default of a variable as written in the table; required variables have none."""
    if "default" not in body:
        return "required"
    value = body["default"]
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict):
        shown = ", ".join(
            f"{unquote(k)} = {unquote(v)}" for k, v in value.items() if not k.startswith("__")
        )
        return f"`{{{shown}}}`" if shown else "`{}`"
    return f"`{unquote(value)}`"


def render_tables(module: Path) -> str:
    """The Markdown tables of a module's inputs and outputs, in declaration order."""
    lines = ["## Inputs", "", "| Name | Description | Type | Default |", "|---|---|---|---|"]
    for name, body in variables(module).items():
        kind = str(body.get("type", "")).removeprefix("${").removesuffix("}")
        description = str(unquote(body.get("description", "")))
        lines.append(
            f"| `{name}` | {_cell(description)} | `{_cell(kind)}` | {_cell(_default(body))} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "|---|---|"]
    for name, body in outputs(module).items():
        lines.append(f"| `{name}` | {_cell(str(unquote(body.get('description', ''))))} |")
    return "\n".join(lines)


def documented_section(readme: str) -> str:
    """The text between the BEGIN/END markers of a README ("" when they are missing)."""
    if BEGIN not in readme or END not in readme:
        return ""
    return readme.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def write_tables(module: Path) -> bool:
    """Rewrite the tables in the module's README; True when the file changed."""
    readme_path = module / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    if BEGIN not in readme or END not in readme:
        raise SystemExit(f"{readme_path}: add the {BEGIN} and {END} markers first")
    head, rest = readme.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    updated = f"{head}{BEGIN}\n{render_tables(module)}\n{END}{tail}"
    if updated != readme:
        readme_path.write_text(updated, encoding="utf-8")
        return True
    return False


if __name__ == "__main__":
    for folder in module_dirs():
        if write_tables(folder):
            print(f"updated {folder / 'README.md'}")
