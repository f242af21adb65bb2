"""certhall agent (the certificate helper) and certhall certlogin (trust list administration)."""

from __future__ import annotations

import argparse
import logging
import unicodedata
from pathlib import Path
from typing import Any, NoReturn

from certhall.messages import text


class _ChineseHelp(argparse.HelpFormatter):
    """The helper's ``--help`` is read by the customers who run it: Chinese from the catalogue,
    its usage line's prefix too (the rest of the command line stays English)."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, text("cli_label.usage"))

    def format_help(self) -> str:
        # argparse ends a section's title with its ASCII colon (选项:): the Chinese one
        title = text("cli_label.options")
        return super().format_help().replace(f"\n{title}:\n", f"\n{title}：\n")

    # The Chinese placeholders (``--port 端口``) take two columns a character: the help column
    # is placed by the columns, not by the characters argparse counts.
    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            invocation = self._format_action_invocation(action)
            columns = len(invocation) + _wide(invocation) + self._current_indent
            self._action_max_length = max(self._action_max_length, columns)

    def _format_action(self, action: argparse.Action) -> str:
        formatted = super()._format_action(action)
        invocation = self._format_action_invocation(action)
        wide = _wide(invocation)
        return formatted.replace(invocation + " " * wide, invocation, 1) if wide else formatted


def _wide(words: str) -> int:
    return sum(unicodedata.east_asian_width(c) in "WF" for c in words)


#: argparse's own words a customer can meet on ``certhall agent``'s command line, by argparse's
#: message id: the catalogue code, and the %-field argparse fills in for each of its fields.
_ARGPARSE_WORDS: dict[str, tuple[str, dict[str, str]]] = {
    "usage: ": ("cli_label.usage", {}),
    "argument %(argument_name)s: %(message)s": (
        "cli_label.argument",
        {"option": "%(argument_name)s", "message": "%(message)s"},
    ),
    "unrecognized arguments: %s": ("cli_label.unrecognized", {"arguments": "%s"}),
    "the following arguments are required: %s": ("cli_label.required", {"arguments": "%s"}),
    "expected one argument": ("cli_label.expected_one", {}),
    "ambiguous option: %(option)s could match %(matches)s": (
        "cli_label.ambiguous",
        {"option": "%(option)s", "matches": "%(matches)s"},
    ),
    "ignored explicit argument %r": ("cli_label.explicit", {"value": "%s"}),
    "invalid %(type)s value: %(value)r": ("cli_label.invalid_value", {"value": "%(value)s"}),
}


def _argparse_word(message: str) -> str:
    """argparse's gettext hook while the helper's command line is parsed: its Chinese template
    (argparse's own %-fields in the catalogue's places), or argparse's word if it has none."""
    if message not in _ARGPARSE_WORDS:
        return message
    code, fields = _ARGPARSE_WORDS[message]
    return text(code, **fields)


class _ChineseParser(argparse.ArgumentParser):
    """``certhall agent``'s parser: a customer who mistypes its command line reads Chinese, like
    its ``--help`` (argparse's words through its gettext hook, for this parse only), and one line
    with the way to the help. The rest of the CLI is the operators' and stays English."""

    def parse_known_args(  # type: ignore[override]
        self, args: Any = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        english = argparse._  # type: ignore[attr-defined]
        argparse._ = _argparse_word  # type: ignore[attr-defined]
        try:
            parsed, extras = super().parse_known_args(args, namespace)
            if extras:  # refused here: the top-level parser would refuse them in English
                self.error(_argparse_word("unrecognized arguments: %s") % " ".join(extras))
        finally:
            argparse._ = english  # type: ignore[attr-defined]
        return parsed, []

    def error(self, message: str) -> NoReturn:
        self.exit(2, text("agent_help.refused", prog=self.prog, message=message) + "\n")


def _port(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(text("cli_label.port_value", value=value)) from None


def register(commands: Any) -> None:
    from certhall.agent import DEFAULT_PORT
    from certhall.tokens.softhsm import DEFAULT_MODULE

    p = commands.add_parser(
        "agent",
        description=text("agent_help"),
        formatter_class=_ChineseHelp,
        add_help=False,
        parser_class=_ChineseParser,
    )
    # its own group, titled in Chinese: argparse's "options" section is left empty, not shown
    options = p.add_argument_group(text("cli_label.options"))
    options.add_argument("-h", "--help", action="help", help=text("agent_help.help"))
    hall = "http://127.0.0.1:8000"
    options.add_argument(
        "--hall-origin",
        default=hall,
        metavar=text("cli_label.metavar_origin"),
        help=text("agent_help.hall_origin", default=hall),
    )
    options.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        metavar=text("cli_label.metavar_port"),
        help=text("agent_help.port", default=DEFAULT_PORT),
    )
    options.add_argument(
        "--module",
        default=DEFAULT_MODULE,
        metavar=text("cli_label.metavar_file"),
        help=text("agent_help.module"),
    )
    options.add_argument(
        "--conf", metavar=text("cli_label.metavar_file"), help=text("agent_help.conf")
    )
    options.add_argument("--verbose", action="store_true", help=text("agent_help.verbose"))
    p.set_defaults(
        handler=agent,
        needs_django=False,
        error_prefix=text("cli_label.agent_error", prog="certhall agent"),
    )

    from certhall.certlogin import cli as certlogin_cli

    certlogin_cli.register(commands)


def agent(args: argparse.Namespace) -> int:
    from certhall.agent.server import AgentConfig, serve

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s agent %(message)s",
    )
    config = AgentConfig(
        hall_origin=args.hall_origin,
        port=args.port,
        module=args.module,
        conf=Path(args.conf) if args.conf else None,
    )
    try:
        serve(config)
    except OSError as error:
        from certhall.errors import ConfigurationError

        raise ConfigurationError(code="cli_listen", port=args.port, error=error.strerror) from None
    return 0
