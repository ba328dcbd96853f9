"""node_state reads packages and files in one call and changes nothing (local connection)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from local_play import run_local

PLAY = """
- name: Probe the controller
  hosts: all
  gather_facts: false
  tasks:
    - name: Read the items
      gpuforge.gpu.node_state:
        packages: [dpkg, gpuforge-no-such-package]
        files: ["{{ probe_file }}", "{{ probe_file }}.missing"]
      register: probed
    - name: Keep the report
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ probed | to_json }}"
        mode: "0644"
"""


def test_packages_and_files_as_found(tmp_path: Path) -> None:
    """Installed and missing packages, present and absent files; nothing changed."""
    probe_file = tmp_path / "managed.conf"
    probe_file.write_text("A=1\n", encoding="utf-8")
    probe_file.chmod(0o640)
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    out = tmp_path / "report.json"
    run_local(
        tmp_path,
        {"controller": {}},
        {"probe_file": str(probe_file), "out": str(out)},
        str(tmp_path / "play.yml"),
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["changed"] is False
    assert report["packages"]["dpkg"]["version"]
    assert report["packages"]["gpuforge-no-such-package"] == {"version": None, "held": False}
    assert report["files"][str(probe_file)] == {
        "sha256": hashlib.sha256(b"A=1\n").hexdigest(),
        "mode": "0640",
    }
    assert report["files"][f"{probe_file}.missing"] == {"sha256": None, "mode": None}
    assert report["gpus"] == [] and report["mig"] == {} and report["units"] == {}
