"""What `/api/openapi.json` documents an answer to be, for tests that compare the two."""

from __future__ import annotations

from typing import Any

from django.test import Client


def _resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The object ``schema`` describes: a reference followed, of a list its items, of an
    ``X | None`` its X."""
    while True:
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif schema.get("type") == "array":
            schema = schema["items"]
        elif "anyOf" in schema:
            (schema,) = [s for s in schema["anyOf"] if s.get("type") != "null"]
        else:
            return schema


def documented_fields(method: str, path: str, status: int, *inside: str) -> set[str]:
    """The properties the document gives the answer of ``method path`` with ``status`` (of a
    list, its items'; ``inside`` walks down named properties first)."""
    document = Client().get("/api/openapi.json").json()
    answer = document["paths"][path][method.lower()]["responses"][str(status)]
    schema = _resolved(document, answer["content"]["application/json"]["schema"])
    for name in inside:
        schema = _resolved(document, schema["properties"][name])
    return set(schema["properties"])
