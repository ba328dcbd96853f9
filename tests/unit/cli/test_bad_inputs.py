"""Bad input never hurts: every command, fed a corpus of broken files, exits 2 with the file, the
field or position, and a fix; never a traceback, and nothing on disk changes.

The corpus lives in tests/fixtures/bad_inputs/<kind>/, one file per case; the tables below say
where each kind is placed, which commands read it, and what the error must mention. Special
files (a FIFO, a directory, /dev/zero, a missing or oversized file) are made by the test.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpuforge.cli import build_app

BAD = Path(__file__).parents[2] / "fixtures" / "bad_inputs"
EXAMPLES = Path(__file__).parents[3] / "examples"
GPUFORGE = Path(sys.executable).parent / "gpuforge"

# Where each kind of file goes, relative to the case's folder.
TARGET = {
    "spec": "cluster.yaml",
    "lock": "cluster.lock",
    "manifest": "deploy/gpuforge.json",
    "journal": "deploy/journal.jsonl",
    "node": "state/clusters/c1/nodes/n1/node.json",
    "cluster": "state/clusters/c1/cluster.json",
}
_SPEC = ["cluster.yaml"]
_DEPLOY = ["--deploy-dir", "deploy"]
# No binary: a command that wrongly took a bad input stops at provision instead of starting nodes.
NO_TERRAFORM = "/nonexistent/terraform"
COMMANDS = {
    "spec": [
        ["check", *_SPEC],
        ["lock", *_SPEC],
        ["render", *_SPEC, "-o", "deploy"],
        ["plan", *_SPEC, *_DEPLOY],
        ["up", *_SPEC, *_DEPLOY],
        ["validate", *_SPEC, *_DEPLOY],
        ["destroy", *_SPEC, "--yes", *_DEPLOY],
    ],
    "lock": [
        ["check", *_SPEC],
        ["render", *_SPEC, "-o", "deploy"],
        ["plan", *_SPEC, *_DEPLOY],
        ["up", *_SPEC, *_DEPLOY],
    ],
    "manifest": [
        ["render", *_SPEC, "-o", "deploy"],
        ["plan", *_SPEC, *_DEPLOY],
        ["up", *_SPEC, *_DEPLOY],
    ],
    "journal": [
        ["up", *_SPEC, "--resume", *_DEPLOY],
        ["up", *_SPEC, *_DEPLOY],
        ["validate", *_SPEC, *_DEPLOY],
        ["destroy", *_SPEC, "--yes", *_DEPLOY],
    ],
    "node": [["fleet", "status", "--state-dir", "state"]],
    "cluster": [["fleet", "status", "--state-dir", "state"]],
}

# fixture file -> what the error must say besides the file's name (a field, position or reason).
EXPECT = {
    "spec/a_list.yaml": "cluster.yaml:1:1: a spec must be a YAML mapping",
    "spec/a_scalar.yaml": "cluster.yaml:1:1: a spec must be a YAML mapping",
    "spec/big_count.yaml": "(pools.t.count): Input should be less than or equal to 4096",
    "spec/billion_laughs.yaml": "aliases expand to more than 10000 extra nodes",
    "spec/binary_garbage.yaml": "cluster.yaml:1:1: contains a NUL byte",
    "spec/binary_tag.yaml": "(software.os): tag `!!binary` is not allowed",
    "spec/control_char.yaml": "cluster.yaml:3:10: control character U+0007",
    "spec/deep_nesting.yaml": "document nests too deeply",
    "spec/duplicate_key.yaml": "cluster.yaml:9:1 (name): duplicate key",
    "spec/empty.yaml": "a spec must be a YAML mapping",
    "spec/float_count.yaml": "(pools.t.count): Input should be a finite number",
    "spec/gpu_garbage.yaml": "(pools.t.gpu): 'H100:eight' is not a GPU request",
    "spec/huge_int.yaml": "(pools.t.count): number with more than 100 digits",
    "spec/key_is_mapping.yaml": "cluster.yaml:9:3: a key must be a plain value",
    "spec/latin1.yaml": "cluster.yaml:3:14: is not valid UTF-8",
    "spec/local_tag.yaml": "(software): tag `!vault` is not allowed",
    "spec/merge_alias_bomb.yaml": "aliases expand to more than 10000 extra nodes",
    "spec/missing_name.yaml": "(name): Field required",
    "spec/missing_target.yaml": "(target): Field required",
    "spec/negative_count.yaml": "(pools.t.count): Input should be greater than or equal to 0",
    "spec/nul_byte.yaml": "cluster.yaml:3:10: contains a NUL byte",
    "spec/only_comment.yaml": "a spec must be a YAML mapping",
    "spec/pools_empty.yaml": "(pools): Dictionary should have at least 1 item",
    "spec/pools_is_list.yaml": "(pools): Input should be a valid dictionary",
    "spec/python_apply_tag.yaml": "(cost): tag `!!python/object/apply:os.system` is not allowed",
    "spec/python_name_tag.yaml": "(name): tag `!!python/name:os.system` is not allowed",
    "spec/recursive_alias.yaml": "(cost.schedule): an alias refers to a block that contains it",
    "spec/rtl_override_name.yaml": "(name): 'bad\\u202ein' is not a valid name",
    "spec/set_tag.yaml": "(security.ssh_cidrs): tag `!!set` is not allowed",
    "spec/string_count.yaml": "(pools.t.count): Input should be a valid integer",
    "spec/tab_indent.yaml": "cluster.yaml:6:1: invalid YAML",
    "spec/truncated.yaml": "cluster.yaml:8:5: invalid YAML",
    "spec/two_documents.yaml": "cluster.yaml:9:1: invalid YAML",
    "spec/unclosed_quote.yaml": "cluster.yaml:8:1: invalid YAML",
    "spec/unicode_name.yaml": "(name): '集群-💥' is not a valid name",
    "spec/unknown_field.yaml": "(colour): unknown field `colour`",
    "spec/utf16.yaml": "cluster.yaml:1:1: is not valid UTF-8",
    "spec/wrong_api_version.yaml": "(apiVersion): Input should be 'gpuforge/v1'",
    "lock/a_list.lock": "`the document` is not a mapping",
    "lock/billion_laughs.lock": "aliases expand to more than 10000 extra nodes",
    "lock/empty.lock": "`the document` is not a mapping",
    "lock/gpus_per_node_text.lock": "(pools.a100.gpus_per_node): not a valid lock file",
    "lock/huge_int.lock": "(pools.a100.gpus_per_node): number with more than 100 digits",
    "lock/latin1.lock": "is not valid UTF-8",
    "lock/missing_pools.lock": "(pools): not a valid lock file: `pools` is missing",
    "lock/nul_byte.lock": "contains a NUL byte",
    "lock/packages_not_list.lock": "(pools.a100.packages): not a valid lock file",
    "lock/pool_is_list.lock": "(pools.h100): not a valid lock file",
    "lock/python_tag.lock": "(cluster): tag `!!python/object/apply:os.system` is not allowed",
    "lock/truncated.lock": "invalid YAML",
    "manifest/a_list.json": "gpuforge.json: is not a JSON object",
    "manifest/deep.json": "gpuforge.json: invalid JSON: document nests too deeply",
    "manifest/empty.json": "gpuforge.json:1:1: invalid JSON",
    "manifest/files_is_string.json": "(files): `files` is not a JSON array",
    "manifest/huge_int.json": "gpuforge.json: invalid JSON: Exceeds the limit",
    "manifest/latin1.json": "gpuforge.json:1:15: is not valid UTF-8",
    "manifest/nul_byte.json": "gpuforge.json:1:16: contains a NUL byte",
    "manifest/roots_is_list.json": "(roots): `roots` is not a JSON object",
    "manifest/truncated.json": "gpuforge.json:1:31: invalid JSON",
    "journal/binary_garbage.jsonl": "journal.jsonl:1:1: contains a NUL byte",
    "journal/latin1.jsonl": "journal.jsonl:2:34: is not valid UTF-8",
    "journal/nul_byte.jsonl": "journal.jsonl:2:32: contains a NUL byte",
    "fleet/cluster_subnet_is_number.json": "(subnet): not a cluster record",
    "fleet/cluster_truncated.json": "cluster.json:1:16: invalid JSON",
    "fleet/node_a_list.json": "node.json: is not a JSON object",
    "fleet/node_faults_is_text.json": "(faults): not a node record",
    "fleet/node_missing_fields.json": "(cluster): not a node record: `cluster` is missing",
    "fleet/node_nul_byte.json": "contains a NUL byte",
    "fleet/node_pid_is_text.json": "(launcher_pid): not a node record",
    "fleet/node_truncated.json": "node.json:1:41: invalid JSON",
    "fleet/node_unknown_field.json": "(owner): not a node record: `owner` is not a field",
}

# Files that are not files: made in place of each kind's target.
SPECIAL: dict[str, Callable[[Path], None]] = {
    "fifo": lambda path: os.mkfifo(path),
    "directory": lambda path: path.mkdir(),
    "dev-zero": lambda path: path.symlink_to("/dev/zero"),
}
SPECIAL_EXPECT = {
    "fifo": "is a named pipe (FIFO), not a regular file",
    "directory": "is a directory, not a regular file",
    "dev-zero": "is a character device, not a regular file",
}


def _special_expect(kind: str, special: str) -> str:
    """The deployment folder refuses any symlink before what it points at is looked at."""
    if special == "dev-zero" and TARGET[kind].startswith("deploy/"):
        return "is a symlink inside the deployment folder"
    return SPECIAL_EXPECT[special]


@dataclass(frozen=True)
class Case:
    """One bad input: which kind of file, made how, and what the error must say."""

    kind: str
    name: str
    expect: str
    make: Callable[[Path], None]

    @property
    def shown(self) -> str:
        """The name of the file as the error must show it."""
        return Path(TARGET[self.kind]).name


def _copy_from(source: Path) -> Callable[[Path], None]:
    return lambda path: shutil.copyfile(source, path)


def _kind_of(fixture: str) -> str:
    folder, name = fixture.split("/")
    return name.split("_", 1)[0] if folder == "fleet" else folder


def _oversized(path: Path) -> None:
    path.write_text("a: " + "x" * (4 * 1024 * 1024) + "\n", encoding="utf-8")


def corpus() -> list[Case]:
    """Every case: the fixture files, then each special file in place of each kind of file."""
    cases = [
        Case(_kind_of(fixture), fixture, expect, _copy_from(BAD / fixture))
        for fixture, expect in sorted(EXPECT.items())
    ]
    for kind in TARGET:
        cases += [
            Case(kind, f"{kind}/<{special}>", _special_expect(kind, special), SPECIAL[special])
            for special in SPECIAL
        ]
    cases.append(Case("spec", "spec/<oversized>", "is larger than 4 MiB", _oversized))
    cases.append(Case("lock", "lock/<oversized>", "is larger than 4 MiB", _oversized))
    return cases


CASES = corpus()


def _node_record() -> str:
    return (
        '{"address": "10.77.0.2", "cluster": "c1", "faults": [], "launcher_pid": 0, '
        '"launcher_start": 0, "name": "n1", "owner_pid": 0, "owner_start": 0, "pool": "p", '
        '"profile": "h100-sxm-8", "state": "stopped", "subnet": "10.77.0.0/24"}\n'
    )


def place(case: Case, root: Path) -> None:
    """Lay out a valid spec, lock, deployment and fleet state, with the case's bad file in."""
    shutil.copyfile(EXAMPLES / "local.yaml", root / "cluster.yaml")
    shutil.copyfile(EXAMPLES / "local.lock", root / "cluster.lock")
    inventory = root / "deploy" / "ansible" / "inventory" / "hosts.yml"
    inventory.parent.mkdir(parents=True)
    inventory.write_text("all: {}\n", encoding="utf-8")
    (root / "deploy" / "terraform").mkdir()
    nodes = root / "state" / "clusters" / "c1" / "nodes" / "n1"
    nodes.mkdir(parents=True)
    (nodes.parents[1] / "cluster.json").write_text(
        '{"name": "c1", "subnet": "10.77.0.0/24", "bridge": "gfb1"}\n', encoding="utf-8"
    )
    (nodes / "node.json").write_text(_node_record(), encoding="utf-8")
    (root / "state" / "lock").touch()  # every fleet command takes the state's lock
    target = root / TARGET[case.kind]
    target.unlink(missing_ok=True)
    case.make(target)
    if case.kind == "spec":
        (root / "cluster.lock").unlink()  # the lock of local.yaml does not fit these specs


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every path under `root` with its type and, for regular files, its bytes."""
    found: dict[str, tuple[int, bytes]] = {}
    for path in sorted(root.rglob("*")):
        mode = path.lstat().st_mode
        data = path.read_bytes() if stat.S_ISREG(mode) else b""
        found[str(path.relative_to(root))] = (stat.S_IFMT(mode), data)
    return found


def _assert_refused(code: int, output: str, case: Case, args: list[str]) -> None:
    where = f"{case.name} via {' '.join(args)}:\n{output}"
    assert code == 2, where
    assert "Traceback" not in output, where
    assert case.shown in output, where
    assert case.expect in output, where
    assert "To fix:" in output, where


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_command_refuses_the_bad_input(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 2, the file and the field or reason, a fix; nothing written; no traceback."""
    place(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GPUFORGE_DEBUG", raising=False)
    monkeypatch.setenv("GPUFORGE_FLEET_DIR", str(tmp_path / "state"))
    # Were a command to take the bad input, it must not get as far as starting fleet nodes.
    monkeypatch.setenv("GPUFORGE_TERRAFORM", NO_TERRAFORM)
    before = snapshot(tmp_path)
    for args in COMMANDS[case.kind]:
        result = CliRunner().invoke(build_app(), args, env={"COLUMNS": "400"})
        assert isinstance(result.exception, SystemExit | None), result.exception
        _assert_refused(result.exit_code, result.output, case, args)
        assert snapshot(tmp_path) == before, f"{' '.join(args)} wrote something"


def test_the_corpus_covers_every_fixture_and_is_large() -> None:
    """Each fixture file has an expectation (and the other way round); 50 cases at least."""
    files = {str(p.relative_to(BAD)) for p in BAD.rglob("*") if p.is_file()}
    assert files == set(EXPECT)
    assert len(CASES) >= 50


ENTRY_POINT_CASES = [
    "spec/billion_laughs.yaml",
    "spec/python_apply_tag.yaml",
    "spec/<fifo>",
    "lock/nul_byte.lock",
    "manifest/a_list.json",
    "journal/<directory>",
    "node/<fifo>",
]


@pytest.mark.parametrize("name", ENTRY_POINT_CASES)
def test_the_installed_command_refuses_the_bad_input(name: str, tmp_path: Path) -> None:
    """The same through the console script, in a process of its own (with --json as well)."""
    case = next(c for c in CASES if c.name == name)
    place(case, tmp_path)
    before = snapshot(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "GPUFORGE_DEBUG"} | {
        "GPUFORGE_FLEET_DIR": str(tmp_path / "state"),
        "GPUFORGE_TERRAFORM": NO_TERRAFORM,
        "COLUMNS": "400",
    }
    args = COMMANDS[case.kind][-1]
    for extra in ([], ["--json"]):
        done = subprocess.run(
            [str(GPUFORGE), *args, *extra],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        output = done.stdout + done.stderr
        if extra:
            assert '"fix":' in output and "Traceback" not in output, output
            assert done.returncode == 2 and case.expect in output, output
        else:
            _assert_refused(done.returncode, output, case, args)
    assert snapshot(tmp_path) == before


def test_a_corrupt_manifest_is_recovered_from_its_copy(tmp_path: Path) -> None:
    """A broken gpuforge.json no longer blocks the deployment: its copy is used, with a warning."""
    place(Case("spec", "ok", "", _copy_from(EXAMPLES / "local.yaml")), tmp_path)
    shutil.copyfile(EXAMPLES / "local.lock", tmp_path / "cluster.lock")
    args = ["render", str(tmp_path / "cluster.yaml"), "-o", str(tmp_path / "deploy")]
    first = CliRunner().invoke(build_app(), args)
    manifest = tmp_path / "deploy" / "gpuforge.json"
    good = manifest.read_text(encoding="utf-8")
    manifest.write_text('[1, 2]\n{"roots":', encoding="utf-8")

    again = CliRunner().invoke(build_app(), args, env={"COLUMNS": "400"})

    assert (first.exit_code, again.exit_code) == (0, 0), again.output
    assert f"warning {manifest}:2:1: invalid JSON: Extra data; using its backup" in again.stderr
    assert manifest.read_text(encoding="utf-8") == good
