"""The ``certhall`` parser (``certhall.cli.main.build_parser``): a command line gets its own
command's parser only, and --help, an unknown command or none still get every command."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from certhall.cli.main import COMMANDS, build_parser


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    action = next(a for a in parser._actions if a.dest == "command")
    return list(action.choices or ())


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h", "ukeys"], ["nosuch"], ["--bogus"]])
def test_anything_but_a_command_gets_every_command(argv: list[str]) -> None:
    assert _commands(build_parser(argv)) == list(COMMANDS) == _commands(build_parser())


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_command_gets_its_own_module_only(command: str) -> None:
    mine = [name for name, module in COMMANDS.items() if module == COMMANDS[command]]
    assert _commands(build_parser([command, "--help"])) == mine


def test_a_command_imports_no_other_command_module() -> None:
    code = (
        "import sys; from certhall.cli.main import COMMANDS, build_parser; "
        "build_parser(['ukeys', 'recover']); "
        "print(*sorted(set(COMMANDS.values()) & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["certhall.cli.ukeys_cmd"]
