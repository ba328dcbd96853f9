"""Provider schemas, offline, from the prebuilt CDK for Terraform provider packages on PyPI.

scripts/setup-provider-schemas.sh installs `cdktf-cdktf-provider-<name>` at the pinned versions
into `.venv-provider-schemas/schemas/<provider>-<provider version>/`. Each package ships its
provider's jsii assembly (`_jsii/*.jsii.tgz`, `package/.jsii`): every resource and data source
class, its config struct and the nested block structs, with each property's Terraform name (in
its registry link) and whether it is optional. Nothing is run: the assembly is JSON. Reading it
takes seconds and most of a gigabyte for AWS, so the extract below is cached next to it.
"""

from __future__ import annotations

import json
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMAS_DIR = REPO_ROOT / ".venv-provider-schemas" / "schemas"
SETUP_HINT = "run scripts/setup-provider-schemas.sh to create .venv-provider-schemas"
_CACHE = "gpuforge-schema.json"
_CACHE_FORMAT = 1
_BASES = {"cdktf.TerraformResource": "resource", "cdktf.TerraformDataSource": "data"}
_REGISTRY_LINK = re.compile(r"docs/(?:resources|data-sources)/\S+ (?P<name>\S+)\}")
_TF_NAME = re.compile(r"#(?P<name>[A-Za-z0-9_]+) [A-Za-z0-9_]+#")


@dataclass(frozen=True)
class Schema:
    """One provider version: resource/data-source roots and the structs they refer to.

    `roots` maps `resource.aws_instance` or `data.aws_ami` to a struct id; each struct maps its
    arguments to "required?" and its nested blocks to [struct id, required?].
    """

    provider: str
    version: str
    roots: dict[str, str]
    structs: dict[str, dict[str, Any]]

    def struct(self, struct_id: str) -> dict[str, Any]:
        """The arguments and blocks of one struct."""
        return self.structs[struct_id]


