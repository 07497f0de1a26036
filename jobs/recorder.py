"""Recording a job's changes: every stored text scrubbed of keys, the row written, one
operator line per state change (jobs/oplog.py), and the job's subscribers told.

`save` commits progress, which is cheap to lose to a power cut (the engine re-derives it
by polling): in WAL without an fsync, at once on the engine's loop; with the DELETE journal
(a network or bucket mount), whose every commit fsyncs, in a worker thread
(jobs/write_lanes.py). `save_durably` is for a change a power cut must not lose (a provider
request id): always in a worker thread, because the store fsyncs it before returning
(jobs/store.py). Either way a job's changes land, are logged and are published in the order
they were made.

The recorder also keeps the last record it wrote of each active job (`current`), so the
watchers read their job without waiting on the store's lock, which a slow write holds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from jobs import oplog
from jobs.records import TERMINAL_STATES, JobRecord
from jobs.store import JobStore
from jobs.updates import Updates
from jobs.write_lanes import WriteLanes
from providers.base import Words
from providers.scrub import Scrubber

# Texts a change may carry that could echo a key (a provider's error message, a note), with
# the fields their code and parameters are stored in (providers.base.Words).
_TEXT_FIELDS = {"error_message": ("error_code", "error_params"), "note": ("note_code", "note_params")}


class Recorder:
    """Writes, logs and publishes one job's changes. Call on the engine's loop."""

    def __init__(
        self,
        store: JobStore,
        updates: Updates,
        scrubber: Scrubber,
        clock: Callable[[], float],
        on_terminal: Callable[[str], None],
        lanes: WriteLanes,
    ) -> None:
        self._store = store
        self._lanes = lanes
        self._updates = updates
        self._scrubber = scrubber
        self._clock = clock
        self._on_terminal = on_terminal  # e.g. free the job's slot at its provider
        self._states: dict[str, str] = {}  # the last logged state of each active job
        self._current: dict[str, JobRecord] = {}  # the last record written of each active job

    async def save(self, job_id: str, **changes: object) -> JobRecord:
        """Write a change (not fsynced; off the loop where a commit syncs), in its turn
        after the job's earlier changes; then log a state change and publish the record."""
        self._prepare(changes)
        return await self._lanes.run(
            job_id, functools.partial(self._store.update, job_id, **changes), functools.partial(self._after_save, changes)
        )

    def post(self, job_id: str, **changes: object) -> None:
        """`save` for a caller that cannot wait (a plain callback): written in its turn."""
        self._prepare(changes)
        self._lanes.post(
            job_id, functools.partial(self._store.update, job_id, **changes), functools.partial(self._after_save, changes)
        )

    def current(self, job_id: str) -> JobRecord | None:
        """The job's record as last written here (an active job), else as stored."""
        found = self._current.get(job_id)
        return found if found is not None else self._store.get(job_id)

    async def save_durably(
        self, job_id: str, changes: dict[str, object], *, first: Callable[[], object] | None = None
    ) -> JobRecord:
        """The same for a change that is fsynced before it returns, off the event loop.
        `first`: other blocking work to do just before it, in the same worker thread."""
        self._prepare(changes)

        def write() -> JobRecord:
            if first is not None:
                first()
            return self._store.update(job_id, **changes)

        return await self._lanes.run(job_id, write, functools.partial(self._after_save, changes), thread=True)

    def logged(self, record: JobRecord) -> None:
        """Log the record's state if it is not the last one logged for the job."""
        if self._states.get(record.id) == record.state:
            return
        oplog.state_changed(record, self._clock())
        if record.terminal:
            self._states.pop(record.id, None)
        else:
            self._states[record.id] = record.state

    def added(self, record: JobRecord) -> None:
        """A new job's row is written (jobs/submitter.py): log it, and know it from now on."""
        self._current[record.id] = record
        self.logged(record)

    def resumed(self, record: JobRecord) -> None:
        """A job picked up again after a restart: its state was logged by the last process."""
        self._current[record.id] = record
        self._states[record.id] = record.state

    def forget(self, job_id: str) -> None:
        """The job's row is gone (a refused submit)."""
        self._states.pop(job_id, None)
        self._current.pop(job_id, None)

    def _prepare(self, changes: dict[str, object]) -> None:
        if changes.get("state") in TERMINAL_STATES and "note" not in changes:
            changes["note"] = None  # a note about a running job (cancel, provider failing) is over
        for name, (code_field, params_field) in _TEXT_FIELDS.items():
            if name not in changes:
                continue
            value = changes[name]
            # A text changes with its code: the code of Words, none for any other text.
            words = value if isinstance(value, Words) else None
            changes[code_field] = words.code if words else None
            changes[params_field] = {
                key: self._scrubber.scrub(item) if isinstance(item, str) else item
                for key, item in (words.params.items() if words else ())
            }
            if isinstance(value, str):
                changes[name] = self._scrubber.scrub(str(value))

    def _after_save(self, changes: Mapping[str, object], record: JobRecord) -> None:
        if record.terminal:
            self._current.pop(record.id, None)
            self._on_terminal(record.id)
        else:
            self._current[record.id] = record
        if "state" in changes:
            self.logged(record)
        self._updates.publish(record)
