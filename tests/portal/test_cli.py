"""certhall portal search QUERY [--json] [--limit N]."""

from __future__ import annotations

import json

import pytest

from certhall.accounts.models import User
from certhall.cli.main import main

pytestmark = pytest.mark.django_db


def test_search_json(seeded: User, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["portal", "search", "費用返還", "--json", "--limit", "3"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert 1 <= len(hits) <= 3
    assert hits[0] == {
        "title": "廣東省深圳市電子政務平臺數字證書費用返還公告",
        "kind": "notice",
        "kind_label": "公告",
        "url": hits[0]["url"],
        "date": "2022-01-13",
    }
    assert hits[0]["url"].startswith("/notices/")


def test_search_text_and_errors(seeded: User, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["portal", "search", "Ukey", "--limit", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and out[-1].startswith("(")
    assert main(["portal", "search", "长" * 101]) == 2
    assert "搜索词不能超过100个字" in capsys.readouterr().err
    assert main(["portal", "search", "x", "--limit", "0"]) == 2
    assert main(["portal", "search", "火星移民签证", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
