"""Spec text is data in every rendered language: HCL never evaluates it, Ansible never templates it.

Terraform itself (the real binary) evaluates what the HCL writer produces for hostile strings,
as values and as map keys. A property test puts hostile strings into every free-text field the
spec has: the spec layer refuses them naming the field, or the rendered files parse (Terraform
reads the HCL, Ansible's own loader the group_vars, JSON the tfvars) and carry them literally.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.utils.unsafe_proxy import AnsibleUnsafe
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gpuforge.errors import SpecError
from gpuforge.render import GROUP_VARS_DIR, literal, quoted, render_group_vars

from .conftest import REPO_ROOT, render, solve

TERRAFORM = shutil.which("tofu") or shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="no tofu/terraform on PATH")

# Pieces of hostile text: templates of Jinja and HCL, quotes, escapes, line breaks, NUL, emoji,
# shell metacharacters.
FRAGMENTS = [
    "{{ lookup('pipe', 'touch /tmp/gpuforge-pwned') }}",
    "{% for x in range(3) %}x{% endfor %}",
    "{# comment #}",
    "${file(var.ssh_public_key)}",
    "${path.cwd}",
    "$${",
    "$$${x}",
    "%{ if true }yes%{ endif }",
    "%%{",
    '"',
    "'",
    "\\",
    "\\n",
    "\n",
    "\r\n",
    "\t",
    "\x00",
    "\u2028",
    "😀",
    "👨‍👩‍👧",
    "é",
    "$(touch /tmp/gpuforge-pwned)",
    "`id`",
    "; rm -rf / #",
    "&& reboot ||",
    "| cat",
    "> /etc/passwd",
    "[trusted=yes]",
    " ",
    "=",
    "%",
    "a",
]
CORPUS = [
    *FRAGMENTS,
    "".join(FRAGMENTS),
    "x${a}y%{b}z$${c}%%{d}$$${e}",
    "\\${not.escaped}",
    "${",
    "}",
    "$",
    "%",
]
PRINTABLE = [text for text in FRAGMENTS if text.isprintable()]
# Half the examples use printable pieces only, which more fields accept.
hostile = st.one_of(
    st.lists(st.sampled_from(PRINTABLE), min_size=1, max_size=5),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), min_size=1, max_size=5),
).map("".join)

TARGETS = {
    "aws": "aws/us-east-1",
    "azure": "azure/eastus",
    "gcp": "gcp/us-central1",
    "local": "local",
}
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


def _terraform_values(expressions: dict[str, str], work: Path) -> dict[str, Any]:
    """Each named HCL expression as Terraform evaluates it (one `apply` of outputs only)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "main.tf").write_text(
        "".join(
            f'output "{name}" {{\n  value = {text}\n}}\n' for name, text in expressions.items()
        ),
        encoding="utf-8",
    )
    env = {"TF_CLI_CONFIG_FILE": "/dev/null", "TF_IN_AUTOMATION": "1", "PATH": "/usr/bin:/bin"}
    assert TERRAFORM is not None
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        done = subprocess.run(
            [TERRAFORM, f"-chdir={work}", *args, "-no-color"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    shown = subprocess.run(
        [TERRAFORM, f"-chdir={work}", "output", "-json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {name: entry["value"] for name, entry in json.loads(shown.stdout).items()}


@needs_terraform
def test_terraform_reads_every_quoted_string_literally(tmp_path: Path) -> None:
    values = "[" + ", ".join(quoted(text) for text in CORPUS) + "]"
    # Map keys as the HCL writer writes them: quoted, or bare when they are identifiers.
    keys = {text: i for i, text in enumerate([*CORPUS, "½", "é", "gpuforge-pool", "_x", "9a"])}
    out = _terraform_values({"values": values, "keys": literal(keys)}, tmp_path / "tf")
    assert out["values"] == CORPUS
    assert out["keys"] == keys


def _azure_spec(labels: dict[str, str]) -> str:
    return json.dumps(
        {
            "apiVersion": "gpuforge/v1",
            "kind": "Cluster",
            "name": "hostile",
            "target": "azure/eastus",
            "pools": {"train": {"gpu": "H100:8", "labels": labels}},
        },
        ensure_ascii=False,
    )


def _tags_expression(main_tf: str) -> str:
    """The `tags = { ... }` object of the last block (the pool's module call), as written."""
    found = re.findall(r"^  tags = (\{\n.*?\n  \})$", main_tf, re.MULTILINE | re.DOTALL)
    assert found, main_tf
    return str(found[-1])


@needs_terraform
def test_a_template_as_a_tag_key_and_emoji_stay_literal_for_terraform(tmp_path: Path) -> None:
    # Azure allows `$`, `{` and `(` in tag keys; Terraform must not read `${...}` as code.
    labels = {"${file(var.ssh_public_key)}": "😀", "owner": "%{ if true }x%{ endif } 👨‍👩‍👧"}
    render(_azure_spec(labels), tmp_path / "deploy")
    main_tf = (tmp_path / "deploy/terraform/azure-eastus/main.tf").read_text(encoding="utf-8")
    assert '"$${file(var.ssh_public_key)}"' in main_tf
    tags = _terraform_values({"tags": _tags_expression(main_tf)}, tmp_path / "tf")["tags"]
    assert {key: tags[key] for key in labels} == labels


def _slot_spec(slot: str, value: str) -> tuple[dict[str, Any], tuple[str, ...], str | None]:
    """A spec with `value` in one free-text field: the spec, the field's path, and the
    language the value must reach literally (None: no rendered file carries it)."""
    spec: dict[str, Any] = {
        "apiVersion": "gpuforge/v1",
        "kind": "Cluster",
        "name": "hostile",
        "target": "aws/us-east-1",
        "pools": {"train": {"gpu": "H100:8"}},
    }
    pool = spec["pools"]["train"]
    if slot.startswith("label-"):
        kind, provider = slot.split("-")[1:]
        spec["target"] = TARGETS[provider]
        key = value if kind == "key" else "team"
        pool["labels"] = {key: "x" if kind == "key" else value}
        return spec, ("pools", "train", "labels", key), None if provider == "local" else "hcl"
    if slot == "state-key":
        spec["state"] = {"backend": "s3", "bucket": "tfstate", "key": value}
        return spec, ("state", "key"), "hcl"
    if slot == "state-path":
        spec["state"] = {"path": value}
        return spec, ("state", "path"), "hcl"
    if slot == "ssh-key-comment":
        spec["security"] = {"ssh_public_key": f"{SSH_KEY} {value}"}
        return spec, ("security", "ssh_public_key"), "hcl"
    if slot == "repository-url":
        spec["software"] = {"repository": "mirror", "repository_url": f"https://m.test/{value}"}
        return spec, ("software", "repository_url"), "yaml"
    if slot == "schedule":
        window = {"pool": "train", "start": value, "end": "0 8 * * *", "count": 0}
        spec["cost"] = {"schedule": [window]}
        return spec, ("cost", "schedule"), None
    if slot == "instance-type":
        pool["instance_type"] = value
        return spec, ("pools", "train", "instance_type"), "hcl"
    if slot == "zone":
        pool["zone"] = value
        return spec, ("pools", "train", "zone"), "hcl"
    if slot == "onprem-address":
        spec["target"] = "onprem"
        pool["hosts"] = [{"name": "n1", "address": value}]
        return spec, ("pools", "train", "hosts", "0", "address"), "json"
    if slot == "gcs-prefix":
        spec["target"] = "gcp/us-central1"
        spec["state"] = {"backend": "gcs", "bucket": "tfstate", "prefix": value}
        return spec, ("state", "prefix"), "hcl"
    if slot == "target-location":
        spec["target"] = f"aws/{value}"
        return spec, ("target",), "hcl"
    if slot == "kernel":
        spec["software"] = {"kernel": value}
        return spec, ("software", "kernel"), None
    if slot == "mig-layout":
        pool["gpu"] = {"model": "H100", "count": 8, "mig": {"layout": value}}
        return spec, ("pools", "train", "gpu"), None
    if slot == "validation-skip":
        spec["validation"] = {"skip": [value]}
        return spec, ("validation", "skip"), None
    if slot == "onprem-user":
        spec["target"] = "onprem"
        pool["hosts"] = [{"name": "n1", "address": "10.0.0.5", "user": value}]
        return spec, ("pools", "train", "hosts", "0", "user"), None
    assert slot == "cluster-name"
    spec["name"] = value
    return spec, ("name",), "yaml"


SLOTS = [
    "label-key-aws",
    "label-value-aws",
    "label-key-azure",
    "label-value-azure",
    "label-key-gcp",
    "label-value-gcp",
    "label-key-local",
    "label-value-local",
    "state-key",
    "state-path",
    "ssh-key-comment",
    "repository-url",
    "schedule",
    "instance-type",
    "zone",
    "onprem-address",
    "onprem-user",
    "gcs-prefix",
    "target-location",
    "kernel",
    "mig-layout",
    "validation-skip",
    "cluster-name",
]


def _yaml_text(data: dict[str, Any]) -> str:
    """`data` as YAML (JSON), with every character YAML could read as a line break escaped."""
    text = json.dumps(data, ensure_ascii=False)
    return "".join(
        f"\\u{ord(char):04x}" if 0x7F <= ord(char) <= 0x9F or char in "\u2028\u2029" else char
        for char in text
    )


def _strings(value: Any) -> list[Any]:
    """Every string in a loaded YAML/JSON value (mapping keys and values, list items)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _carried(deployment: Path, value: str, language: str) -> bool:
    """Whether a rendered file of `language` holds `value` as one whole string."""
    if language == "hcl":
        # A string, or a map key written bare (an identifier) or quoted.
        forms = [re.escape(quoted(value))]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", value):
            forms.append(rf"^\s*{re.escape(value)} +=")
        return any(
            re.search("|".join(forms), path.read_text(encoding="utf-8"), re.MULTILINE)
            for path in deployment.glob("terraform/*/*.tf")
        )
    if language == "json":
        return any(
            value in _strings(json.loads(path.read_text(encoding="utf-8")))
            for path in deployment.glob("terraform/*/terraform.tfvars.json")
        )
    return any(
        value in _strings(DataLoader().load(path.read_text(encoding="utf-8")))
        for path in (deployment / GROUP_VARS_DIR).glob("*.yml")
    )


def _template_sequences(text: str) -> list[int]:
    """Offsets of the `${` and `%{` that HCL would evaluate: scanned left to right as its lexer
    does, an escape (`$${`, `%%{`) is consumed whole, so `%%%%{` holds none."""
    found, at = [], 0
    while at < len(text):
        if text.startswith(("$${", "%%{"), at):
            at += 3
        elif text.startswith(("${", "%{"), at):
            found.append(at)
            at += 2
        else:
            at += 1
    return found


def test_the_template_scan_consumes_escapes_whole() -> None:
    assert _template_sequences('"%%%%{ $$${x} a$${b}"') == []
    assert _template_sequences('"${x}" "%{ if y }"') == [1, 8]


def _check_rendered(deployment: Path) -> None:
    """Every rendered file parses in its language, and nothing in it is a template for it."""
    for path in (deployment / GROUP_VARS_DIR).glob("*.yml"):
        variables = DataLoader().load(path.read_text(encoding="utf-8"))
        for text in _strings(list(variables.values())):
            assert isinstance(text, AnsibleUnsafe), (path, text)
    for path in deployment.glob("terraform/*/terraform.tfvars.json"):
        json.loads(path.read_text(encoding="utf-8"))
    for path in deployment.glob("terraform/*/*.tf"):
        assert not _template_sequences(path.read_text(encoding="utf-8")), path
    if TERRAFORM is not None:
        done = subprocess.run(
            [TERRAFORM, "fmt", "-recursive", "-list=false", "-write=false", "-no-color"],
            cwd=deployment / "terraform",
            env={"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(slot=st.sampled_from(SLOTS), value=hostile)
def test_hostile_text_is_refused_or_carried_literally(
    slot: str, value: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    spec, path, language = _slot_spec(slot, value)
    text = _yaml_text(spec)
    deployment = tmp_path_factory.mktemp("hostile") / "deploy"
    try:
        render(text, deployment)
    except SpecError as error:
        fields = [p.location.path for p in error.problems]
        shown = ".".join(path[:3])
        assert any(field.startswith(shown) for field in fields), (fields, path)
        event("refused")
        return
    event("rendered")
    _check_rendered(deployment)
    if language is not None and value:  # an empty value may fall back to a default
        carried = value if slot != "ssh-key-comment" else f"{SSH_KEY} {value}"
        carried = carried if slot != "repository-url" else f"https://m.test/{value}"
        assert _carried(deployment, carried, language), (slot, value)


def test_group_vars_stay_data_for_ansible_even_past_the_spec_layer(tmp_path: Path) -> None:
    # The spec layer refuses this URL; the group_vars must not need it to (defence in depth).
    marker = tmp_path / "MARKER"
    jinja = f"{{{{ lookup('pipe', 'touch {marker}') }}}}"
    spec, lock = solve((REPO_ROOT / "examples" / "local.yaml").read_text(encoding="utf-8"))
    software = spec.software.model_copy(update={"repository": "mirror", "repository_url": jinja})
    spec = spec.model_copy(update={"software": software})
    files = render_group_vars(spec, lock)
    variables = DataLoader().load(files["pool_h100.yml"])
    assert variables["nvidia_repo_url"] == jinja
    templar = Templar(loader=DataLoader(), variables=variables)
    assert templar.template("{{ nvidia_repo_url }}") == jinja
    assert not marker.exists()
