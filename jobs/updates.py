"""Per-job update streams: who listens to which job, and the iterator that ends a stream
after the job's terminal record. Listeners run on the engine's loop, in the order added."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from jobs.records import JobRecord

log = logging.getLogger("studio.engine")

Listener = Callable[[JobRecord], None]


async def until_terminal(queue: asyncio.Queue[JobRecord]) -> AsyncIterator[JobRecord]:
    """The records put on `queue`, one by one, ending after the first terminal one."""
    while True:
        record = await queue.get()
        yield record
        if record.terminal:
            return


async def record_stream(subscribe: Callable[[Listener], Callable[[], None] | None]) -> AsyncIterator[JobRecord]:
    """What `subscribe` (which calls a listener with the current record, then with every
    change, and returns how to stop, or None for no such job) sends, ending after the
    terminal record; nothing when there is no such job."""
    queue: asyncio.Queue[JobRecord] = asyncio.Queue()
    unsubscribe = subscribe(queue.put_nowait)
    if unsubscribe is None:
        return
    try:
        async for record in until_terminal(queue):
            yield record
    finally:
        unsubscribe()


async def last_record(first: JobRecord, records: AsyncIterator[JobRecord]) -> JobRecord:
    """The last of `records`, or `first` when there are none."""
    final = first
    async for record in records:
        final = record
    return final


class Updates:
    """The listeners of every job. `add` returns the function that removes the listener."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}

    def add(self, job_id: str, listener: Listener) -> Callable[[], None]:
        self._listeners.setdefault(job_id, set()).add(listener)

        def remove() -> None:
            current = self._listeners.get(job_id)
            if current is not None:
                current.discard(listener)
                if not current:
                    self._listeners.pop(job_id, None)

        return remove

    def publish(self, record: JobRecord) -> None:
        for listener in list(self._listeners.get(record.id, ())):
            try:
                listener(record)
            except Exception:  # a broken subscriber must not stop the job
                log.exception("update listener failed for job %s", record.id)
