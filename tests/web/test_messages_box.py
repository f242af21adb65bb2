"""``web/_messages.html``: a customer page's Django messages, one site.css ``.notice`` each, its
level's look and role (the hall, accounts, refunds and an order's page include it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string


@dataclass
class Message:
    level_tag: str
    text: str

    def __str__(self) -> str:
        return self.text


def test_each_level_is_a_notice_of_its_look() -> None:
    shown = render_to_string(
        "web/_messages.html",
        {
            "messages": [
                Message("success", "发票申请已提交"),
                Message("error", "订单已关闭"),
                Message("warning", "即将到期"),
                Message("info", "登录已超时"),
            ]
        },
    )
    assert '<div class="messages">' in shown
    assert '<p class="notice ok" role="status">发票申请已提交</p>' in shown
    assert '<p class="notice error" role="alert">订单已关闭</p>' in shown
    assert '<p class="notice warn" role="status">即将到期</p>' in shown
    assert '<p class="notice" role="status">登录已超时</p>' in shown


def test_the_box_is_named_when_asked_and_absent_without_messages() -> None:
    named = render_to_string(
        "web/_messages.html",
        {"messages": [Message("success", "已保存")], "messages_id": "order-messages"},
    )
    assert '<div class="messages" id="order-messages">' in named
    assert render_to_string("web/_messages.html", {"messages": []}).strip() == ""
