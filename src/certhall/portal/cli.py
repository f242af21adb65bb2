"""certhall portal search QUERY [--json] [--limit N] | reindex | build-downloads | seed-demo"""

from __future__ import annotations

import argparse
from typing import Any

from certhall.cli.output import print_json


def register(commands: Any) -> None:
    p = commands.add_parser("portal")
    sub = p.add_subparsers(dest="portal_command", required=True, parser_class=type(p))
    s = sub.add_parser("search", help="search the guide, notices, FAQ and usage guides")
    s.add_argument("query")
    s.add_argument("--json", action="store_true")
    s.add_argument("--limit", type=int, default=10)
    s.set_defaults(handler=search)
    r = sub.add_parser("reindex", help="rebuild the search index")
    r.set_defaults(handler=reindex)
    b = sub.add_parser("build-downloads", help="render the forms and build the certificate helper")
    b.set_defaults(handler=build_downloads)
    d = sub.add_parser("seed-demo", help="the seeds' notices, questions and FAQ (idempotent)")
    d.set_defaults(handler=seed_demo)


def search(args: argparse.Namespace) -> int:
    from certhall.errors import InvalidInput
    from certhall.portal import search as portal_search

    if not 1 <= args.limit <= 1000:
        raise InvalidInput(code="invalid_input")
    results = portal_search.search(args.query, per_page=args.limit)
    if args.json:
        print_json([hit.as_json() for hit in results.hits])
        return 0
    for hit in results.hits:
        day = hit.date.isoformat() if hit.date else "          "
        print(f"{day}  {hit.kind_label:<6}  {hit.title}  {hit.url}")
    loose = ", holding words of the query, not all of it" if results.loose else ""
    print(f"({results.total}{loose})")
    return 0


def reindex(args: argparse.Namespace) -> int:
    from certhall.portal import indexing

    print(f"indexed {indexing.reindex_all()} documents")
    return 0


def build_downloads(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.portal import downloads

    for row in downloads.build(system_actor()):
        print(f"{row.name}  {row.version}  {row.size}  {row.sha256}")
    return 0


def seed_demo(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.portal import indexing, seed
    from certhall.refunds.demo import link_announcement

    created = seed.seed_demo(system_actor())
    indexing.reindex_all()
    print(", ".join(f"{k}: {v}" for k, v in created.items()))
    for line in link_announcement():  # the announced refund programme names the seeded notice
        print(line)
    return 0


def setup(demo: bool) -> None:
    """What ``certhall setup`` does for the portal: the built downloads, the seeds' content
    in a demo, and a fresh index (which also follows a changed rules catalog)."""
    from certhall.accounts.services import system_actor
    from certhall.portal import downloads, indexing, seed

    actor = system_actor()
    downloads.build(actor)
    if demo:
        seed.seed_demo(actor)
    indexing.reindex_all()
