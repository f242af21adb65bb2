"""The ``certhall`` parser (``certhall.cli.main.build_parser``): a command line gets its own
command's parser only, and --help, an unknown command or none still get every command, from the
table of commands alone: the help and argparse's messages are those of the parser with every
command's module imported, and no command's module is imported for them."""

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
    mine = [name for name, entry in COMMANDS.items() if entry.module == COMMANDS[command].module]
    assert _commands(build_parser([command, "--help"])) == mine


def test_a_command_imports_no_other_command_module() -> None:
    code = (
        "import sys; from certhall.cli.main import COMMANDS, build_parser; "
        "build_parser(['ukeys', 'recover']); "
        "print(*sorted({c.module for c in COMMANDS.values()} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["certhall.cli.ukeys_cmd"]


@pytest.mark.parametrize("argv", [["--help"], ["-h", "ukeys"], ["nosuch"], []])
def test_the_help_and_messages_are_those_of_every_command_s_parser(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    whole = build_parser()  # every command's module imported, each registering its commands
    outputs = []
    for parser in (build_parser(argv), whole):
        with pytest.raises(SystemExit) as stopped:
            parser.parse_args(argv)
        outputs.append((stopped.value.code, capsys.readouterr()))
    assert outputs[0] == outputs[1]
    assert outputs[0][1].out or outputs[0][1].err  # the help, or the one-line refusal


def test_the_help_imports_no_command_module_nor_the_configuration() -> None:
    code = (
        "import sys; from certhall.cli.main import COMMANDS, main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('IMPORTED', *sorted({c.module for c in COMMANDS.values()} & set(sys.modules)), "
        "*sorted({'certhall.config', 'django'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "usage: certhall" in result.stdout
    assert result.stdout.splitlines()[-1] == "IMPORTED"
