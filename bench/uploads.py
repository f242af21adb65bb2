"""What an uploaded file's check costs (docs/performance.md, section 11).

``python -m bench uploads [--uploads-rounds N]`` (part of ``make bench``):
four files an upload brings (a phone's 1600 x 1200 photo as JPEG, a scan as PNG, a 3-page PDF,
a ZIP of two forms) checked ``--uploads-rounds`` times each, the ways alternating, three ways:

- **zygote**: ``hall.checking.run``, as the store checks (a child forked from the zygote, its
  limits set, its answer read, reaped);
- **baseline, a fresh process**: the same check in a new ``python -P -c`` that imports the
  check's module and runs it, what every check cost until 12-07 (``python -P -m`` a child);
- **floor, in process**: the check's function called in this process, no child at all.

Wall seconds, medians over the rounds; the ratio is the zygote's over the fresh process's. The
check that fails the benchmark: every way answers the same for every file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import log, median

MODULES = {
    "jpeg": ("certhall.hall.pixels", ()),
    "png": ("certhall.hall.pixels", ()),
    "pdf": ("certhall.hall.pdfpages", ("20", "2000")),
    "zip": ("certhall.hall.archives", ()),
}


def _files(folder: Path) -> dict[str, Path]:
    from PIL import Image

    photo = Image.effect_noise((1600, 1200), 40).convert("RGB")
    scan = Image.effect_noise((1240, 1754), 20)
    made = {name: folder / f"upload.{name}" for name in MODULES}
    photo.save(made["jpeg"], "JPEG", quality=85)
    scan.save(made["png"], "PNG")
    scan.save(made["pdf"], "PDF", save_all=True, append_images=[scan, scan])
    with zipfile.ZipFile(made["zip"], "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("申请表.txt", "单位名称：深圳市演示医疗科技有限公司\n" * 200)
        archive.writestr("授权书.txt", "授权经办人办理数字证书业务。\n" * 200)
    return made


def _fresh(module: str, path: Path, arguments: tuple[str, ...]) -> dict[str, Any]:
    code = (
        f"import json, sys; from {module} import check; "
        "print(json.dumps(check(sys.argv[1], *sys.argv[2:])))"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", code, str(path), *arguments],
        capture_output=True,
        check=False,
    )
    answer: dict[str, Any] = json.loads(done.stdout) if done.returncode == 0 else {}
    return answer


def _in_process(module: str, path: Path, arguments: tuple[str, ...]) -> dict[str, Any]:
    check: Callable[..., dict[str, Any]] = importlib.import_module(module).check
    return check(str(path), *arguments)


def _zygote(module: str, path: Path, arguments: tuple[str, ...]) -> dict[str, Any]:
    from certhall.hall import checking

    return checking.run(module, str(path), checking.SECONDS, arguments, 8).answer


WAYS: dict[str, Callable[[str, Path, tuple[str, ...]], dict[str, Any]]] = {
    "zygote": _zygote,
    "fresh": _fresh,
    "in_process": _in_process,
}


def measure(rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as folder:
        files = _files(Path(folder))
        seen: dict[str, dict[str, list[float]]] = {k: {w: [] for w in WAYS} for k in files}
        answers: dict[str, set[str]] = {kind: set() for kind in files}
        for kind, path in files.items():  # warm-up: the zygote started, modules imported
            module, arguments = MODULES[kind]
            for way in WAYS.values():
                way(module, path, arguments)
        for i in range(rounds):
            order = list(WAYS.items()) if i % 2 == 0 else list(reversed(WAYS.items()))
            for kind, path in files.items():
                module, arguments = MODULES[kind]
                for name, way in order:
                    start = time.perf_counter()
                    answer = way(module, path, arguments)
                    seen[kind][name].append(time.perf_counter() - start)
                    answers[kind].add(json.dumps(answer, sort_keys=True))
        log(f"uploads: {rounds} rounds of {len(files)} files, {len(WAYS)} ways")
    return {
        "benchmark": "uploads",
        "rounds": rounds,
        "wall_s": {k: {w: median(v) for w, v in ways.items()} for k, ways in seen.items()},
        "answers": {kind: sorted(found) for kind, found in answers.items()},
    }


def summary(r: dict[str, Any]) -> list[str]:
    lines = []
    for kind, walls in r["wall_s"].items():
        zygote, fresh, floor = walls["zygote"], walls["fresh"], walls["in_process"]
        lines.append(
            f"uploads: {kind} check {zygote * 1000:.1f} ms through the zygote = "
            f"{zygote / fresh:.3f}x a fresh process's {fresh * 1000:.1f} ms "
            f"(in process, no child: {floor * 1000:.1f} ms)"
        )
        answers = r["answers"][kind]
        if len(answers) != 1 or answers[0] == "{}" or '"error"' in answers[0]:
            lines.append(f"uploads: FAILED check: {kind} answered {answers}")
    return lines


def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("uploads")
    g.add_argument("--uploads-rounds", type=int, default=21, help="rounds (default 21)")


def quick(args: argparse.Namespace) -> None:
    args.uploads_rounds = 3


def orchestrate(args: argparse.Namespace) -> tuple[list[str], list[Any]]:
    result = measure(args.uploads_rounds)
    return summary(result), [result]
