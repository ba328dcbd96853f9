"""The strategies' cache of compiled templates renders exactly what Ansible renders without it."""

from __future__ import annotations

import importlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import AnsibleEnvironment, Templar

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "src" / "gpuforge"))
template_cache = importlib.import_module(
    "ansible_collections.gpuforge.gpu.plugins.plugin_utils.template_cache"
)

VARIABLES: dict[str, Any] = {
    "branch": "580",
    "version": "580.95.05",
    "pools": {"a": {"count": 2, "gpus": 8}, "b": {"count": 1, "gpus": 4}},
    "nested": "{{ branch }}-open",
    "hcas": ["mlx5_0", "mlx5_1", "mlx5_4"],
    "enabled": True,
}
TEMPLATES = [
    "plain text, no template",
    "{{ branch }}",
    "{{ nested }}",
    "{{ version is match('^' ~ branch ~ '[.]') }}",
    "{{ hcas | join(',') }}",
    "{{ hcas | map('regex_replace', '^mlx5_', '') | map('int') | sum }}",
    "{{ pools | dict2items | map(attribute='value.count') | list }}",
    "{{ (pools.values() | map(attribute='gpus') | max) * 2 }}",
    "{% for name in hcas if name != 'mlx5_4' %}{{ name }}:1 {% endfor %}",
    "{{ 'a' if enabled else 'b' }}{{ undefined_but_defaulted | default('x') }}",
    "{{ '%s-%s' | format(branch, 'server') | upper }}",
    "{{ version | split('.') | first | int + 1 }}",
    "{{ [3, 1, 2] | sort | to_json }}",
]


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the cache in a fresh folder for one test; the class is restored afterwards."""
    monkeypatch.setattr(AnsibleEnvironment, "compile", AnsibleEnvironment.compile)
    monkeypatch.setattr(AnsibleEnvironment, "_gpuforge_cache_memory", None, raising=False)
    folder = tmp_path / "templates"
    template_cache.install(str(folder))
    return folder


def _render(template: str) -> Any:
    return Templar(loader=DataLoader(), variables=VARIABLES).template(template)


def test_renders_the_same_values_when_compiling_and_when_loading(cache: Path) -> None:
    uncached = [_render_without_cache(t) for t in TEMPLATES]
    compiled = [_render(t) for t in TEMPLATES]
    assert len(list(cache.iterdir())) >= len(TEMPLATES) - 1
    loaded = [_render(t) for t in TEMPLATES]
    assert compiled == uncached
    assert loaded == uncached


def _render_without_cache(template: str) -> Any:
    cached = AnsibleEnvironment.compile
    AnsibleEnvironment.compile = template_cache._ORIGINAL_COMPILE  # type: ignore[method-assign]
    try:
        return _render(template)
    finally:
        AnsibleEnvironment.compile = cached  # type: ignore[method-assign]


def _calls_to(monkeypatch: pytest.MonkeyPatch, function: str) -> list[str]:
    """The second argument of every later call of template_cache's `function` (which still runs)."""
    calls: list[str] = []
    real = getattr(template_cache, function)

    def recording(env: Any, argument: str) -> Any:
        calls.append(argument)
        return real(env, argument)

    monkeypatch.setattr(template_cache, function, recording)
    return calls


