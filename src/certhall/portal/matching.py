"""Which documents match a query, best first: the inverted index read rarest term first.

``SearchPosting`` holds one row per (document, term) with the title flag and the document's
day. A query is a list of terms (:func:`certhall.portal.textindex.query_terms`); a document
matches when it holds every term. Ranking: how much of the title the query is first (the
query's terms in the title, each weighing more the fewer documents hold it, per character of
the title: :func:`_about`), then the newer day, then the newer document (higher id).

The work per query is bounded, whatever the size of the index:

1. Each term's document count is counted up to ``RARE + 1`` (an index-only range count), the
   terms of a list in one statement, each term once in a search (:func:`one_search`).
   A term with no document: no hit, done.
2. **Rare query** (the rarest term is in at most ``RARE`` documents): those documents are the
   candidates; each other term, rarest first, is looked up for the remaining candidates only
   (primary-key probes ``(doc, term)``). The result is exact and complete, however long.
3. **Common query** (every term is in more than ``RARE`` documents): two tiers, each read in
   ranking order from the ``(term, in_title, day, doc)`` index:

   * *title tier*: for each term, its ``CAP`` newest documents having it in the title; those
     holding every term, ranked as above;
   * *body tier*: the rarest term's documents without it in the title, newest first, in
     chunks of ``CHUNK``, kept when they hold every other term and none in the title; at most
     ``WALK`` documents are read.

   Listing stops at ``CAP`` hits and the result says it is incomplete (``complete=False``):
   the page shows "more than ``CAP``". The top hits are the exact top unless a term has more
   than ``CAP`` title hits (then an older document with a title more about the query can be
   missed) or the body walk ended before ``CAP`` hits (terms that are each common but rarely
   together). A common query's terms weigh the same (``COMMON``).

Only equality and range predicates on two B-tree indexes: SQLite and PostgreSQL run the same
statements and return the same hits in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import connection

from certhall.portal.models import SearchDoc, SearchPosting
from certhall.portal.textindex import MIN_PREFIX, PREFIX, prefixable

TABLE = SearchPosting._meta.db_table
DOCS = SearchDoc._meta.db_table
#: Statements written out (not the ORM): the ORM's per-id preparation of long ``IN`` lists
#: cost more than the database's work, and it writes ``in_title = true`` as a bare column,
#: which SQLite cannot use as an index range.
_COUNT_ONE = (
    f"SELECT {{n}}, COUNT(*) FROM (SELECT 1 FROM {TABLE} WHERE term = %s LIMIT %s) AS c{{n}}"  # noqa: S608
)
_ALL = f"SELECT doc_id, in_title, day FROM {TABLE} WHERE term = %s"  # noqa: S608
_BY_DAY = (
    f"SELECT doc_id, day FROM {TABLE} WHERE term = %s AND in_title = %s{{after}} "  # noqa: S608
    "ORDER BY day DESC, doc_id DESC LIMIT %s"
)
_AFTER = " AND day <= %s AND (day < %s OR doc_id < %s)"
_HAVE = f"SELECT doc_id, in_title FROM {TABLE}{{hint}} WHERE term = %s AND doc_id IN ({{ids}})"  # noqa: S608
#: SQLite's planner, going by the average number of documents per term, scans a common term's
#: whole range instead of probing the primary key for a few hundred ids (10x slower).
_SQLITE_PK = f" INDEXED BY sqlite_autoindex_{TABLE}_1"
#: PostgreSQL's planner does the same (a hash join over the term's range, and planning a long
#: IN list alone takes milliseconds): one array parameter and a LATERAL probe per id.
_PG_HAVE = (
    "SELECT c.id, p.in_title FROM unnest(%s::bigint[]) AS c(id) CROSS JOIN LATERAL "  # noqa: S608
    f"(SELECT in_title FROM {TABLE} WHERE doc_id = c.id AND term = %s LIMIT 1) AS p"
)


#: The length of the titles of some documents (:func:`_about`), in characters on both databases.
_LENGTHS = f"SELECT id, LENGTH(title) FROM {DOCS} WHERE id IN ({{ids}})"  # noqa: S608
_PG_LENGTHS = f"SELECT id, LENGTH(title) FROM {DOCS} WHERE id = ANY(%s::bigint[])"  # noqa: S608


def _lengths(ids: list[int]) -> list[tuple[int, ...]]:
    """``(doc_id, length of its title)`` of ``ids``."""
    if connection.vendor == "postgresql":
        return _rows(_PG_LENGTHS, [ids])  # type: ignore[list-item]
    return _rows(_LENGTHS.format(ids=", ".join(["%s"] * len(ids))), ids)


def _have(term: str, ids: list[int]) -> list[tuple[int, ...]]:
    """Which of ``ids`` hold ``term``: ``(doc_id, in_title)`` rows."""
    if connection.vendor == "postgresql":
        return _rows(_PG_HAVE, [ids, term])  # type: ignore[list-item]
    sql = _HAVE.format(hint=_SQLITE_PK, ids=", ".join(["%s"] * len(ids)))
    return _rows(sql, [term, *ids])


def _rows(sql: str, params: Sequence[str | int | bool]) -> list[tuple[int, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[int, ...]] = cursor.fetchall()
    return rows


#: Most hits listed for a common query (50 pages of 10).
CAP = 500
#: A query whose rarest term is in at most this many documents is answered exactly.
RARE = 2000
#: Body-tier documents read per statement, and at most in all.
CHUNK = 500
WALK = 2000
#: Most document ids in one ``IN (...)`` list.
IDS_PER_STATEMENT = 2000


@dataclass(frozen=True)
class Ranked:
    doc_ids: list[int]
    #: False: more documents may match than listed (listing stopped at the bounds above).
    complete: bool
    #: doc id -> (how much its title is about the query, day): what it was ranked by
    #: (:func:`_about`).
    scores: dict[int, tuple[int, int]] = field(default_factory=dict)


#: candidate document id -> [weight of the query's terms in its title, day]
Candidates = dict[int, list[int]]
#: A term's weight is this over the number of documents holding it, up to ``COMMON``: a term
#: in more documents weighs as one in ``COMMON`` (a common query's terms, counted up to
#: ``RARE + 1``, all weigh the same).
WEIGHT = 1_000_000
COMMON = RARE + 1


def rank(terms: list[str]) -> Ranked:
    """The documents holding every term, best first (a common query: at most ``CAP``)."""
    if not terms:
        return Ranked([], True)
    counted = sorted((count, term) for term, count in _counts(terms).items())  # rarest first
    if counted[0][0] == 0:
        return Ranked([], True)
    rarest = counted[0][1]
    others = [term for _, term in counted[1:]]
    weights = {term: WEIGHT // min(count, COMMON) for count, term in counted}
    if counted[0][0] <= RARE:
        rows = _rows(_ALL, [rarest])
        found = {doc: [weights[rarest] if titled else 0, day] for doc, titled, day in rows}
        found = _about(_verify(found, others, weights))
        return Ranked(_ordered(found), True, _scores(found))
    return _common(rarest, others, weights)


def relaxed(terms: list[str]) -> list[str]:
    """The terms of a query that found nothing, loosened where its words meet: a bigram no
    document holds (``书 续`` of 证书续期, ``ukey 解`` of Ukey解锁) is dropped, keeping each of
    its units that no term left holds (``pin`` and ``码`` of PIN码, ``忘`` of 证书密码忘) as a
    term of its own. Every other term is still required, so an unknown word (火星) still
    finds nothing."""
    counts = _counts(term for term in terms if " " in term)
    dropped = {term for term, count in counts.items() if count == 0}
    held = {unit for term in terms if term not in dropped for unit in term.split(" ")}
    out: list[str] = []
    for term in terms:
        kept = [u for u in term.split(" ") if u not in held] if term in dropped else [term]
        out += [unit for unit in kept if unit not in out]
    return out


def prefixed(terms: list[str]) -> list[str]:
    """The terms of a query that found nothing, with each Latin word that no document holds
    whole looked up as the words it begins (``uk`` -> ``uk*``, found in Ukey; ``ocs`` in OCSP:
    customers type part of a word on a phone). A word shorter than ``MIN_PREFIX`` letters, a
    number, a bigram and a Chinese unit stay as they are."""
    return [
        term + PREFIX
        if " " not in term and len(term) >= MIN_PREFIX and prefixable(term) and not _count(term)
        else term
        for term in terms
    ]


#: A Latin word found nowhere, whole or as a beginning, is looked up by one edit (``ukye``:
#: Ukey) from this many letters (``ca`` or ``pin`` one edit away is another word), up to
#: ``MAX_NEAR`` (every one-edit spelling is one parameter of one statement).
MIN_NEAR = 4
MAX_NEAR = 20
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
#: Which of some terms are in the index: one primary-key probe each, in one statement.
_HELD = (
    f"WITH c(t) AS (VALUES {{values}}) SELECT t FROM c WHERE EXISTS "  # noqa: S608
    f"(SELECT 1 FROM {TABLE} WHERE term = c.t)"
)
_PG_HELD = (
    "SELECT c.t FROM unnest(%s::text[]) AS c(t) CROSS JOIN LATERAL "  # noqa: S608
    f"(SELECT 1 FROM {TABLE} WHERE term = c.t LIMIT 1) AS p"
)


def edits(word: str) -> list[str]:
    """The Latin words one edit from ``word`` (a letter left out, two neighbours swapped, one
    changed, one added), each beginning with a letter, without ``word``: Damerau's one
    edit, the typing slip of a phone (``ukye``, ``ukeu``, ``ocps``)."""
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = [a + b[1:] for a, b in cuts if b]
    out += [a + b[1] + b[0] + b[2:] for a, b in cuts if len(b) > 1]
    out += [a + c + b[1:] for a, b in cuts if b for c in _LETTERS]
    out += [a + c + b for a, b in cuts for c in _LETTERS]
    return [w for w in dict.fromkeys(out) if w != word and prefixable(w)]


def near(terms: list[str]) -> tuple[list[str], dict[str, str]]:
    """The terms of a query that found nothing, even loosened and by beginnings, with each
    Latin word of ``MIN_NEAR`` letters or more that no document holds replaced by the word
    one edit away (:func:`edits`) that most documents hold (the first in alphabetical order
    among equals); and what replaced what. A word with no such neighbour stays (and the
    query still finds nothing)."""
    out: list[str] = []
    replaced: dict[str, str] = {}
    for term in terms:
        if (
            " " not in term
            and MIN_NEAR <= len(term) <= MAX_NEAR
            and prefixable(term)
            and term.isalnum()
            and not _count(term)
        ):
            held = _held(edits(term))
            if held:
                counts = _counts(held)
                best = min(held, key=lambda word: (-counts[word], word))
                replaced[term] = best
                term = best
        if term not in out:
            out.append(term)
    return out, replaced


def _held(words: list[str]) -> list[str]:
    """Which of ``words`` some document holds."""
    if not words:
        return []
    if connection.vendor == "postgresql":
        rows = _rows(_PG_HELD, [words])  # type: ignore[list-item]
    else:
        rows = _rows(_HELD.format(values=", ".join(["(%s)"] * len(words))), words)
    return [str(word) for (word,) in rows]


#: The terms counted so far in the search being answered (:func:`one_search`): its passes (as
#: typed, loosened, by beginnings, one edit away, each word alone) count the same terms again.
_COUNTED: ContextVar[dict[str, int] | None] = ContextVar("portal_search_counted", default=None)
#: Most terms counted in one statement (SQLite allows 500 arms of a compound statement).
TERMS_PER_COUNT = 100


@contextmanager
def one_search() -> Iterator[None]:
    """Counts kept for the length of one search (a query of several words counted 52 terms in
    52 statements, most of them twice or more: 48 ms on PostgreSQL, 12-07)."""
    token = _COUNTED.set({})
    try:
        yield
    finally:
        _COUNTED.reset(token)


def _counts(terms: Iterable[str]) -> dict[str, int]:
    """How many documents hold each of ``terms``, each counted up to ``RARE + 1``: those not
    counted yet in this search, in one statement."""
    terms = list(terms)
    counted = _COUNTED.get()
    known = {} if counted is None else counted
    wanted = [term for term in dict.fromkeys(terms) if term not in known]
    for i in range(0, len(wanted), TERMS_PER_COUNT):
        chunk = wanted[i : i + TERMS_PER_COUNT]
        sql = " UNION ALL ".join(_COUNT_ONE.format(n=n) for n in range(len(chunk)))
        for n, count in _rows(sql, [p for term in chunk for p in (term, RARE + 1)]):
            known[chunk[n]] = count
    return {term: known[term] for term in terms}


def _count(term: str) -> int:
    """How many documents hold ``term``, counted up to ``RARE + 1``."""
    return _counts([term])[term]


def _scores(found: Candidates) -> dict[int, tuple[int, int]]:
    return {doc: (entry[0], entry[1]) for doc, entry in found.items()}


def _ordered(found: Candidates) -> list[int]:
    return sorted(found, key=lambda doc: (-found[doc][0], -found[doc][1], -doc))


def _about(found: Candidates) -> Candidates:
    """``found`` with each title weight (the query's terms in the title, each weighing
    ``WEIGHT`` over the number of documents holding it) per character of the title: how much
    of its title the query is. A title that is mostly the query's rarer words is about them
    (续期办事指南 for 证书续期, above 数字证书网厅续期操作指引: 证书, on half the pages, says
    little); more of the query in a title of the same length ranks first. 0 for a title
    without any."""
    titled = [doc for doc, entry in found.items() if entry[0]]
    for i in range(0, len(titled), IDS_PER_STATEMENT):
        for doc, length in _lengths(titled[i : i + IDS_PER_STATEMENT]):
            found[doc][0] = found[doc][0] * 1000 // max(1, length)
    return found


def _verify(
    candidates: Candidates,
    terms: Iterable[str],
    weights: dict[str, int],
    *,
    body_only: bool = False,
    known: dict[str, set[int]] | None = None,
) -> Candidates:
    """The candidates that hold every term (none in the title if ``body_only``), with their
    title weights increased by the weights of the terms found in the title. ``known[term]``:
    candidates already known to hold ``term`` (and counted), which are not looked up again."""
    for term in terms:
        if not candidates:
            break
        have = known.get(term, set()) if known else set()
        kept = {doc: entry for doc, entry in candidates.items() if doc in have}
        ids = [doc for doc in candidates if doc not in have]
        for i in range(0, len(ids), IDS_PER_STATEMENT):
            for doc, titled in _have(term, ids[i : i + IDS_PER_STATEMENT]):
                if titled and body_only:
                    continue
                entry = candidates[doc]
                if titled:
                    entry[0] += weights[term]
                kept[doc] = entry
        candidates = kept
    return candidates


def _common(rarest: str, others: list[str], weights: dict[str, int]) -> Ranked:
    """Every term is in more than ``RARE`` documents: the title tier, then the body tier."""
    terms = [rarest, *others]
    complete = True
    candidates: Candidates = {}
    known: dict[str, set[int]] = {}  # term -> candidates having it in the title
    for term in terms:
        rows = _rows(_BY_DAY.format(after=""), [term, True, CAP + 1])
        if len(rows) > CAP:
            complete = False
        known[term] = {doc for doc, _ in rows[:CAP]}
        for doc, day in rows[:CAP]:
            candidates.setdefault(doc, [0, day])[0] += weights[term]
    candidates = _about(_verify(candidates, terms, weights, known=known))
    ranked = _ordered(candidates)[:CAP]
    scores = _scores({doc: candidates[doc] for doc in ranked})
    body, walked_all = _body_tier(rarest, others, CAP - len(ranked))
    ranked += [doc for doc, _ in body]
    scores.update((doc, (0, day)) for doc, day in body)
    return Ranked(ranked, complete and walked_all and len(ranked) < CAP, scores)


def _body_tier(rarest: str, others: list[str], wanted: int) -> tuple[list[tuple[int, int]], bool]:
    """Up to ``wanted`` documents holding every term, none in the title, newest first, with
    their days; and whether the rarest term's documents were read to the end."""
    found: list[tuple[int, int]] = []
    walked = 0
    after: tuple[int, int] | None = None
    while len(found) < wanted:
        if walked >= WALK:
            return found, False
        if after is None:
            chunk = _rows(_BY_DAY.format(after=""), [rarest, False, CHUNK])
        else:
            day, doc = after
            chunk = _rows(_BY_DAY.format(after=_AFTER), [rarest, False, day, day, doc, CHUNK])
        if not chunk:
            return found, True
        walked += len(chunk)
        after = (chunk[-1][1], chunk[-1][0])
        kept = _verify({doc: [0, day] for doc, day in chunk}, others, {}, body_only=True)
        found += [(doc, day) for doc, day in chunk if doc in kept][: wanted - len(found)]
    return found, False
