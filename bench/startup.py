"""What a ``certhall`` command costs before it does anything (docs/performance.md, section 9).

``python -m bench startup`` (part of ``make bench``) or ``python -m bench.startup [--rounds
N]``: one fresh SQLite instance, migrated (``certhall manage migrate``), then ``--rounds``
rounds of real processes, each round starting the baseline and each command once (the order
alternating between rounds). Timed: CPU (user + system, from ``RUSAGE_CHILDREN``) and wall of
each process, medians over the rounds. Compiled modules are kept (``PYTHONPYCACHEPREFIX``
under the instance, as the crash tests do when ``PYTHONDONTWRITEBYTECODE`` is set), after one
warm-up run of each.

**Baseline**, in the same rounds: ``python -c "import django; django.setup()"`` on the same
settings and instance, i.e. Django and every installed app imported and made ready (the
project's start-up validation included), which every command that uses the database pays. The
ratio is a command's CPU over the baseline's: what the command line adds (the parser, the
home's migration check, the command's own imports and work). ``certhall --help`` never sets
Django up, so its ratio is below 1.

The check that fails the benchmark: every process exits 0.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from typing import Any

from bench.common import BenchFailure, handle_signals, instance, log, median

BASELINE = ("-c", "import django; django.setup()")
COMMANDS: tuple[tuple[str, ...], ...] = (("ukeys", "recover"), ("audit", "verify"), ("--help",))


def _run(argv: tuple[str, ...], env: dict[str, str]) -> tuple[float, float, int]:
    """CPU and wall seconds of one process, and its exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.returncode


def measure(rounds: int) -> dict[str, Any]:
    with instance("sqlite", "startup") as inst:
        env = inst.env()
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(inst.home / "pycache")
        cli = ("-m", "certhall.cli.main")
        migrated = subprocess.run(
            [sys.executable, *cli, "manage", "migrate", "-v0"], env=env, check=False
        )
        if migrated.returncode:
            raise BenchFailure(f"startup: migrate exited {migrated.returncode}")
        runs: dict[str, tuple[str, ...]] = {"baseline": BASELINE}
        runs.update({" ".join(c): (*cli, *c) for c in COMMANDS})
        for argv in runs.values():
            _run(argv, env)  # warm-up: the modules compiled
        seen: dict[str, list[tuple[float, float, int]]] = {name: [] for name in runs}
        for i in range(rounds):
            order = list(runs.items())
            for name, argv in order if i % 2 == 0 else reversed(order):
                seen[name].append(_run(argv, env))
        log(f"startup: {rounds} rounds of {len(runs)} processes")
    return {
        "benchmark": "startup",
        "db": "sqlite",
        "rounds": rounds,
        "cpu_s": {name: median([r[0] for r in rs]) for name, rs in seen.items()},
        "wall_s": {name: median([r[1] for r in rs]) for name, rs in seen.items()},
        "failed": sorted({name for name, rs in seen.items() if any(r[2] for r in rs)}),
    }


def summary(r: dict[str, Any]) -> list[str]:
    base = r["cpu_s"]["baseline"]
    lines = []
    for name in (" ".join(c) for c in COMMANDS):
        cpu, wall = r["cpu_s"][name], r["wall_s"][name]
        lines.append(
            f"startup[sqlite]: certhall {name}: {cpu:.3f} s CPU (wall {wall:.3f} s) = "
            f"{cpu / base:.2f}x django.setup() on the same settings ({base:.3f} s CPU)"
        )
    lines += [f"startup[sqlite]: FAILED check: {name} exited non-zero" for name in r["failed"]]
    return lines


def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("startup")
    g.add_argument("--startup-rounds", type=int, default=15, help="rounds (default 15)")


def quick(args: argparse.Namespace) -> None:
    args.startup_rounds = 3


def orchestrate(args: argparse.Namespace) -> tuple[list[str], list[Any]]:
    result = measure(args.startup_rounds)
    return summary(result), [result]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.startup")
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    lines, _ = orchestrate(argparse.Namespace(startup_rounds=args.rounds))
    print("\n".join(lines))
    if any("FAILED" in line for line in lines):
        raise BenchFailure("startup benchmark failed (see above)")
    return 0


if __name__ == "__main__":
    handle_signals()
    sys.exit(main(sys.argv[1:]))
