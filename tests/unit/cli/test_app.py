"""The console script loads only the command module it needs, and `build_app` has them all."""

from __future__ import annotations

import subprocess
import sys

from typer.main import get_command

from gpuforge.cli import _COMMAND_MODULES, _modules_for, build_app


def test_build_app_registers_every_command() -> None:
    group = get_command(build_app())
    registered = set(group.commands)  # type: ignore[attr-defined]
    assert registered == set().union(*_COMMAND_MODULES.values())


def test_one_module_for_a_known_command() -> None:
    assert _modules_for(["check", "spec.yaml", "--json"]) == ["gpuforge.cli.spec_cmds"]
    assert _modules_for(["up", "check.yaml"]) == ["gpuforge.cli.up_cmds"]
    assert _modules_for(["fleet", "status"]) == ["gpuforge.cli.fleet_cmds"]


def test_all_modules_when_the_command_is_unknown_or_absent() -> None:
    assert _modules_for([]) is None
    assert _modules_for(["--help"]) is None
    assert _modules_for(["nonsense"]) is None


def test_check_does_not_import_the_deployment_layers() -> None:
    probe = (
        "import sys; sys.argv = ['gpuforge', 'rules', '--json']\n"
        "from gpuforge.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('gpuforge.ops', 'gpuforge.configure', 'ansible_runner')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "HEAVY []" in done.stderr, done.stderr[-2000:]
