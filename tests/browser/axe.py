"""axe-core in the browser tests: the one fetch of the pinned build and the one way a page is
checked (docs/portal.md, "Accessibility check")."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE_CACHE = Path(__file__).resolve().parents[2] / ".venv" / "axe-core" / AXE_VERSION
#: The rules run: WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices (one
#: h1 a page, every th named, landmarks, heading order).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
#: The impacts a test fails on: every one (the pages had no violation left of any impact on
#: 12-07; serious and critical ones were the first aim).
FAILING = ("critical", "serious", "moderate", "minor")

_RUN = """
async (tags) => (await axe.run(document, {runOnly: tags, resultTypes: ['violations']}))
  .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ')),
                         n: v.nodes.length}))
"""

#: Ids more than one element of the page holds: axe-core's duplicate-id rules are off (WCAG
#: 2.2 made 4.1.1 obsolete; the one left, for ids ARIA names, only asks for a review), but a
#: label's ``for``, an ``aria-describedby`` and a test's ``#id`` all find the first one only.
_TWICE = """
() => {
  const seen = {};
  for (const e of document.querySelectorAll('[id]')) seen[e.id] = (seen[e.id] || 0) + 1;
  return Object.keys(seen).filter(id => seen[id] > 1);
}
"""


def axe_source(tmp_path: Path) -> str:
    """axe-core from the npm registry (``npm pack``), checked against its pinned sha256 and
    kept under .venv for the next run."""
    script = AXE_CACHE / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot fetch axe-core (docs/portal.md)")
        result = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--silent"],
            cwd=tmp_path, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        if result.returncode != 0:
            pytest.skip(f"npm pack axe-core failed (registry unreachable?): {result.stderr[-300:]}")
        with tarfile.open(tmp_path / result.stdout.strip().splitlines()[-1]) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            data = member.read()
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        script.write_bytes(data)
    data = script.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "axe-core is not the pinned build"
    return data.decode()


def axe_violations(page: Page, source: str) -> list[str]:
    """The violations of :data:`FAILING` impact axe-core finds on ``page`` as it is now, each as
    ``rule (impact, n nodes): help - first nodes``, and each id held twice. axe-core is
    evaluated through the DevTools protocol, which the page's Content-Security-Policy does not
    govern: the page needs no ``bypass_csp``."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    found = page.evaluate(_RUN, AXE_TAGS)
    twice: list[str] = page.evaluate(_TWICE)
    return [
        f"{v['id']} ({v['impact']}, {v['n']}): {v['help']} - {', '.join(v['nodes'])}"
        for v in found
        if v["impact"] in FAILING
    ] + [f"duplicate-id: #{id_} on more than one element" for id_ in twice]


_DESCRIBED = """
(field) => {
  const ids = (field.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
  const by = ids.map(id => document.getElementById(id)).filter(Boolean);
  return {invalid: field.getAttribute('aria-invalid'),
          alerts: by.filter(e => e.closest('[role=alert]')).map(e => e.innerText.trim()),
          focused: document.activeElement === field};
}
"""


class Looks:
    """Each page looked at: a screenshot under ``tmp_path`` named ``name``, and what axe finds on
    it, kept by name (``assert_clean`` at the end)."""

    def __init__(self, tmp_path: Path) -> None:
        self.folder = tmp_path
        self.source = axe_source(tmp_path)
        self.inaccessible: dict[str, list[str]] = {}

    def __call__(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)
        if bad := axe_violations(page, self.source):
            self.inaccessible[name] = bad

    def assert_clean(self) -> None:
        assert not self.inaccessible, json.dumps(self.inaccessible, ensure_ascii=False, indent=1)


def refused_fields(page: Page, *selectors: str) -> dict[str, dict[str, object]]:
    """What a screen reader learns of each field ``selectors`` names on a form shown again with
    its refusal (``web.refused``): ``aria-invalid``, the refusal words it is described by (the
    texts of its ``aria-describedby`` inside a ``role="alert"``), whether it has the focus."""
    return {s: page.locator(s).evaluate(_DESCRIBED) for s in selectors}


def assert_refused(page: Page, *selectors: str, words: str | None = None) -> None:
    """Each field of ``selectors`` marked invalid and described by the refusal (``words``, else
    the text of the page's ``#form-error``), the first one focused (docs/portal.md)."""
    words = words or page.locator("#form-error").inner_text().strip()
    assert words
    got = refused_fields(page, *selectors)
    expected = {
        s: {"invalid": "true", "alerts": [words], "focused": i == 0}
        for i, s in enumerate(selectors)
    }
    assert got == expected
