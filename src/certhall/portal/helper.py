"""The certificate helper (证书助手) as one file a customer runs: a zipapp of ``certhall agent``.

The archive holds the pure-Python parts the helper needs (``certhall.agent``, ``tokens``,
``pki``, ``messages``, ``errors``, ``clock``) and a ``__main__`` that starts the helper for this
instance's hall origin. Its two compiled dependencies cannot run from inside a zip; the start
instructions (:data:`INSTRUCTIONS`) install them with pip first. The build is reproducible: the
same sources give the same bytes (fixed timestamps, sorted entries), so the published sha256
can be checked against a build of one's own.
"""

from __future__ import annotations

import io
import zipfile
from importlib import metadata
from pathlib import Path

import certhall

#: Package parts the helper imports (checked by running the built file in the tests).
PARTS = ("__init__.py", "errors.py", "clock.py", "messages", "agent", "tokens", "pki")
REQUIREMENTS = ("cryptography==50.0.2", "python-pkcs11==0.10.1")
FILE_NAME = "certhall-helper.pyz"
SHEBANG = b"#!/usr/bin/env python3\n"
EPOCH = (2026, 1, 1, 0, 0, 0)

MAIN = '''"""证书助手 (certhall agent) for {origin}."""
import argparse
import logging
import sys
from pathlib import Path

if sys.version_info < (3, 12):
    sys.exit("证书助手需要 Python 3.12 或更高版本，当前为 %d.%d。" % sys.version_info[:2])
try:
    from certhall.agent import DEFAULT_PORT
    from certhall.agent.server import AgentConfig, serve
    from certhall.tokens.softhsm import DEFAULT_MODULE
except ImportError as missing:
    sys.exit(
        "证书助手缺少依赖（%s）。请先安装：python3 -m pip install {requirements}" % missing.name
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="certhall-helper", description="证书助手")
    parser.add_argument("--hall-origin", default={origin!r})
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--module", default=DEFAULT_MODULE)
    parser.add_argument("--conf")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    config = AgentConfig(
        hall_origin=args.hall_origin,
        port=args.port,
        module=args.module,
        conf=Path(args.conf) if args.conf else None,
    )
    print("证书助手已启动：127.0.0.1:%d（按 Ctrl+C 退出）" % args.port, flush=True)
    serve(config)
    return 0


sys.exit(main())
'''

#: The 下载 page's install steps: the words of each step and the command it runs, if any (the
#: page shows a command as its own copyable code block, not inside running text).
STEPS: tuple[tuple[str, str], ...] = (
    ("在插着Ukey的电脑上下载并运行（手机上无法使用），需要 Python 3.12 或更高版本。", ""),
    ("首次使用先安装依赖：", "python3 -m pip install " + " ".join(REQUIREMENTS)),
    (
        "启动（保持窗口打开，浏览器中的证书登录与续期会通过它访问 Ukey）：",
        f"python3 {FILE_NAME}",
    ),
    (
        "Ukey 驱动（PKCS#11 模块）不在默认位置时，启动时写明驱动文件路径：",
        f"python3 {FILE_NAME} --module 驱动文件路径",
    ),
)
#: The steps as lines of text (the download's stored description).
INSTRUCTIONS = tuple(words + command for words, command in STEPS)


def version() -> str:
    try:
        return metadata.version("certhall")
    except metadata.PackageNotFoundError:
        return "0"


def _files() -> list[tuple[str, Path]]:
    root = Path(certhall.__file__).parent
    found: list[tuple[str, Path]] = []
    for part in PARTS:
        path = root / part
        paths = [path] if path.is_file() else sorted(path.rglob("*"))
        for item in paths:
            if item.is_file() and "__pycache__" not in item.parts and item.suffix != ".pyc":
                found.append((f"certhall/{item.relative_to(root).as_posix()}", item))
    return sorted(found)


def _entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def build(origin: str) -> bytes:
    """The helper for the hall at ``origin``, as the bytes of a ``.pyz`` file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _entry(
            archive,
            "__main__.py",
            MAIN.format(origin=origin, requirements=" ".join(REQUIREMENTS)).encode(),
        )
        for name, path in _files():
            _entry(archive, name, path.read_bytes())
    return SHEBANG + buffer.getvalue()