def test_a_cached_string_is_not_compiled_again(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = _calls_to(monkeypatch, "_python_source")
    assert _render("{{ hcas | length }}") == "3"
    assert _render("{{ hcas | length }}") == "3"
    assert _render("{{ hcas | first }}") == "mlx5_0"
    assert compiled == ["{{ hcas | length }}", "{{ hcas | first }}"]


def test_filters_run_at_render_time_not_when_cached(cache: Path) -> None:
    # With Jinja2's constant folding a random number of a literal would be computed once and
    # then served from the cache on every later render.
    values = {_render("{{ 1000000000 | random }}") for _ in range(3)}
    assert len(values) == 3


def test_an_entry_whose_filter_changed_its_calling_convention_is_compiled_again(
    cache: Path,
) -> None:
    assert _render("{{ hcas | join('+') }}") == "mlx5_0+mlx5_1+mlx5_4"
    (entry,) = cache.iterdir()
    dependencies, code = marshal.loads(entry.read_bytes())
    assert ("filters", "join", True, "_PassArg.eval_context") in dependencies
    changed = [(kind, name, present, "_PassArg.context") for kind, name, present, _ in dependencies]
    entry.write_bytes(marshal.dumps((changed, code)))
    template_cache.install(str(cache))  # as in a new run, with nothing in memory
    assert _render("{{ hcas | join('+') }}") == "mlx5_0+mlx5_1+mlx5_4"
    assert marshal.loads(entry.read_bytes())[0] == dependencies


def test_a_damaged_entry_is_compiled_again(cache: Path) -> None:
    assert _render("{{ branch | int }}") == "580"
    (entry,) = cache.iterdir()
    entry.write_bytes(b"not marshal data")
    template_cache.install(str(cache))
    assert _render("{{ branch | int }}") == "580"
    assert marshal.loads(entry.read_bytes())[1] is not None


def test_the_installing_process_reads_the_folder_so_its_forks_open_no_file(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for template in TEMPLATES:
        _render(template)
    template_cache.install(str(cache))  # a new run: memory empty, entries on disk
    opened = _calls_to(monkeypatch, "_load")
    assert _render("{{ branch }}") == "580"
    assert len(opened) == len(list(cache.iterdir()))
    opened.clear()
    for entry in cache.iterdir():
        entry.unlink()
    memory = AnsibleEnvironment._gpuforge_cache_memory  # type: ignore[attr-defined]
    memory.owner = -1  # what a forked worker sees: another process installed the cache
    assert [_render(t) for t in TEMPLATES] == [_render_without_cache(t) for t in TEMPLATES]
    assert opened == []
    assert list(cache.iterdir()) == []


def test_the_installing_process_reads_entries_other_processes_added(
    cache: Path, tmp_path: Path
) -> None:
    assert _render("{{ branch }}") == "580"
    memory = AnsibleEnvironment._gpuforge_cache_memory  # type: ignore[attr-defined]
    template_cache.install(str(tmp_path / "elsewhere"))
    assert _render("{{ hcas | last }}") == "mlx5_4"
    (added,) = (tmp_path / "elsewhere").iterdir()
    added.rename(cache / added.name)
    os.utime(cache, (1, 1))  # the folder changed, also when within the clock tick of the last look
    AnsibleEnvironment._gpuforge_cache_memory = memory  # type: ignore[attr-defined]
    assert _render("{{ branch }}") == "580"
    assert added.name in memory.code


def test_template_errors_are_raised_and_not_cached(cache: Path) -> None:
    from ansible.errors import AnsibleError

    with pytest.raises(AnsibleError, match="no_such_filter"):
        _render("{{ branch | no_such_filter }}")
    with pytest.raises(AnsibleError, match="template error"):
        _render("{{ branch ")
    assert list(cache.iterdir()) == []


def test_off_leaves_templating_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AnsibleEnvironment, "compile", AnsibleEnvironment.compile)
    monkeypatch.setenv(template_cache.ENV_VAR, "off")
    before = AnsibleEnvironment.compile
    assert template_cache.install_from_config() is None
    assert AnsibleEnvironment.compile is before


def test_the_folder_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AnsibleEnvironment, "compile", AnsibleEnvironment.compile)
    monkeypatch.setattr(AnsibleEnvironment, "_gpuforge_cache_memory", None, raising=False)
    monkeypatch.setenv(template_cache.ENV_VAR, str(tmp_path / "here"))
    assert template_cache.install_from_config() == str(tmp_path / "here")
    assert _render("{{ branch }}") == "580"
    assert len(list((tmp_path / "here").iterdir())) == 1


def test_a_full_folder_is_emptied_on_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AnsibleEnvironment, "compile", AnsibleEnvironment.compile)
    monkeypatch.setattr(AnsibleEnvironment, "_gpuforge_cache_memory", None, raising=False)
    monkeypatch.setattr(template_cache, "_MAX_ENTRIES", 3)
    for index in range(4):
        (tmp_path / f"old{index}").write_bytes(b"")
    template_cache.install(str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_the_strategies_read_new_entries_before_they_fork_a_worker(cache: Path) -> None:
    queued: list[int] = []

    class Strategy:
        def _queue_task(self, host: Any, task: Any, task_vars: Any, play_context: Any) -> None:
            queued.append(len(memory.code))

    class Reading(template_cache.ReadBeforeFork, Strategy):
        pass

    assert _render("{{ branch }}") == "580"
    template_cache.install(str(cache))
    memory = AnsibleEnvironment._gpuforge_cache_memory  # type: ignore[attr-defined]
    assert memory.code == {}
    Reading()._queue_task(None, None, {}, None)
    assert queued == [1]
