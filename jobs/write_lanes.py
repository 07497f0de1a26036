"""Disk writes the engine makes for its jobs: in order per job, and off the engine's loop
wherever a write can wait on the disk.

On a network or bucket mount the store and the ledger use SQLite's DELETE journal, where
every commit makes its own fsyncs inside COMMIT (jobs/store.py `_transaction`): three for
a job's progress. Made on the engine's loop, one slow mount held up every job's polling.
There (`off_loop=True`) each write runs in a worker thread. In WAL (a local disk) a
progress commit makes no fsync, so it runs where it is called: a thread hop would cost the
loop more than the write.

A job's writes must land in the order they were made (its state changes, its ledger entry:
reserved, charged, refunded), so writes under one key run one after another, each after
the last has landed, wherever they run; writes under different keys run side by side.
A write, once asked for, lands even if the caller that asked stops waiting for it (a
cancelled watcher): what follows it in its lane depends on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("studio.engine")


class WriteLanes:
    """One lane of writes per key (a job id). Use on the engine's loop only."""

    def __init__(self, *, off_loop: bool) -> None:
        self.off_loop = off_loop
        self._tails: dict[str, asyncio.Task[object]] = {}  # each key's last write not yet landed

    async def run(
        self,
        key: str | None,
        write: Callable[[], T],
        then: Callable[[T], object] | None = None,
        *,
        thread: bool | None = None,
    ) -> T:
        """`write` (blocking), in its turn for `key`, then `then(result)` on the loop. In a
        worker thread when the lanes are off the loop or `thread` says so (a write that
        fsyncs wherever it runs); else at once, unless an earlier write of `key` is still
        landing. `key` None: no order to keep. Raises what `write` raises."""
        in_thread = self.off_loop if thread is None else thread
        if not in_thread and (key is None or key not in self._tails):
            result = write()  # on the loop, at once: nothing of this key is in flight
            if then is not None:
                then(result)
            return result
        task = self._queue(key, write, then, in_thread)
        # Shielded: the write lands (and its lane moves on) even if this caller is cancelled.
        return await asyncio.shield(task)

    def post(self, key: str | None, write: Callable[[], T], then: Callable[[T], object] | None = None) -> None:
        """`run` for a caller that cannot wait (a plain callback): the write is made in its
        turn; a failure is logged, not raised."""
        try:
            if not self.off_loop and (key is None or key not in self._tails):
                result = write()
                if then is not None:
                    then(result)
                return
        except Exception:
            log.exception("a write for %s failed", key)
            return
        self._queue(key, write, then, self.off_loop).add_done_callback(_log_failure)

    def pending(self) -> int:
        """How many keys have a write in flight."""
        return len(self._tails)

    async def drain(self) -> None:
        """Wait until every write asked for so far has landed (closing the engine)."""
        while self._tails:
            await asyncio.gather(*self._tails.values(), return_exceptions=True)

    def _queue(
        self, key: str | None, write: Callable[[], T], then: Callable[[T], object] | None, in_thread: bool
    ) -> asyncio.Task[T]:
        previous = self._tails.get(key) if key is not None else None

        async def in_turn() -> T:
            if previous is not None:
                await asyncio.wait([previous])  # its outcome is its own caller's to see
            result = await asyncio.to_thread(write) if in_thread else write()
            if then is not None:
                then(result)
            return result

        task = asyncio.get_running_loop().create_task(in_turn())
        if key is not None:
            self._tails[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        return task

    def _landed(self, key: str, task: asyncio.Task[T]) -> None:
        if self._tails.get(key) is task:
            del self._tails[key]


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("a write made in its turn failed", exc_info=error)