def installed_versions(provider: str) -> list[Path]:
    """The installed schema folders of one provider (`aws-5.60.0`, `aws-6.25.0`), oldest first."""
    found = [p for p in SCHEMAS_DIR.glob(f"{provider}-*") if (p / ".installed").exists()]
    return sorted(found, key=lambda p: tuple(int(x) for x in p.name.split("-", 1)[1].split(".")))


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _tf_name(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    found = _TF_NAME.search(docs.get("remarks", "") + " " + docs.get("summary", ""))
    return found.group("name") if found else _camel_to_snake(prop["name"])


def _struct_ref(kind: dict[str, Any], types: dict[str, Any]) -> str | None:
    """The fqn of a struct (block) a property's type refers to, through unions and lists."""
    if "fqn" in kind:
        target = types.get(kind["fqn"])
        is_struct = target is not None and target.get("datatype") and target["kind"] == "interface"
        return kind["fqn"] if is_struct else None
    if "union" in kind:
        refs = [_struct_ref(k, types) for k in kind["union"]["types"]]
        return next((r for r in refs if r), None)
    if "collection" in kind:
        return _struct_ref(kind["collection"]["elementtype"], types)
    return None


def _extract(assembly: dict[str, Any]) -> dict[str, Any]:
    types: dict[str, Any] = assembly["types"]
    roots: dict[str, str] = {}
    structs: dict[str, dict[str, Any]] = {}
    pending: list[str] = []
    for cls in types.values():
        kind = _BASES.get(cls.get("base", ""))
        link = _REGISTRY_LINK.search(cls.get("docs", {}).get("summary", ""))
        if cls.get("kind") != "class" or kind is None or link is None:
            continue
        config = cls["initializer"]["parameters"][-1]["type"]["fqn"]
        roots[f"{kind}.{link.group('name')}"] = config
        pending.append(config)
    while pending:
        fqn = pending.pop()
        if fqn in structs:
            continue
        arguments: dict[str, bool] = {}
        blocks: dict[str, list[Any]] = {}
        for prop in types[fqn].get("properties", []):
            required = not prop.get("optional", False)
            ref = _struct_ref(prop["type"], types)
            if ref is None:
                arguments[_tf_name(prop)] = required
            else:
                blocks[_tf_name(prop)] = [ref, required]
                pending.append(ref)
        structs[fqn] = {"arguments": arguments, "blocks": blocks}
    return {"format": _CACHE_FORMAT, "roots": roots, "structs": structs}


def load_schema(folder: Path) -> Schema:
    """The schema of one installed provider version, from its cache or its jsii assembly."""
    provider, version = folder.name.split("-", 1)
    cache = folder / _CACHE
    data: dict[str, Any] | None = None
    if cache.exists():
        data = json.loads(cache.read_text(encoding="utf-8"))
    if data is None or data.get("format") != _CACHE_FORMAT:
        [bundle] = folder.glob("cdktf_cdktf_provider_*/_jsii/*.jsii.tgz")
        with tarfile.open(bundle) as archive:
            member = archive.extractfile("package/.jsii")
            assert member is not None, f"{bundle} holds no package/.jsii"
            data = _extract(json.load(member))
        cache.write_text(json.dumps(data), encoding="utf-8")
    return Schema(provider, version, data["roots"], data["structs"])


# Meta-arguments Terraform itself handles, on any resource or data block.
META_ARGUMENTS = {"count", "for_each", "provider", "depends_on", "lifecycle"}
META_BLOCKS = {"lifecycle", "provisioner", "connection"}


def _walk(body: dict[str, Any], schema: Schema, struct_id: str, where: str) -> list[str]:
    struct = schema.struct(struct_id)
    problems: list[str] = []
    written: dict[str, list[dict[str, Any]]] = {}
    dynamic_names: set[str] = set()
    for entry in body.get("dynamic", []):
        for label, dynamic in entry.items():
            name = label.strip('"')
            dynamic_names.add(name)
            written.setdefault(name, []).extend(dynamic.get("content", []))
    for key, value in body.items():
        if key.startswith("__") or key == "dynamic":
            continue
        if key in struct["arguments"]:
            continue
        if key in struct["blocks"]:
            items = value if isinstance(value, list) else [value]
            written.setdefault(key, []).extend(i for i in items if isinstance(i, dict))
            continue
        problems.append(
            f"{where}: {key!r} is no argument or block of {schema.provider} {schema.version}"
        )
    for name, items in written.items():
        if name not in struct["blocks"]:
            problems.append(
                f"{where}: dynamic block {name!r} is no block of {schema.provider} {schema.version}"
            )
            continue
        for item in items:
            problems += _walk(item, schema, struct["blocks"][name][0], f"{where}.{name}")
    for name, required in struct["arguments"].items():
        if required and name not in body:
            problems.append(f"{where}: required argument {name!r} is not set")
    for name, (_, required) in struct["blocks"].items():
        if required and name not in body and name not in dynamic_names:
            problems.append(f"{where}: required block {name!r} is missing")
    return problems


def check_module(module: Path, schema: Schema, load: Any, unquote: Any) -> list[str]:
    """Every resource type, data source, argument and nested block a module's .tf files use,
    against one provider version: what does not exist, and required arguments left unset."""
    problems: list[str] = []
    for path in sorted(module.glob("*.tf")):
        parsed = load(path)
        for kind in ("resource", "data"):
            for entry in parsed.get(kind, []):
                for rtype, named in entry.items():
                    rtype = unquote(rtype)
                    if not rtype.startswith(f"{schema.provider}_"):
                        continue  # another provider's (or Terraform's own) resource
                    for name, body in named.items():
                        where = f"{path.name}: {kind} {rtype}.{unquote(name)}"
                        root = schema.roots.get(f"{kind}.{rtype}")
                        if root is None:
                            problems.append(
                                f"{where}: no such {kind} in {schema.provider} {schema.version}"
                            )
                            continue
                        own = {k: v for k, v in body.items() if k not in META_ARGUMENTS}
                        problems += _walk(own, schema, root, where)
    return problems
