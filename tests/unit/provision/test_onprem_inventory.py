"""The onprem target from spec to inventory: the shipped module's outputs, hosts' connections.

The outputs come from the real `onprem` module, rendered from a spec and applied by a real
Terraform (it needs no provider); bad key files are refused before anything runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.check import make_context, solve_lock
from gpuforge.cli import up_cmds
from gpuforge.desired import pool_vars
from gpuforge.errors import SpecError
from gpuforge.provision import (
    Engine,
    TerraformBinary,
    build_inventory,
    deployment_nodes,
    known_hosts_path,
    onprem_host_vars,
)
from gpuforge.render import render_deployment
from gpuforge.spec import SpecDocument, load_spec, load_spec_text


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error`, beside `ok` and `exit_code`."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    if not isinstance(inner, dict):
        return inner
    return {"ok": body["ok"], "exit_code": body["exit_code"], **inner}


AS_OF = date(2025, 6, 1)

SPEC = """\
apiVersion: gpuforge/v1
kind: Cluster
name: lab
target: onprem
pools:
  dgx:
    gpu: H100:8
    hosts:
      - name: dgx-01
        address: 192.168.10.11
        user: ops
        ssh_key: keys/id_ed25519
      - {name: dgx-02, address: dgx-02.lab.example}
  self:
    gpu: L40S:4
    hosts:
      - {name: ws-01, connection: local}
software: {os: ubuntu-22.04, driver: "580", cuda: "12.8"}
security: {known_hosts: keys/known_hosts}
"""


def _write_spec(folder: Path, text: str = SPEC) -> Path:
    keys = folder / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    key = keys / "id_ed25519"
    key.write_text("not a real key\n", encoding="utf-8")
    key.chmod(0o600)
    (keys / "known_hosts").write_text("192.168.10.11 ssh-ed25519 AAAA\n", encoding="utf-8")
    spec = folder / "cluster.yaml"
    spec.write_text(text, encoding="utf-8")
    return spec


def test_applied_onprem_root_becomes_an_inventory(
    tmp_path: Path, any_binary: TerraformBinary
) -> None:
    """The module reports owned hardware without instance type or market; the inventory takes it.
    Hosts may be given by DNS name.

    Before the fix every onprem `up` stopped here: "output nodes[0] of target onprem lacks
    instance_type, market".
    """
    doc = load_spec(_write_spec(tmp_path))
    lock = solve_lock(make_context(doc, AS_OF))
    deployment = tmp_path / "deploy"
    rendered = render_deployment(doc.spec, lock, deployment)
    root = deployment / rendered.roots["onprem"]
    # The root needs no provider and its module is local: init reaches no registry.
    engine = Engine(root, binary=any_binary)
    engine.init()
    engine.apply(engine.plan().plan_file.name)

    nodes = deployment_nodes(deployment, lambda path: Engine(path, binary=any_binary))

    assert [(n.name, n.private_ip, n.pool) for n in nodes] == [
        ("dgx-01", "192.168.10.11", "dgx"),
        ("dgx-02", "dgx-02.lab.example", "dgx"),
        ("ws-01", "127.0.0.1", "self"),
    ]
    assert {(n.instance_type, n.market, n.zone) for n in nodes} == {("", "", "")}
    inventory = build_inventory(nodes, onprem_host_vars(doc))
    root_group = inventory["all"]["children"]["gpu_nodes"]
    assert sorted(root_group["children"]) == [
        "gpu_h100",
        "gpu_l40s",
        "pool_dgx",
        "pool_self",
        "target_onprem",
    ]
    hosts = root_group["hosts"]
    assert hosts["dgx-01"]["ansible_user"] == "ops"
    assert hosts["dgx-01"]["ansible_ssh_private_key_file"] == str(tmp_path / "keys/id_ed25519")
    assert hosts["dgx-02"]["ansible_user"] == "root"
    assert "ansible_ssh_private_key_file" not in hosts["dgx-02"]
    assert hosts["ws-01"]["ansible_connection"] == "local"


def test_known_hosts_is_resolved_from_the_spec_folder(tmp_path: Path) -> None:
    doc = load_spec(_write_spec(tmp_path))
    assert known_hosts_path(doc) == tmp_path / "keys" / "known_hosts"


def _spec_error(doc: SpecDocument, check: Callable[[SpecDocument], object]) -> dict[str, Any]:
    with pytest.raises(SpecError) as caught:
        check(doc)
    assert caught.value.exit_code == 2
    [problem] = caught.value.problems
    return problem.to_dict()


@pytest.mark.parametrize(
    ("break_it", "message", "fix"),
    [
        (lambda key: key.unlink(), "cannot be read", "point `ssh_key` at an existing file"),
        (lambda key: (key.unlink(), key.mkdir()), "is not a readable file", "not a folder"),
        (lambda key: key.chmod(0o644), "can be read by other users", "chmod 600"),
    ],
    ids=["missing", "folder", "open-to-others"],
)
def test_unusable_ssh_key_is_bad_input_at_its_field(
    tmp_path: Path, break_it: Callable[[Path], object], message: str, fix: str
) -> None:
    spec = _write_spec(tmp_path)
    break_it(tmp_path / "keys" / "id_ed25519")
    problem = _spec_error(load_spec(spec), onprem_host_vars)
    assert problem["file"] == str(spec)
    assert (problem["line"], problem["field"]) == (12, "pools.dgx.hosts[0].ssh_key")
    assert message in str(problem["message"]) and fix in str(problem["fix"])


def test_missing_known_hosts_is_bad_input_at_its_field(tmp_path: Path) -> None:
    spec = _write_spec(tmp_path)
    (tmp_path / "keys" / "known_hosts").unlink()
    problem = _spec_error(load_spec(spec), known_hosts_path)
    assert (problem["line"], problem["field"]) == (19, "security.known_hosts")
    assert "cannot be read" in str(problem["message"])


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A group callback keeps `up` a named subcommand, as in the real app."""

    up_cmds.register(app)
    return app


