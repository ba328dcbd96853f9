"""node_state reads packages and files in one call and changes nothing (local connection)."""

from __future__ import annotations

import hashlib
import json
import os
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


MODULES_PLAY = """
- name: Probe and load kernel modules, and read container engines (local connection)
  hosts: all
  gather_facts: false
  tasks:
    - name: Read the items
      gpuforge.gpu.node_state:
        modules: ["{{ loaded_module }}", gpuforge-no-such-module]
        cdi_specs: ["{{ config }}"]
        runtimes:
          - {engine: here, daemon: sh, config: "{{ config }}", marker: 'default = "nvidia"'}
          - {engine: other, daemon: sh, config: "{{ config }}.missing", marker: nvidia}
          - {engine: absent, daemon: gpuforge-no-such-daemon, config: /nonexistent, marker: x}
      register: probed
    - name: Load what is missing (check mode only; this host's kernel is not ours to change)
      gpuforge.gpu.kernel_modules:
        name: ["{{ loaded_module }}", gpuforge-no-such-module]
      check_mode: true
      register: loading
    - name: Keep the reports
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ {'probed': probed, 'loading': loading} | to_json }}"
        mode: "0644"
"""


def test_modules_and_container_engines(tmp_path: Path) -> None:
    """Loaded and missing kernel modules (`-` and `_` alike), engines found or not and their
    configuration with or without nvidia as default; kernel_modules would load only the missing."""
    proc = Path("/proc/modules")
    lines = proc.read_text(encoding="utf-8").splitlines() if proc.exists() else []
    loaded = lines[0].split(" ", 1)[0].replace("_", "-") if lines else "gpuforge-none"
    config = tmp_path / "config.toml"
    config.write_text('default = "nvidia"\n', encoding="utf-8")
    (tmp_path / "play.yml").write_text(MODULES_PLAY, encoding="utf-8")
    out = tmp_path / "report.json"
    run_local(
        tmp_path,
        {"controller": {}},
        {"loaded_module": loaded, "config": str(config), "out": str(out)},
        str(tmp_path / "play.yml"),
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    probed, loading = report["probed"], report["loading"]
    # No nvidia-ctk here to generate a spec: whether the file holds it cannot be told.
    assert probed["cdi_specs"] == {str(config): {"current": None}}
    assert probed["runtimes"] == {
        "here": {"installed": True, "configured": True},
        "other": {"installed": True, "configured": False},
        "absent": {"installed": False, "configured": False},
    }
    if not lines:  # a kernel without module support: nothing to judge, nothing to load
        assert set(probed["modules"].values()) == {None}
        assert loading["changed"] is False
        return
    assert probed["modules"] == {loaded: True, "gpuforge-no-such-module": False}
    assert loading["changed"] is True and loading["loaded"] == ["gpuforge_no_such_module"]


CDI_PLAY = """
- name: Compare CDI specs with what nvidia-ctk generates (local connection)
  hosts: all
  gather_facts: false
  tasks:
    - name: Read the items
      gpuforge.gpu.node_state:
        cdi_specs: ["{{ same }}", "{{ edited }}"]
      register: probed
    - name: Keep the report
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ probed | to_json }}"
        mode: "0644"
"""


def test_cdi_specs_against_the_generator(tmp_path: Path) -> None:
    """A spec as cdi_spec writes the generator's output (one final newline) is current; an
    edited one is not."""
    tools = tmp_path / "bin"
    tools.mkdir()
    ctk = tools / "nvidia-ctk"
    ctk.write_text("#!/bin/sh\nprintf 'cdiVersion: 0.5.0\\nkind: nvidia.com/gpu\\n\\n'\n")
    ctk.chmod(0o755)
    same, edited = tmp_path / "same.yaml", tmp_path / "edited.yaml"
    same.write_text("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\n", encoding="utf-8")
    edited.write_text("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\n# edited\n", encoding="utf-8")
    (tmp_path / "play.yml").write_text(CDI_PLAY, encoding="utf-8")
    out = tmp_path / "report.json"
    run_local(
        tmp_path,
        {"controller": {}},
        {"same": str(same), "edited": str(edited), "out": str(out)},
        str(tmp_path / "play.yml"),
        env={"PATH": f"{tools}:{os.environ['PATH']}"},
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["cdi_specs"] == {str(same): {"current": True}, str(edited): {"current": False}}
