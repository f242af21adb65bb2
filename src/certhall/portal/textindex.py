"""How text becomes search keys: script folding, units, bigrams, highlighting. No Django.

1. **Folding**, character by character: NFKC (full-width ``ＣＡ`` is ``CA``), lower case, then
   OpenCC's Traditional-to-Simplified conversion (``t2s``) of the single character. Folding one
   character at a time keeps every position of the folded text on the same position of the
   original, which the highlighter needs; OpenCC's phrase tables would change lengths. Both
   the index and the query are folded the same way, so 臺/台, 證/证, 規格/规格 meet; a few
   variants t2s leaves apart are folded after it (:data:`VARIANTS`: 帳/帐/賬/账).
2. **Units**: a run of Latin letters and digits is one unit (``ukey``, ``32``, ``20250714``);
   every other letter (a Chinese character) is a unit of its own. Anything else (spaces,
   punctuation) ends a *segment*.
3. **Grams**: in each segment, every pair of neighbouring units ``(head, tail)``, plus
   ``(last, "")`` for its last unit. So every unit starts exactly one kind of gram, and a
   one-unit query (``CA``, ``证``) is "any gram whose head is that unit", while a longer one is
   "every bigram of the query": ``32位`` is the one bigram ``("32", "位")``, ``数字证书`` the
   three ``数字``, ``字证``, ``证书``. No dictionary, no word segmentation: partial words match
   (``证书`` finds ``数字证书``), and a query matches a document that holds all its bigrams.
4. **Terms** (what the index stores, :func:`terms`): every distinct unit alone (``证``,
   ``ca``), so that a one-unit query is one lookup, and every bigram written ``head tail``
   (``证 书``, ``32 位``; units never contain a space, so the two kinds cannot collide).
5. **Prefixes** (12-07): every proper prefix of a Latin word (a unit beginning with a letter) of
   at least :data:`MIN_PREFIX` letters is a term too, written with :data:`PREFIX` after it
   (``uk*`` and ``uke*`` of ``ukey``): a query's Latin word that no document holds whole
   (``uk``, ``ocs``) is looked up as a prefix (``matching.prefixed``), one term like any other.
6. **Queries** are parted at their function words as well (:data:`FUNCTION_WORDS`: 要, 的, 吗,
   怎么, 多少 ...), which are not searched: ``续期要多久`` asks ``续期`` and ``多久``, never the
   bigrams ``期要`` and ``要多`` that only say how the question was put.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import opencc

#: Longest unit stored (longer Latin/digit runs are cut: nobody searches a 40-digit number).
MAX_UNIT = 32
#: Shortest prefix of a Latin word that is a term (``uk`` of Ukey; one letter would find
#: every word beginning with it).
MIN_PREFIX = 2
#: What marks a prefix term (``uk*``): never in a unit, and no bigram (``head tail``) ends so.
PREFIX = "*"

_T2S = opencc.OpenCC("t2s")

#: Characters that ``t2s`` leaves apart and that this site's words mean as one, folded after it
#: on both sides: 帐 (OpenCC's Simplified of 帳, and how many Simplified writers still spell
#: 帐号, 帐户) is 账 (the standard 账号 of the guide's payee, seed 000's 結算賬戶); 帳號 and 帐号
#: found nothing (12-07). The cost: 帐篷 would meet a 账篷 that nobody writes.
VARIANTS = {"帐": "账"}


@functools.lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """One character folded: NFKC, lower case, Simplified, :data:`VARIANTS`. Always one
    character long."""
    folded = unicodedata.normalize("NFKC", char).lower()
    if len(folded) != 1:
        folded = char.lower() if len(char.lower()) == 1 else char
    simplified = _T2S.convert(folded)
    one = simplified if len(simplified) == 1 else folded
    return VARIANTS.get(one, one)


def fold(text: str) -> str:
    """``text`` folded character by character (same length, same positions)."""
    return "".join(fold_char(char) for char in text)


def _kind(char: str) -> str:
    """``w`` for a Latin letter or digit, ``c`` for any other letter, ``-`` otherwise."""
    if char.isascii():
        return "w" if char.isalnum() else "-"
    category = unicodedata.category(char)
    if category.startswith(("L", "N")):
        return "c"
    return "-"


@dataclass(frozen=True)
class Unit:
    text: str
    start: int
    end: int


def segments(folded: str) -> Iterator[list[Unit]]:
    """The segments of folded text, each a list of units with their positions."""
    current: list[Unit] = []
    i = 0
    n = len(folded)
    while i < n:
        kind = _kind(folded[i])
        if kind == "-":
            if current:
                yield current
                current = []
            i += 1
        elif kind == "c":
            current.append(Unit(folded[i], i, i + 1))
            i += 1
        else:
            j = i
            while j < n and _kind(folded[j]) == "w":
                j += 1
            current.append(Unit(folded[i:j][:MAX_UNIT], i, j))
            i = j
    if current:
        yield current


def grams(text: str) -> set[tuple[str, str]]:
    """The distinct ``(head, tail)`` grams of ``text`` (folded here)."""
    out: set[tuple[str, str]] = set()
    for segment in segments(fold(text)):
        for a, b in itertools.pairwise(segment):
            out.add((a.text, b.text))
        out.add((segment[-1].text, ""))
    return out


@dataclass(frozen=True)
class QueryGram:
    head: str
    #: None: any tail (a one-unit segment of the query).
    tail: str | None


#: Words of a question that name no subject: in a query they part words as a space does and
#: are not searched (the index is unchanged). Without them a question's bigrams straddled them
#: (期要, 要多 of 续期要多久) and matched pages about another question (续期要多少钱) that hold
#: the same particles (12-07). A closed class, not a dictionary of the pages' words: particles,
#: question words, modal and personal words (docs/portal.md, "Function words").
FUNCTION_WORDS = frozenset({
    "怎么办", "怎么样", "怎么", "怎样", "如何", "多少", "什么", "为什么", "为何", "哪些",
    "哪里", "哪个", "哪儿", "是否", "是不是", "能否", "可否", "能不能", "可以", "可不可以",
    "需要", "有没有", "请问", "应该", "一下", "我们", "我的", "你们", "您好", "为了",
    "要", "的", "是", "吗", "呢", "吧", "啊", "呀", "嘛", "么", "了", "我", "你", "您", "哪",
    "谁", "啥",
})  # fmt: skip
#: Words holding a function word's character that do name a subject: kept whole where they
#: begin (要求 is not 要 and 求).
KEPT_WORDS = frozenset({"要求", "重要", "主要", "摘要", "只要", "目的", "了解", "是非"})
#: The longest of those words, in characters.
_LONGEST = max(len(word) for word in FUNCTION_WORDS | KEPT_WORDS)


def _without_function_words(segment: list[Unit]) -> list[list[Unit]]:
    """``segment`` parted at its function words, which are left out (longest word first, a
    kept word before a function word of the same length)."""
    pieces: list[list[Unit]] = [[]]
    i = 0
    while i < len(segment):
        for size in range(min(_LONGEST, len(segment) - i), 0, -1):
            word = "".join(unit.text for unit in segment[i : i + size])
            if word in KEPT_WORDS:
                pieces[-1] += segment[i : i + size]
                break
            if word in FUNCTION_WORDS:
                pieces.append([])
                break
        else:
            pieces[-1].append(segment[i])
            size = 1
        i += size
    return [piece for piece in pieces if piece]


def query_segments(query: str) -> list[list[Unit]]:
    """The segments of a query (folded) parted at its function words
    (:data:`FUNCTION_WORDS`); a query of function words only is searched as typed."""
    typed = list(segments(fold(query)))
    parted = [piece for segment in typed for piece in _without_function_words(segment)]
    return parted or typed


def query_grams(query: str) -> list[QueryGram]:
    """What a query asks for: every bigram of each of its segments (:func:`query_segments`),
    or the head alone for a one-unit segment. Empty for a query without letters or digits."""
    wanted: list[QueryGram] = []
    for segment in query_segments(query):
        if len(segment) == 1:
            candidates = [QueryGram(segment[0].text, None)]
        else:
            candidates = [QueryGram(a.text, b.text) for a, b in itertools.pairwise(segment)]
        for gram in candidates:
            if gram not in wanted:
                wanted.append(gram)
    return wanted


def gram_term(gram: QueryGram) -> str:
    """The index term of a query gram: the unit alone, or ``head tail``."""
    return gram.head if gram.tail is None else f"{gram.head} {gram.tail}"


def prefixable(unit: str) -> bool:
    """Whether ``unit`` is a Latin word whose prefixes are terms: ASCII, beginning with a
    letter (``ukey``, ``sha256``; not a number: ``2025`` is not a part of ``20250714``)."""
    return unit.isascii() and unit[:1].isalpha()


def prefixes(unit: str) -> list[str]:
    """The prefix terms of ``unit`` (``uk*``, ``uke*`` of ``ukey``): none for a unit that is
    not :func:`prefixable` or is too short."""
    if not prefixable(unit):
        return []
    return [unit[:size] + PREFIX for size in range(MIN_PREFIX, len(unit))]


def terms(text: str) -> set[str]:
    """The distinct index terms of ``text``: its units, their prefixes and its bigrams."""
    out: set[str] = set()
    for segment in segments(fold(text)):
        previous = ""
        for unit in segment:
            out.add(unit.text)
            out.update(prefixes(unit.text))
            if previous:
                out.add(f"{previous} {unit.text}")
            previous = unit.text
    return out


def query_terms(query: str) -> list[str]:
    """The index terms a query needs, in query order, without repeats."""
    return [gram_term(gram) for gram in query_grams(query)]


def query_words(query: str) -> list[str]:
    """The words of a query: its segments (what spaces, punctuation and function words
    separate), folded."""
    folded = fold(query)
    return [folded[segment[0].start : segment[-1].end] for segment in query_segments(query)]


def hit_spans(text: str, query: str, whole: str = "") -> list[tuple[int, int]]:
    """Where the query's segments, or failing that their bigrams (or their Latin words, whole
    or failing that as the words they begin: ``Ukey`` for ``uk``), occur in ``text``, and the
    words of ``whole`` where they occur whole only (the pages' words a vocabulary searched:
    办理时效, never its 办理 alone): merged, sorted ``(start, end)`` positions of the original
    text."""
    doc_units = [unit for segment in segments(fold(text)) for unit in segment]
    asked = [[unit.text for unit in segment] for segment in query_segments(query)]
    only_whole = [[unit.text for unit in segment] for segment in segments(fold(whole))]
    wanted = {word for words in asked + only_whole for word in words}
    starts: dict[str, list[int]] = {}
    for i, unit in enumerate(doc_units):
        if unit.text in wanted:
            starts.setdefault(unit.text, []).append(i)
    spans: list[tuple[int, int]] = []
    for words in asked:
        found_whole = any(_match(doc_units, i, words) for i in starts.get(words[0], ()))
        size = len(words) if found_whole else 2
        pieces = [words[k : k + size] for k in range(max(1, len(words) - size + 1))]
        found = len(spans)
        for piece in pieces:
            spans += _spans(doc_units, starts, piece)
        if len(spans) == found:  # a loosened query's Latin word (``pin`` of PIN码)
            for word in words:
                if len(word) > 1 and word.isascii():
                    spans += _spans(doc_units, starts, [word]) or _prefix_spans(doc_units, word)
    for words in only_whole:
        spans += _spans(doc_units, starts, words)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _spans(
    units: list[Unit], starts: dict[str, list[int]], piece: list[str]
) -> list[tuple[int, int]]:
    return [
        (units[i].start, units[i + len(piece) - 1].end)
        for i in starts.get(piece[0], ())
        if _match(units, i, piece)
    ]


def _prefix_spans(units: list[Unit], word: str) -> list[tuple[int, int]]:
    """The Latin words that ``word`` begins (``Ukey`` for ``uk``), whole, when ``word`` is a
    prefix the index holds (:func:`prefixes`)."""
    if len(word) < MIN_PREFIX or not prefixable(word):
        return []
    return [
        (unit.start, unit.end)
        for unit in units
        if len(unit.text) > len(word) and unit.text.startswith(word) and prefixable(unit.text)
    ]


def _match(units: list[Unit], i: int, words: list[str]) -> bool:
    """Whether ``words`` are the units from ``i`` on, each touching the one before."""
    if i + len(words) > len(units):
        return False
    for k, word in enumerate(words):
        unit = units[i + k]
        if unit.text != word or (k and units[i + k - 1].end != unit.start):
            return False
    return True
