"""Bad specs fail with every problem located (file:line:column + field path) and a fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gpuforge.errors import InputError, Problem, SpecError
from gpuforge.spec import load_spec, load_spec_text

Problems = Callable[[str], list[Problem]]

HEAD = "apiVersion: gpuforge/v1\nkind: Cluster\nname: demo\ntarget: local\n"


def _only(found: list[Problem]) -> Problem:
    assert len(found) == 1, [str(p.location) + " " + p.message for p in found]
    return found[0]


def _where(problem: Problem) -> tuple[str, int, int, str]:
    loc = problem.location
    return (loc.file, loc.line, loc.column, loc.path)


def test_unknown_field_suggests_the_close_name(problems: Problems) -> None:
    problem = _only(problems(HEAD + "pools:\n  train:\n    gpu: H100:8\n    cuont: 2\n"))

    assert _where(problem) == ("cluster.yaml", 8, 5, "pools.train.cuont")
    assert problem.message == "unknown field `cuont`"
    assert "did you mean `count`?" in problem.fix


def test_unknown_field_without_close_match_lists_allowed_fields(problems: Problems) -> None:
    problem = _only(problems(HEAD + "pools:\n  t: {gpu: H100:8}\nfabric: {zzzz: 1}\n"))

    assert _where(problem) == ("cluster.yaml", 7, 10, "fabric.zzzz")
    assert problem.fix.startswith("remove `zzzz`; allowed here:")
    assert "topology" in problem.fix and "port_speed_gbps" in problem.fix


def test_unknown_top_level_field(problems: Problems) -> None:
    problem = _only(problems(HEAD + "pools:\n  t: {gpu: H100:8}\nsofware: {}\n"))

    assert _where(problem) == ("cluster.yaml", 7, 1, "sofware")
    assert "did you mean `software`?" in problem.fix


@pytest.mark.parametrize(
    ("line", "field", "fix"),
    [
        ("    count: many\n", "count", "write a whole number for `count`"),
        ("    count: 1.5\n", "count", "write a whole number for `count`"),
        ("    placement_group: maybe\n", "placement_group", "write true or false"),
        ("    instance_type: [a, b]\n", "instance_type", "write a string"),
    ],
)
def test_wrong_type(problems: Problems, line: str, field: str, fix: str) -> None:
    problem = _only(problems(HEAD + "pools:\n  train:\n    gpu: H100:8\n" + line))

    assert _where(problem) == ("cluster.yaml", 8, 5, f"pools.train.{field}")
    assert fix in problem.fix


def test_bad_enum_lists_the_choices(problems: Problems) -> None:
    problem = _only(problems(HEAD + "pools:\n  train:\n    gpu: H100:8\n    market: cheap\n"))

    assert _where(problem) == ("cluster.yaml", 8, 5, "pools.train.market")
    assert problem.fix == "use one of 'on-demand', 'spot' or 'spot-with-fallback'"


def test_bad_compute_mode(problems: Problems) -> None:
    problem = _only(problems(HEAD + "pools:\n  t: {gpu: H100:8}\ngpu: {compute_mode: 3}\n"))

    assert problem.location.path == "gpu.compute_mode"
    assert "EXCLUSIVE_PROCESS" in problem.fix


def test_out_of_range_value(problems: Problems) -> None:
    problem = _only(problems(HEAD + "pools:\n  t: {gpu: H100:8, count: -1}\n"))

    assert _where(problem) == ("cluster.yaml", 6, 20, "pools.t.count")
    assert "within the allowed range" in problem.fix


def test_missing_required_fields(problems: Problems) -> None:
    found = problems("apiVersion: gpuforge/v1\nkind: Cluster\n")

    assert sorted(p.location.path for p in found) == ["name", "pools", "target"]
    assert {p.fix for p in found} == {"add `name:` here", "add `pools:` here", "add `target:` here"}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (HEAD + "name: other\npools:\n  t: {gpu: H100:8}\n", (5, 1, "name")),
        (
            HEAD + "pools:\n  t:\n    gpu: H100:8\n    count: 1\n    count: 2\n",
            (9, 5, "pools.t.count"),
        ),
        (HEAD + "pools:\n  t: {gpu: H100:8}\n  t: {gpu: A100:8}\n", (7, 3, "pools.t")),
        (
            HEAD + "pools:\n  t: {gpu: H100:8}\nsecurity: {ssh_cidrs: [{a: 1, a: 2}]}\n",
            (7, 31, "security.ssh_cidrs[0].a"),
        ),
    ],
)
def test_duplicate_key(problems: Problems, text: str, where: tuple[int, int, str]) -> None:
    problem = _only(problems(text))

    assert (problem.location.line, problem.location.column, problem.location.path) == where
    assert problem.message.startswith("duplicate key:")
    assert problem.fix == "keep one of them"


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        (HEAD + "pools: {t: {gpu: H100:8}\n", 6, 1),  # unclosed flow mapping
        ("apiVersion: gpuforge/v1\nkind: [Cluster\nname: x\n", 3, 5),
        ("a:\n\t- b\n", 2, 1),  # a tab cannot indent YAML
        ("a: 'unterminated\n", 2, 1),
        ("a: *nothing\n", 1, 4),  # alias to an undefined anchor
    ],
)
def test_yaml_syntax_error(problems: Problems, text: str, line: int, column: int) -> None:
    problem = _only(problems(text))

    assert (problem.location.line, problem.location.column) == (line, column)
    assert problem.message.startswith("invalid YAML:")
    assert problem.fix == "fix the YAML syntax at this position"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just text\n", "42\n"])
def test_document_must_be_a_mapping(problems: Problems, text: str) -> None:
    problem = _only(problems(text))

    assert (problem.location.line, problem.location.column) == (1, 1)
    assert "must be a YAML mapping" in problem.message
    assert "examples/local.yaml" in problem.fix


def test_unknown_gpu_suggests_close_models(problems: Problems) -> None:
    problem = _only(problems(HEAD + "pools:\n  train:\n    gpu: H10:8\n"))

    assert _where(problem) == ("cluster.yaml", 7, 5, "pools.train.gpu.model")
    assert problem.message == "unknown GPU model 'H10'"
    assert problem.fix.startswith("did you mean H100")
    assert "Known: V100" in problem.fix


def test_bad_cidr(problems: Problems) -> None:
    text = HEAD + "pools:\n  t: {gpu: H100:8}\nsecurity:\n  ssh_cidrs: [10.0.0.0/8, 300.1.1.1/8]\n"
    problem = _only(problems(text))

    assert _where(problem) == ("cluster.yaml", 8, 3, "security.ssh_cidrs")
    assert problem.message == "'300.1.1.1/8' is not a CIDR block (e.g. 10.0.0.0/8)"
    assert problem.fix


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("mars/x", "unknown target 'mars/x'"),
        ("aws", "target 'aws' needs a location, e.g. aws/<region>"),
        ("local/here", "target 'local' takes no location (got 'local/here')"),
        ("[]", "give at least one target"),
    ],
)
def test_bad_target(problems: Problems, target: str, message: str) -> None:
    text = HEAD.replace("target: local", f"target: {target}") + "pools:\n  t: {gpu: H100:8}\n"
    problem = _only(problems(text))

    assert problem.location.line == 4
    assert problem.location.path.startswith("target")
    assert problem.message == message
    assert problem.fix


@pytest.mark.parametrize(
    ("state", "missing"),
    [
        ("{backend: s3}", "bucket"),
        ("{backend: gcs, prefix: x}", "bucket"),
        ("{backend: azurerm, container: c}", "resource_group, storage_account"),
    ],
)
def test_remote_state_needs_its_settings(problems: Problems, state: str, missing: str) -> None:
    problem = _only(problems(HEAD + f"state: {state}\npools:\n  t: {{gpu: H100:8}}\n"))

    assert _where(problem) == ("cluster.yaml", 5, 1, "state")
    assert problem.message.endswith(f"needs {missing}")
    assert problem.fix


@pytest.mark.parametrize(
    ("software", "field"),
    [
        ("{cuda: abc}", "cuda"),
        ("{driver: '>=535,<'}", "driver"),
        ("{nccl: '~2.18'}", "nccl"),
        ("{os: windows-11}", "os"),
    ],
)
def test_bad_software_versions(problems: Problems, software: str, field: str) -> None:
    problem = _only(problems(HEAD + f"pools:\n  t: {{gpu: H100:8}}\nsoftware: {software}\n"))

    assert problem.location.line == 7
    assert problem.location.path == f"software.{field}"
    assert problem.fix


def test_mig_layout_and_map_together(problems: Problems) -> None:
    text = (
        HEAD + "pools:\n  t: {gpu: H100:8}\ngpu: {mig: {layout: all-1g, devices: {1g.10gb: 1}}}\n"
    )
    problem = _only(problems(text))

    assert problem.location.path == "gpu.mig"
    assert problem.message == "give either a layout name or a profile map, not both"


def test_every_problem_is_reported_at_once(problems: Problems) -> None:
    found = problems(
        "apiVersion: gpuforge/v2\nkind: Cluster\nname: Bad_Name\ntarget: mars\n"
        "pools:\n  t:\n    gpu: H100:8\n    count: -1\n    market: cheap\n"
        "fabric: {typ: efa}\nsecurity: {ssh_cidrs: [nonsense]}\n"
    )
    paths = [p.location.path for p in found]

    assert sorted(paths) == sorted(
        [
            "apiVersion",
            "name",
            "target[0]",
            "pools.t.count",
            "pools.t.market",
            "fabric.typ",
            "security.ssh_cidrs",
        ]
    )
    for problem in found:
        assert problem.location.file == "cluster.yaml"
        assert problem.location.line > 0 and problem.location.column > 0
        assert problem.fix


def test_spec_error_summary_names_the_first_problem() -> None:
    text = HEAD + "pools:\n  t: {gpu: H100:8, market: cheap}\n"
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "cluster.yaml")

    assert str(caught.value).startswith("cluster.yaml:6:")
    assert caught.value.exit_code == 2
    assert caught.value.fix == caught.value.problems[0].fix


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_spec(tmp_path / "absent.yaml")

    assert "no such file" in caught.value.message
    assert caught.value.fix == "check the path to the spec"
    assert not isinstance(caught.value, SpecError)


def test_binary_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")

    with pytest.raises(InputError) as caught:
        load_spec(path)

    assert caught.value.message.endswith("cluster.yaml:1:1: is not valid UTF-8 (byte 0xff)")
    assert caught.value.fix == "pass a UTF-8 YAML file of at most 4 MiB"


def test_file_positions_come_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + "pools:\n  t:\n    gpu: H100:8\n    market: cheap\n", encoding="utf-8")

    with pytest.raises(SpecError) as caught:
        load_spec(path)

    assert str(caught.value.problems[0].location) == f"{path}:8:5 (pools.t.market)"


def test_oversized_spec_is_refused(problems: Problems) -> None:
    problem = _only(problems("a: " + "x" * (4 * 1024 * 1024 + 1) + "\n"))

    assert problem.message == "file is larger than 4 MiB"
    assert problem.fix == "split the spec"


def test_self_referencing_alias_is_refused(problems: Problems) -> None:
    problem = _only(
        problems(HEAD + "pools:\n  t: {gpu: H100:8}\ncost: {optimize: {pools: &l {a: *l}}}\n")
    )

    assert problem.location.path == "cost.optimize.pools.a"
    assert problem.fix


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("{'[': 1}\n", "[", "unknown field `[`"),
        (
            HEAD + "pools:\n  t: {gpu: H100:8, labels: {'a[0]': [1]}}\n",
            "pools.t.labels.a[0]",
            "Input should be a valid string",
        ),
    ],
)
def test_keys_that_look_like_validator_tags(
    problems: Problems, text: str, path: str, message: str
) -> None:
    found = problems(text)
    matching = [p for p in found if p.location.path == path]

    assert matching, [p.location.path for p in found]
    assert matching[0].message.startswith(message)
