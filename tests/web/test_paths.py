"""certhall.web.paths gives what Django's reverse gives, for every page a list links to."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from certhall.web import paths

NAMES = (
    "hall-applicant:detail",
    "hall-applicant:documents",
    "hall-applicant:handler",
    "hall-applicant:delivery",
    "hall-applicant:identity",
    "hall-applicant:confirm",
)
ARGS = ("SZ2026120400001", "a b", "中文", "100%", "x;y=z@~", "{0}")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("arg", ARGS)
def test_same_path_as_reverse(name: str, arg: str) -> None:
    assert paths.path(name, arg) == reverse(name, args=[arg])


def test_two_arguments_and_no_arguments() -> None:
    assert paths.path("hall-applicant:form-pdf", "SZ1", "org") == reverse(
        "hall-applicant:form-pdf", args=["SZ1", "org"]
    )
    assert paths.path("hall-applicant:new") == reverse("hall-applicant:new")


def test_script_prefix_is_followed() -> None:
    try:
        set_script_prefix("/certhall/")
        assert paths.path("hall-applicant:detail", "SZ1") == "/certhall/hall/applications/SZ1/"
    finally:
        set_script_prefix("/")
    assert paths.path("hall-applicant:detail", "SZ1") == "/hall/applications/SZ1/"


def test_unknown_name_is_refused_as_reverse_refuses_it() -> None:
    with pytest.raises(NoReverseMatch):
        paths.path("hall-applicant:no-such-page", "SZ1")