@pytest.mark.parametrize(
    ("old", "new", "field", "line", "message"),
    [
        ("        address: 192.168.10.11\n", "", "pools.dgx.hosts[0].address", 9, "required"),
        ("keys/id_ed25519", "keys/absent", "pools.dgx.hosts[0].ssh_key", 12, "cannot be read"),
        ("keys/known_hosts", "keys/absent", "security.known_hosts", 19, "cannot be read"),
    ],
    ids=["missing-address", "bad-key-path", "bad-known-hosts-path"],
)
def test_up_refuses_a_bad_onprem_spec_with_exit_2(
    tmp_path: Path, old: str, new: str, field: str, line: int, message: str
) -> None:
    """`up` stops before provisioning anything, naming file, line, field and a fix."""
    spec = _write_spec(tmp_path, SPEC.replace(old, new, 1))
    result = CliRunner().invoke(_app(), ["up", str(spec), "--json"])
    assert result.exit_code == 2, result.output
    body = _payload(result.stdout)
    [problem] = body["problems"]
    assert (problem["file"], problem["field"], problem["line"]) == (str(spec), field, line)
    assert message in problem["message"] and problem["fix"]
    assert not (tmp_path / ".deploy" / "lab" / "terraform").exists()


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("keys/id_ed25519", "\"{{ lookup('env', 'HOME') }}/k\"", "pools.dgx.hosts[0].ssh_key"),
        ("keys/id_ed25519", '"keys/id\\x00"', "pools.dgx.hosts[0].ssh_key"),
        ("keys/known_hosts", '"keys/{{ x }}"', "security.known_hosts"),
        ("keys/known_hosts", '"keys/known hosts"', "security.known_hosts"),
    ],
    ids=[
        "jinja-key",
        "nul-key",
        "jinja-known-hosts",
        "space-known-hosts",
    ],
)
def test_key_paths_stay_data(old: str, new: str, field: str) -> None:
    """Key paths reach Ansible's inventory and ssh_args: templates, controls, spaces refused."""
    with pytest.raises(SpecError) as caught:
        load_spec_text(SPEC.replace(old, new, 1), "cluster.yaml")
    [problem] = caught.value.problems
    assert problem.location.path == field and problem.fix
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("setting", "expected"), [("", True), ("hardening: false, ", False)])
def test_security_hardening_switches_the_role_for_onprem_pools(
    tmp_path: Path, setting: str, expected: bool
) -> None:
    """A site that hardens its hosts by its own means turns the hardening role off."""
    text = SPEC.replace("security: {", "security: {" + setting, 1)
    doc = load_spec(_write_spec(tmp_path, text))
    lock = solve_lock(make_context(doc, AS_OF))
    for pool in doc.spec.pools:
        assert pool_vars(doc.spec, lock, pool)["gpuforge_enable_hardening"] is expected
