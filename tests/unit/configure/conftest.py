"""Fixtures for the configure engine: a deployment folder whose hosts are this machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PLAYBOOK = """\
- name: Converge test nodes
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Write the marker file
      ansible.builtin.copy:
        content: "hello {{ inventory_hostname }}\\n"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.txt"
        mode: "0644"
      tags: [marker]

    - name: Fail where asked
      ansible.builtin.command: /bin/sh -c "echo disk on fire >&2; exit 3"
      when: inventory_hostname in (fail_hosts | default([]))
      changed_when: false

    - name: Write the second file
      ansible.builtin.copy:
        content: "second\\n"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.second"
        mode: "0644"
      tags: [second]
"""


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    """A deployment folder with a two-host local inventory and a small playbook."""
    folder = tmp_path / "deploy"
    out = tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    (folder / "hosts.ini").write_text(
        "[nodes]\n"
        + "".join(
            f"{name} ansible_connection=local ansible_python_interpreter={sys.executable}\n"
            for name in ("node-a", "node-b")
        )
        + f"\n[nodes:vars]\nout_dir={out}\n"
    )
    (folder / "play.yml").write_text(PLAYBOOK)
    return folder


@pytest.fixture
def out_dir(deploy: Path) -> Path:
    """Where the test playbook writes its files."""
    return deploy.parent / "out"
