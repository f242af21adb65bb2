"""``web.errors.text_field``: what a form or a link sent, refused when too long, never cut."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from certhall.errors import InvalidInput
from certhall.web.errors import text_field


def test_a_text_is_read_whole_or_refused() -> None:
    data = QueryDict(mutable=True)
    data.update({"name": "  张三  ", "secret": " a b ", "long": "长" * 11})
    assert text_field(data, "name", 2) == "张三"
    assert text_field(data, "secret", 5, strip=False) == " a b "
    assert text_field(data, "absent", 1) == ""
    assert text_field(data, "long", 11) == "长" * 11
    with pytest.raises(InvalidInput) as refused:
        text_field(data, "long", 10)
    assert refused.value.code == "field_too_long"
    assert refused.value.message == "填写的内容过长：此项最多10个字，请核对后重新填写。"
