"""Group commit: the sends of concurrent requests and socket frames share one transaction.

PostgreSQL's cost per statement and per commit is paid once per batch instead of once per
send. The threads of a process that store a send at the same time form a batch: the first to
arrive leads and stores everything queued by then in one transaction
(``chat.store.store_sends``), while the others wait for its outcome; whoever arrives meanwhile
goes into the next batch, led by the first of them. A lone send goes through at once, so nothing
waits for a batch to fill: batches only grow when sends queue behind a commit anyway.

A batch that fails (a repeated ``client_msg_id``, a deadlock, a lost connection) is rolled back
as a whole, and each of its sends is stored again on its own, in its own thread, exactly as if
there had been no batch; a send that fails on its own raises its own error.
"""

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from imserver import metrics

Item = TypeVar("Item")


class BatchFailed(Exception):
    """The batch this item was part of failed: store it again on its own."""


class _Entry(Generic[Item]):
    __slots__ = ("done", "error", "item", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.done = False
        self.error: BaseException | None = None
        self.wake = threading.Event()


class GroupCommit(Generic[Item]):
    """Leader/follower batching of ``run_batch(items)`` across threads."""

    def __init__(self, run_batch: Callable[[list[Item]], None]) -> None:
        self._run_batch = run_batch
        self._mutex = threading.Lock()
        self._queue: list[_Entry[Item]] = []
        self._leading = False

    def submit(self, item: Item) -> None:
        """Return once ``item`` is committed, in a batch with whatever else was submitted
        meanwhile. Raises what ``run_batch`` raised if the item was alone, ``BatchFailed`` if it
        was not."""
        self.submit_many([item])

    def submit_many(self, items: list[Item]) -> None:
        """``submit`` for several items at once: they are queued together, in this order, so they
        go into one batch (with whatever else was queued); raises ``BatchFailed`` if that batch
        failed and there were several items in it."""
        entries = [_Entry(item) for item in items]
        # The first entry stands for all: it is woken to lead, and all are done together.
        entry = entries[0]
        with self._mutex:
            self._queue.extend(entries)
            lead = not self._leading
            self._leading = True
        while True:
            if lead:
                self._lead()
            else:
                entry.wake.wait()
            with self._mutex:  # done and leadership change under the mutex, so no wake is lost
                if entry.done:
                    break
                entry.wake.clear()
                lead = not self._leading  # woken to lead the next batch
                self._leading = True
        if entry.error is not None:
            raise entry.error

    def _lead(self) -> None:
        with self._mutex:
            batch, self._queue = self._queue, []
        metrics.GROUP_COMMIT_BATCH_SIZE.observe(len(batch))
        failure: BaseException | None = BatchFailed()  # unless run_batch returns
        try:
            self._run_batch([entry.item for entry in batch])
            failure = None
        except Exception as exc:
            failure = exc
        finally:
            with self._mutex:
                for entry in batch:
                    entry.done = True
                    if failure is not None:
                        entry.error = failure if len(batch) == 1 else BatchFailed()
                    entry.wake.set()
                self._leading = False
                if self._queue:  # the first of those who queued meanwhile leads the next batch
                    self._queue[0].wake.set()
