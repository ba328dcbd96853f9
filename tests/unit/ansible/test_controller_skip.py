"""The collection's strategies skip a task whose `when` is false without a worker process.

The same play runs with the shortcut on and off (GPUFORGE_CONTROLLER_SKIP): what it registers,
the handlers it notifies and its recap must not differ, while a `sitecustomize` that logs every
worker process Ansible starts shows which tasks still needed one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import ansible_mitogen
import pytest
from local_play import run_local

PLAY = """\
- name: Tasks whose conditions are false, and some that must still go to a worker
  hosts: all
  gather_facts: false
  vars:
    wanted: false
  tasks:
    - name: A false condition on a command that would fail if it ran
      ansible.builtin.command: /bin/false
      changed_when: false
      when: wanted
      register: plain

    - name: A false condition on an include of a file that does not exist
      ansible.builtin.include_tasks: no-such-file.yml
      when: wanted

    - name: A skipped task notifies nothing
      ansible.builtin.command: /bin/false
      changed_when: true
      when: wanted
      notify: Mark the handler run

    - name: A true condition runs
      ansible.builtin.set_fact:
        ran: true
      when: not wanted

    - name: A loop is judged per item, in a worker
      ansible.builtin.debug:
        msg: "{{ item }}"
      loop: [1, 2]
      when: wanted
      register: looped

    - name: A condition that cannot be evaluated fails as before
      ansible.builtin.debug:
        msg: never
      when: no_such_variable
      ignore_errors: true
      register: broken

    - name: The host's own variable decides
      ansible.builtin.command: /bin/true
      changed_when: false
      when: inventory_hostname == 'beta'
      register: per_host

    - name: Write what was registered
      ansible.builtin.copy:
        content: "{{ {'plain': plain, 'looped': looped, 'broken': broken, 'per_host': per_host,
                      'ran': ran} | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
        mode: "0644"
      delegate_to: localhost

  handlers:
    - name: Mark the handler run
      ansible.builtin.copy:
        content: ran
        dest: "{{ out_dir }}/{{ inventory_hostname }}.handler"
        mode: "0644"
      delegate_to: localhost
"""
# Loaded by every Python process of the run: logs each worker Ansible starts (host, task name).
SITECUSTOMIZE = """\
import multiprocessing.process
import os

_start = multiprocessing.process.BaseProcess.start


def _logged_start(self):
    if type(self).__name__ == "WorkerProcess":
        with open(os.environ["GF_WORKER_LOG"], "a") as log:
            log.write("%s\\t%s\\n" % (self._host.name, self._task.get_name()))
    return _start(self)


multiprocessing.process.BaseProcess.start = _logged_start
"""
SKIPPED_WITHOUT_WORKER = [
    "A false condition on a command that would fail if it ran",
    "A false condition on an include of a file that does not exist",
    "A skipped task notifies nothing",
]


def _run(
    work: Path, shortcut: str, strategy: str
) -> tuple[str, dict[str, Any], list[tuple[str, str]]]:
    """Run PLAY on two local hosts: the recap lines, the registered results, the workers started."""
    work.mkdir()
    (work / "play.yml").write_text(PLAY)
    (work / "site").mkdir()
    (work / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    hosts = {"alpha": {}, "beta": {}}
    mitogen = Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"
    stdout = run_local(
        work,
        hosts,
        {"out_dir": str(work)},
        str(work / "play.yml"),
        env={
            "PYTHONPATH": str(work / "site"),
            "GF_WORKER_LOG": str(work / "workers.log"),
            "GPUFORGE_CONTROLLER_SKIP": shortcut,
            "ANSIBLE_STRATEGY": strategy,
            "ANSIBLE_STRATEGY_PLUGINS": str(mitogen),
            "ANSIBLE_FORKS": "4",
        },
    )
    recap = re.findall(r"^(alpha|beta)\s+: (.+)$", stdout, re.M)
    # The play's path (in error messages) and a command's clock readings differ between runs.
    registered = {
        host: json.loads((work / f"{host}.json").read_text().replace(str(work), "WORK"))
        for host in hosts
    }
    for host in hosts:
        for key in ("start", "end", "delta"):
            registered[host]["per_host"].pop(key, None)
    lines = (work / "workers.log").read_text().splitlines()
    workers = [(host, task) for host, task in (line.split("\t") for line in lines)]
    assert not list(work.glob("*.handler")), "a skipped task notified its handler"
    return "\n".join(f"{host} {counts}" for host, counts in recap), registered, workers


@pytest.fixture(scope="module", params=["gpuforge.gpu.mitogen_linear", "gpuforge.gpu.linear"])
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The play with each linear strategy of the collection, with the shortcut and without."""
    work = tmp_path_factory.mktemp("skip")
    return {mode: _run(work / mode, mode, request.param) for mode in ("on", "off")}


def test_results_and_recap_are_the_same_with_and_without_the_shortcut(runs: dict[str, Any]) -> None:
    recap_on, registered_on, _ = runs["on"]
    recap_off, registered_off, _ = runs["off"]
    assert recap_on == recap_off
    assert "skipped=5" in recap_on.splitlines()[0], recap_on
    assert registered_on == registered_off
    plain = registered_on["alpha"]["plain"]
    assert plain["skipped"] is True and plain["false_condition"] == "wanted"
    assert registered_on["alpha"]["broken"]["failed"] is True
    assert "no_such_variable" in registered_on["alpha"]["broken"]["msg"]
    assert registered_on["alpha"]["per_host"]["skipped"] is True
    assert "skipped" not in registered_on["beta"]["per_host"]


def test_false_conditions_are_skipped_without_a_worker(runs: dict[str, Any]) -> None:
    _, _, workers_on = runs["on"]
    _, _, workers_off = runs["off"]
    for task in SKIPPED_WITHOUT_WORKER:
        assert (("alpha", task) in workers_off) and (("beta", task) in workers_off)
        assert not [worker for worker in workers_on if worker[1] == task], task
    # A loop, a condition that fails to evaluate and a true condition still get their worker.
    for task in (
        "A loop is judged per item, in a worker",
        "A condition that cannot be evaluated fails as before",
    ):
        assert ("alpha", task) in workers_on
    assert ("beta", "The host's own variable decides") in workers_on
    assert ("alpha", "The host's own variable decides") not in workers_on
    assert len(workers_off) - len(workers_on) == 2 * len(SKIPPED_WITHOUT_WORKER) + 1
