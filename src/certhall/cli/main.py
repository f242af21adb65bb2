"""The ``certhall`` command. Thin: parse, call one service, print. Every ``CerthallError``
becomes one line on stderr and its exit code (the only place that translation happens).

The boundary also makes two conditions one line instead of a traceback: a command that uses
the database on a home ``certhall setup`` has not made (missing, or migrations not applied:
:func:`_ready_home`), and output into a closed pipe (``certhall token list | head -1``: quiet,
exit status 141 like a shell's SIGPIPE)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any, NamedTuple, NoReturn

from certhall.errors import CerthallError

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, like every other certhall error (argparse would print the usage too).
        self.exit(2, f"{self.prog}: error: {message}\n")


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhall.settings")
    import django

    django.setup()


def _ready_home() -> None:
    """Commands that use the instance's database need a home that ``certhall setup`` made and
    migrated (``setup`` and ``manage`` themselves are exempt: ``needs_home=False``)."""
    from django.db import DatabaseError

    from certhall import config
    from certhall.errors import ConfigurationError

    home = config.get().home
    if not home.is_dir():
        raise ConfigurationError(code="home_missing", home=home)
    try:
        pending = _pending_migrations()
    except DatabaseError as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigurationError(code="database_unavailable", detail=detail) from None
    if pending:
        raise ConfigurationError(code="home_not_migrated", home=home, pending=len(pending))


def _pending_migrations() -> list[object]:
    """The migrations ``certhall setup`` would still apply (Django's plan to the leaves).

    When every migration file on disk is recorded as applied, none is pending and the files
    are not loaded: the plan imports all of them and builds their graph (tens of milliseconds a
    command, a third of a second when the modules are compiled each time). Only a home with
    something left to apply pays for the plan, whose length the refusal names. (A squashed
    migration would need the plan's rules: none replaces another, tests/test_migrations.py.)
    """
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    if _migration_files() <= set(MigrationRecorder(connection).applied_migrations()):
        return []
    executor = MigrationExecutor(connection)
    return list(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _migration_files() -> set[tuple[str, str]]:
    """(app label, name) of every migration on disk, found as Django's loader finds them."""
    import pkgutil
    from importlib import import_module

    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    found = set()
    for app in apps.get_app_configs():
        module_name, _ = MigrationLoader.migrations_module(app.label)
        if module_name is None:
            continue
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue  # an app without migrations (django.contrib.messages, staticfiles)
        for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
            if not info.ispkg and info.name[0] not in "_~":
                found.add((app.label, info.name))
    return found


def _quiet_closed_pipe() -> int:
    """The reader of stdout went away (``| head``): no traceback, and none at exit either when
    Python flushes stdout again (the Python documentation's recipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE


class Command(NamedTuple):
    #: The module whose ``register(commands)`` adds the command's parser.
    module: str
    #: The command's line in ``certhall --help`` (the one copy: ``_Commands`` gives it to the
    #: parser the module adds).
    summary: str


#: Each command, in the order ``certhall --help`` lists them.
COMMANDS: dict[str, Command] = {
    "ca": Command("certhall.cli.ca_cmd", "the certification authority"),
    "audit": Command("certhall.cli.audit_cmd", "the hash-chained audit log"),
    "serve": Command("certhall.cli.serve_cmd", "serve the platform (granian) and run its jobs"),
    "jobs": Command("certhall.cli.serve_cmd", "run the scheduled jobs (CRL, OCSP responder)"),
    "setup": Command("certhall.cli.setup_cmd", "migrate the database and initialise the CA"),
    "manage": Command("certhall.cli.setup_cmd", "run a Django management command"),
    "rules": Command(
        "certhall.cli.rules_cmd", "business rules: fees, documents, channels, hours, deadlines"
    ),
    "calendar": Command(
        "certhall.cli.calendar_cmd", "the working-day calendar (holiday arrangements)"
    ),
    "token": Command("certhall.cli.token_cmd", "Ukeys (PKCS#11 tokens)"),
    "ukeys": Command("certhall.cli.ukeys_cmd", "the Ukey inventory"),
    "outbox": Command("certhall.cli.outbox_cmd", "the SMS outbox (messages not sent by a carrier)"),
    "agent": Command(
        "certhall.cli.agent_cmd",
        "run the certificate helper (证书助手) on 127.0.0.1 for one hall origin",
    ),
    "certlogin": Command(
        "certhall.cli.agent_cmd", "certificate login: the trust list of other CAs and their CRLs"
    ),
    "payments": Command("certhall.payments.cli", "payments: bank statement reconciliation"),
    "refund": Command("certhall.refunds.cli", "the certificate fee refund programme"),
    "portal": Command("certhall.portal.cli", "the public portal: search, index, downloads"),
    "accounts": Command("certhall.cli.accounts_cmd", "accounts: set a password"),
}


class _Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """The commands' sub-parsers: each command's help line is its summary in ``COMMANDS``."""

    def add_parser(
        self,
        name: str,
        *,
        parser_class: type[argparse.ArgumentParser] | None = None,
        **kwargs: Any,
    ) -> argparse.ArgumentParser:
        """``parser_class``: this command's own parser (``certhall agent``'s speaks Chinese)."""
        kwargs.setdefault("help", COMMANDS[name].summary)
        default = self._parser_class
        self._parser_class = parser_class or default
        try:
            parser: argparse.ArgumentParser = super().add_parser(name, **kwargs)
        finally:
            self._parser_class = default
        return parser


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command (``argv`` None); given the command line whose first word
    names a command,
    the parser of that command only (its module alone imported). The parse is the same: the
    top level has no option but --help, so a valid command line starts with its command, and
    anything else (--help, an unknown command, none) gets every command's name and summary,
    as argparse's help and messages list them, without importing any command's module
    (``certhall --help`` only prints, or the message names, the commands)."""
    parser = _Parser(prog="certhall", description="certhall certificate service platform")
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, action=_Commands
    )
    if argv is None:  # every command's whole parser: all their modules
        for module in dict.fromkeys(command.module for command in COMMANDS.values()):
            import_module(module).register(commands)
    elif argv and argv[0] in COMMANDS:
        import_module(COMMANDS[argv[0]].module).register(commands)
    else:
        for name in COMMANDS:
            commands.add_parser(name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)  # --help and a refused command line end here: nothing made
    from certhall.config import private_process

    private_process()  # before the command makes anything
    handler: Handler = args.handler
    try:
        if getattr(args, "needs_django", True):
            _django()
            if getattr(args, "needs_home", True):
                _ready_home()
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        return _quiet_closed_pipe()
    except CerthallError as error:
        # certhall agent's customers read a Chinese prefix (cli.agent_cmd); operators, English
        prefix = getattr(args, "error_prefix", "certhall: error: ")
        print(f"{prefix}{error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
