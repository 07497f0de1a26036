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
