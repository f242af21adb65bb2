"""certhall.bulk.ahead: a producer thread one step ahead, its errors raised in the consumer, and
stopped when the consumer stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from certhall.bulk import ahead


def test_items_arrive_in_order_and_are_produced_in_another_thread() -> None:
    producers: set[str] = set()

    def items() -> Iterator[int]:
        for n in range(50):
            producers.add(threading.current_thread().name)
            yield n

    assert list(ahead(items())) == list(range(50))
    assert producers == {"certhall-ahead"}


def test_an_error_of_the_producer_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("line 3 is broken")

    got = []
    with pytest.raises(ValueError, match="line 3 is broken"):
        for item in ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    produced = []

    def items() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    consumer = ahead(items(), depth=2)
    assert next(consumer) == 0
    consumer.close()  # runs the consumer's finally: the producer is told to stop and joined
    assert not any(t.name == "certhall-ahead" for t in threading.enumerate())
    assert len(produced) <= 5  # it never ran far ahead of what was taken
