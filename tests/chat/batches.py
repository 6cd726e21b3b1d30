"""A ``GroupCommit`` that tells the tests how it batches: the largest batch it ran and how many
items wait for the next one. ``observe_send_batches`` puts one in place of the message sends'
batcher for one test."""

from collections.abc import Callable
from typing import TypeVar

from chat import services
from chat.group_commit import GroupCommit

Item = TypeVar("Item")


class ObservedGroupCommit(GroupCommit[Item]):
    def __init__(self, run_batch: Callable[[list[Item]], None]) -> None:
        self.largest_batch = 0

        def run_and_count(items: list[Item]) -> None:
            self.largest_batch = max(self.largest_batch, len(items))
            run_batch(items)

        super().__init__(run_and_count)

    def waiting(self) -> int:
        """How many items wait for the next batch."""
        with self._mutex:
            return len(self._queue)


def observe_send_batches(monkeypatch) -> ObservedGroupCommit:
    """The sends of this test go through a fresh, observed batcher of the real store."""
    batches = ObservedGroupCommit(services._store_batch)
    monkeypatch.setattr(services, "send_batches", batches)
    return batches
