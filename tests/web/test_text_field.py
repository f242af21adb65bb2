"""``web.errors.text_field``: what a form or a link sent, refused when too long, never cut."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from certhall.errors import InvalidInput, bounded
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


def test_bounded_names_the_field_when_told_which() -> None:
    """The one bound of a text (errors.bounded) under text_field, the services' reasons and the
    portal's and the printed forms' fields: three codes and two limits ("名称或版本": 200 for
    a version of at most 40) before."""
    assert bounded("快递", 2, "快递公司") == "快递"
    with pytest.raises(InvalidInput) as refused:
        bounded("顺" * 33, 32, "快递公司")
    assert refused.value.code == "field_too_long"
    assert refused.value.message == "快递公司不能超过32个字，请核对后重新填写。"


def test_text_field_names_the_field_when_told_which() -> None:
    data = QueryDict(mutable=True)
    data.update({"email": "a" * 255})
    with pytest.raises(InvalidInput) as refused:
        text_field(data, "email", 254, what="电子邮箱")
    assert refused.value.message == "电子邮箱不能超过254个字，请核对后重新填写。"
