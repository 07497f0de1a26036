"""Recording a job's changes: every stored text scrubbed of keys, the row written, one
operator line per state change (jobs/oplog.py), and the job's subscribers told.

`save` commits without its own fsync and runs on the caller's thread (the engine's loop):
progress is cheap to lose and the engine re-derives it by polling. `save_durably` is for
a change a power cut must not lose (a provider request id): it runs in a worker thread,
because the store fsyncs it before returning (jobs/store.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from jobs import oplog
from jobs.records import TERMINAL_STATES, JobRecord
from jobs.store import JobStore
from jobs.updates import Updates
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
    ) -> None:
        self._store = store
        self._updates = updates
        self._scrubber = scrubber
        self._clock = clock
        self._on_terminal = on_terminal  # e.g. free the job's slot at its provider
        self._states: dict[str, str] = {}  # the last logged state of each active job

    def save(self, job_id: str, **changes: object) -> JobRecord:
        """Write a change (not fsynced), log a state change, publish the new record."""
        self._prepare(changes)
        record = self._store.update(job_id, **changes)
        self._after_save(record, changes)
        return record

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

        record = await asyncio.to_thread(write)
        self._after_save(record, changes)
        return record

    def logged(self, record: JobRecord) -> None:
        """Log the record's state if it is not the last one logged for the job."""
        if self._states.get(record.id) == record.state:
            return
        oplog.state_changed(record, self._clock())
        if record.terminal:
            self._states.pop(record.id, None)
        else:
            self._states[record.id] = record.state

    def resumed(self, record: JobRecord) -> None:
        """A job picked up again after a restart: its state was logged by the last process."""
        self._states[record.id] = record.state

    def forget(self, job_id: str) -> None:
        """The job's row is gone (a refused submit)."""
        self._states.pop(job_id, None)

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

    def _after_save(self, record: JobRecord, changes: Mapping[str, object]) -> None:
        if record.terminal:
            self._on_terminal(record.id)
        if "state" in changes:
            self.logged(record)
        self._updates.publish(record)
