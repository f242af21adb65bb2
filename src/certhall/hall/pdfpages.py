"""A PDF's page sizes, read by pypdf in a checking child under a CPU-time and memory limit
(``hall.checking``): ``check(PATH, PAGES, OBJECTS)`` (the most pages and objects it may have)
answers ``{"pages": [[width_mm, height_mm], ...]}`` or ``{"error": code}``
(``hall.storage.check_pdf`` runs it and refuses in Chinese).

A child because pypdf parses in Python and repairs a damaged file object by object: a 5 MB
run of digits after ``%PDF-`` kept it busy 26 s, a PDF of 68,000 objects whose ``startxref``
points nowhere 23 s (12-07, on a loaded machine). A thread cannot be stopped; a child is,
by the kernel once it has used ``checking.SECONDS`` of CPU. Imports nothing of Django.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: The page tree's nodes walked at most per page allowed (pages and the nodes above them):
#: pypdf's own walk (``reader.pages``) lists every page, 60,000 empty pages (7.6 MB) in 7.9 s.
NODES_PER_PAGE = 4


class TooManyPages(Exception):
    pass


#: An entry of a cross-reference table; a cross-reference stream's /Size or /Index (its
#: dictionary is never compressed): fixed widths or bounded digits, so a search is linear.
_XREF_ENTRY = re.compile(rb"\d{10} \d{5} [nf]")
_XREF_COUNTS = re.compile(rb"/(Size|Index)\s*\[?([\d\s]{1,200})")


def objects_in(data: bytes) -> int:
    """The most objects the PDF ``data`` makes pypdf read: its object headers (``obj`` once
    and ``endobj`` once each), its cross-reference tables' entries, or what a cross-reference
    stream declares (its /Size, the counts of its /Index). Counted here, in the child under its
    CPU time, not in the web worker: a 5 MiB upload of ``/Size 1`` repeated is 750,000 matches
    read one by one in Python, 0.6 s of the worker's CPU (a 20 MiB one 2.5 s), every other
    request of that process waiting on the interpreter meanwhile (12-07, a probe)."""
    counts = [data.count(b"obj") // 2, len(_XREF_ENTRY.findall(data))]
    for key, numbers in _XREF_COUNTS.findall(data):
        values = [int(n) for n in numbers.split()]
        counts.append(sum(values[1::2]) if key == b"Index" else max(values, default=0))
    return max(counts)


def page_sizes(reader: Any, most: int) -> list[tuple[float, float]]:
    """Each page's width and height in millimetres (its MediaBox, inherited down the page
    tree, times its UserUnit), walked here rather than by ``reader.pages`` so that the walk
    stops past ``most`` pages (TooManyPages) or ``NODES_PER_PAGE`` times as many nodes
    (ValueError)."""
    pages = reader.trailer["/Root"].get_object()["/Pages"].get_object()
    count = pages.get("/Count", 0)
    if isinstance(count, int) and count > most:
        raise TooManyPages
    sizes: list[tuple[float, float]] = []
    stack: list[tuple[Any, Any]] = [(pages, None)]
    for _ in range(NODES_PER_PAGE * most):
        if not stack:
            return sizes
        node, box = stack.pop()
        box = node.get("/MediaBox", box)
        if "/Kids" in node:
            stack.extend((kid.get_object(), box) for kid in reversed(node["/Kids"]))
            continue
        if len(sizes) == most:
            raise TooManyPages
        left, bottom, right, top = (float(n) for n in box.get_object())
        mm = float(node.get("/UserUnit", 1)) * 25.4 / 72  # a point is 1/72 inch
        sizes.append((abs(right - left) * mm, abs(top - bottom) * mm))
    raise ValueError("page tree too large")


def read(path: str, most: int, objects: int) -> dict[str, Any]:
    with open(path, "rb") as file:
        if objects_in(file.read()) > objects:
            return {"error": "pdf_too_complex"}
    import pypdf  # imported by the zygote (``hall.checking``) before any child

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            return {"error": "pdf_encrypted"}
        return {"pages": page_sizes(reader, most)}
    except TooManyPages:
        return {"error": "pdf_too_many_pages"}
    except Exception:  # any failure of a parser on a damaged file: it does not open
        return {"error": "pdf_unreadable"}


def check(path: str, most: str, objects: str) -> dict[str, Any]:
    """The checking child's answer for the PDF at ``path`` (``hall.checking``)."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings on repairing a file
    return read(path, int(most), int(objects))
