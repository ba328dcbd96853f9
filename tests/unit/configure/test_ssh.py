"""The engine over real SSH to a loopback sshd: mitogen and plain SSH, host keys, unreachable."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpuforge.configure import EngineSettings, run_playbook, strict_host_key_args

from . import _sshd

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(_sshd.available()), reason=_sshd.available() or "n/a"),
]

PLAY = """\
- name: Touch over SSH
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Write a file
      ansible.builtin.copy:
        content: "{{ inventory_hostname }}\\n"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.ssh"
        mode: "0644"
"""


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_sshd.LoopbackSshd]:
    server = _sshd.start(tmp_path_factory.mktemp("sshd"))
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def _deploy(tmp_path: Path, server: _sshd.LoopbackSshd, extra_host: str = "") -> Path:
    deploy, out = tmp_path / "deploy", tmp_path / "out"
    deploy.mkdir()
    out.mkdir()
    common = (
        f"ansible_host=127.0.0.1 ansible_user=root ansible_port={server.port} "
        f"ansible_ssh_private_key_file={server.client_key} "
        f"ansible_python_interpreter={sys.executable}"
    )
    (deploy / "hosts.ini").write_text(
        f"[nodes]\nssh-a {common}\nssh-b {common}\n{extra_host}\n[nodes:vars]\nout_dir={out}\n"
    )
    (deploy / "play.yml").write_text(PLAY)
    return deploy


@pytest.mark.parametrize("engine", ["auto", "ssh"])
def test_both_engines_configure_over_ssh_with_a_known_hosts_file(
    tmp_path: Path, sshd: _sshd.LoopbackSshd, engine: str
) -> None:
    deploy = _deploy(tmp_path, sshd)
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line)
    settings = EngineSettings.tuned(engine=engine, known_hosts=known)
    first = run_playbook(deploy, "play.yml", Path("hosts.ini"), settings=settings)
    assert first.engine == ("mitogen" if engine == "auto" else "ssh")
    assert first.status == "ok", first.failures
    assert first.changed == 2
    assert (tmp_path / "out" / "ssh-b.ssh").read_text() == "ssh-b\n"
    again = run_playbook(deploy, "play.yml", Path("hosts.ini"), settings=settings)
    assert (again.status, again.changed) == ("ok", 0)


def test_a_wrong_host_key_is_refused(tmp_path: Path, sshd: _sshd.LoopbackSshd) -> None:
    deploy = _deploy(tmp_path, sshd)
    known = tmp_path / "known_hosts"
    other = _sshd.start(tmp_path / "impostor")
    try:
        known.write_text(other.known_hosts_line.replace(str(other.port), str(sshd.port)))
    finally:
        other.process.terminate()
        other.process.wait(timeout=10)
    for engine in ("auto", "ssh"):
        settings = EngineSettings.tuned(engine=engine, known_hosts=known)
        result = run_playbook(deploy, "play.yml", Path("hosts.ini"), settings=settings)
        assert result.status == "failed"
        for failure in result.failures.values():
            assert failure.unreachable
            assert "host key" in failure.message or "HOST IDENTIFICATION" in failure.message


def test_plain_ssh_trusts_on_first_use_and_an_unreachable_host_is_partial(
    tmp_path: Path, sshd: _sshd.LoopbackSshd
) -> None:
    closed = _sshd._free_port()
    deploy = _deploy(
        tmp_path,
        sshd,
        extra_host=f"ssh-gone ansible_host=127.0.0.1 ansible_port={closed} ansible_user=root",
    )
    settings = EngineSettings.tuned(engine="ssh")
    result = run_playbook(deploy, "play.yml", Path("hosts.ini"), settings=settings)
    assert result.status == "partial"
    assert result.ok_hosts == ["ssh-a", "ssh-b"]
    assert result.failures["ssh-gone"].unreachable
    assert result.hosts["ssh-gone"].status == "unreachable"
    assert "Connection refused" in result.failures["ssh-gone"].message
    tofu = deploy / ".ansible" / "known_hosts"
    host_key = sshd.known_hosts_line.split()[2]
    assert host_key in tofu.read_text()


def _plain_playbook(home: Path, deploy: Path, known: Path) -> subprocess.CompletedProcess[str]:
    """ansible-playbook as a user runs it: no gpuforge ansible.cfg, no ANSIBLE_* settings, a
    fresh `home` (no SSH connection to reuse); the host keys come only from the inventory."""
    inventory = deploy / "hosts.ini"
    if "ansible_ssh_common_args" not in inventory.read_text():
        inventory.write_text(
            inventory.read_text().replace(
                "[nodes:vars]\n",
                f"[nodes:vars]\nansible_ssh_common_args='{strict_host_key_args(known)}'\n",
            )
        )
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["HOME"] = str(home)
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), "play.yml"],
        cwd=deploy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_plain_ansible_playbook_checks_host_keys_from_the_inventory(
    tmp_path: Path, sshd: _sshd.LoopbackSshd
) -> None:
    deploy = _deploy(tmp_path, sshd)
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line)
    done = _plain_playbook(tmp_path / "home", deploy, known)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert (tmp_path / "out" / "ssh-a.ssh").read_text() == "ssh-a\n"
    # No key was learnt elsewhere: the user's own known_hosts stays untouched.
    assert not (tmp_path / "home" / ".ssh" / "known_hosts").exists()
    known.write_text(sshd.known_hosts_line.replace(str(sshd.port), "1", 1))
    refused = _plain_playbook(tmp_path / "home-again", deploy, known)
    assert refused.returncode != 0
    assert "Host key verification failed" in refused.stdout + refused.stderr
