"""Every registered rule fires, alone, on its failing fixture and stays quiet on the near miss
(tests/fixtures/specs/rules/<CODE>/{fail,pass}.yaml); a clean spec triggers nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gpuforge.check import RULES, Finding, lock_path, make_context, read_repo_index, run_checks
from gpuforge.spec import load_spec, load_spec_text

SPECS = Path(__file__).parents[2] / "fixtures" / "specs"
RULE_FIXTURES = SPECS / "rules"
EXAMPLES = Path(__file__).parents[3] / "examples"
AS_OF = date(2026, 11, 28)
# Reported for every spec without a lock next to it; the fixtures other than GF-LOCK-* have none.
AMBIENT = {"GF-LOCK-001"}


def _findings(path: Path, skip: set[str] | None = None, as_of: date = AS_OF) -> list[Finding]:
    lock = lock_path(path)
    lock_text = lock.read_text(encoding="utf-8") if lock.exists() else None
    # A fixture's repository index, where it has one, sits beside it: <name>.Packages.
    index = path.with_suffix(".Packages")
    repo = read_repo_index(str(index)) if index.exists() else None
    return run_checks(make_context(load_spec(path), as_of, lock_text, repo), skip)


def _codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def test_every_rule_has_fixtures_and_every_fixture_a_rule() -> None:
    folders = {p.name for p in RULE_FIXTURES.iterdir() if p.is_dir()}

    assert folders == set(RULES)
    for code in RULES:
        assert (RULE_FIXTURES / code / "fail.yaml").is_file()
        assert (RULE_FIXTURES / code / "pass.yaml").is_file()


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_fires_alone_on_its_failing_fixture(code: str) -> None:
    findings = _findings(RULE_FIXTURES / code / "fail.yaml")
    own = [f for f in findings if f.code == code]

    assert own, f"{code} did not fire"
    assert _codes(findings) - {code} - AMBIENT == set()
    for finding in own:
        assert finding.severity == RULES[code].severity
        assert finding.message and finding.fix
        assert finding.location.file.endswith(f"{code}/fail.yaml")
        assert finding.location.line >= 1


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_stays_quiet_on_the_near_miss(code: str) -> None:
    findings = _findings(RULE_FIXTURES / code / "pass.yaml")
    allowed = set() if code in AMBIENT else AMBIENT

    assert _codes(findings) - allowed == set(), [f.message for f in findings]


def test_clean_spec_triggers_nothing() -> None:
    assert _findings(SPECS / "clean.yaml") == []


@pytest.mark.parametrize("name", ["aws-training.yaml", "local.yaml", "multi-cloud-a100.yaml"])
def test_examples_have_no_errors_or_warnings(name: str) -> None:
    findings = _findings(EXAMPLES / name)

    assert [f for f in findings if f.severity != "info"] == []


def test_broken_example_reports_each_mistake() -> None:
    findings = _findings(EXAMPLES / "broken.yaml")
    errors = {(f.code, f.location.path) for f in findings if f.severity == "error"}

    assert errors == {
        ("GF-NET-002", "pools.old.network.efa"),
        ("GF-STACK-002", "pools.old.software.cuda"),
        ("GF-CLOUD-003", "pools.new.gpu"),
        ("GF-GPU-001", "pools.new.gpu.power_limit_w"),
        ("GF-MIG-001", "pools.new.gpu.mig.3g.40gb"),
        ("GF-STACK-001", "software.driver"),
        ("GF-NET-003", "fabric.type"),
        ("GF-SEC-001", "security.ssh_cidrs[0]"),
    }
    assert [f.severity for f in findings] == sorted(
        (f.severity for f in findings), key=["error", "warning", "info"].index
    )


def test_skip_option_drops_a_code() -> None:
    path = RULE_FIXTURES / "GF-GPU-001" / "fail.yaml"

    assert "GF-GPU-001" in _codes(_findings(path))
    assert "GF-GPU-001" not in _codes(_findings(path, {"GF-GPU-001"}))
    assert _codes(_findings(path, {"GF-GPU-001", "GF-LOCK-001"})) == set()


def test_spec_checks_skip_drops_a_code() -> None:
    text = (RULE_FIXTURES / "GF-GPU-001" / "fail.yaml").read_text(encoding="utf-8")
    doc = load_spec_text(text + "checks: {skip: [GF-GPU-001]}\n", "skip.yaml")

    assert _codes(run_checks(make_context(doc, AS_OF))) == AMBIENT


def test_end_of_life_is_judged_as_of_a_date() -> None:
    # R535's end of life is 2026-06-30 (DCDRV): the branch is still supported that day.
    path = RULE_FIXTURES / "GF-STACK-004" / "fail.yaml"

    assert "GF-STACK-004" not in _codes(_findings(path, as_of=date(2026, 6, 30)))
    assert "GF-STACK-004" in _codes(_findings(path, as_of=date(2026, 7, 1)))


def test_cloud_pool_without_instance_type_gets_the_cheapest_as_info() -> None:
    text = (RULE_FIXTURES / "GF-CLOUD-005" / "fail.yaml").read_text(encoding="utf-8")
    doc = load_spec_text(text.replace("H100:3", "H100:8"), "info.yaml")
    findings = [f for f in run_checks(make_context(doc, AS_OF)) if f.code == "GF-CLOUD-005"]

    assert [(f.severity, f.location.path) for f in findings] == [("info", "pools.train.gpu")]
    assert "p5.48xlarge" in findings[0].message


def test_finding_points_at_the_pool_override_when_there_is_one() -> None:
    text = (RULE_FIXTURES / "GF-STACK-001" / "fail.yaml").read_text(encoding="utf-8")
    cluster_level = load_spec_text(text, "a.yaml")
    pool_level = load_spec_text(
        text.replace('software: {driver: "570", cuda: "13.0"}\n', "")
        + '    software: {driver: "570", cuda: "13.0"}\n',
        "b.yaml",
    )

    for doc, path in (
        (cluster_level, "software.driver"),
        (pool_level, "pools.train.software.driver"),
    ):
        (finding,) = [f for f in run_checks(make_context(doc, AS_OF)) if f.code == "GF-STACK-001"]
        assert finding.location.path == path
        assert finding.pool == "train"


def test_json_view_of_a_finding() -> None:
    (finding,) = [
        f for f in _findings(RULE_FIXTURES / "GF-GPU-001" / "fail.yaml") if f.code == "GF-GPU-001"
    ]

    assert finding.to_dict() == {
        "code": "GF-GPU-001",
        "severity": "error",
        "message": "pool train: power limit 800 W is outside H100's range 200-700 W",
        "fix": "set power_limit_w between 200 and 700 (default 700)",
        "file": str(RULE_FIXTURES / "GF-GPU-001" / "fail.yaml"),
        "line": 10,
        "column": 7,
        "field": "gpu.power_limit_w",
        "pool": "train",
    }


def test_rule_codes_are_well_formed() -> None:
    for code, registered in RULES.items():
        area, number = code.removeprefix("GF-").rsplit("-", 1)
        assert code.startswith("GF-") and area.isupper() and len(number) == 3
        assert registered.code == code and registered.title
        assert registered.func.__doc__, f"{code} has no docstring"
