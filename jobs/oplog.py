"""What an operator reads in the log: one line per job state change and one per retry.

A line never holds an API key or a prompt (only the job id, model, state, elapsed time
and the provider's request id), so a Space's log can be shared when asking for help.
"""

from __future__ import annotations

import logging

from jobs.records import JobRecord

jobs_log = logging.getLogger("studio.jobs")
retry_log = logging.getLogger("studio.retry")


def state_changed(record: JobRecord, now: float) -> None:
    """job abc123 queued · runcomfy/…/text-to-video · 1.2s · request 9f8e… [· error kind]"""
    parts = [f"job {record.id} {record.state}", record.model, f"{max(0.0, now - record.created_at):.1f}s"]
    if record.request_id:
        parts.append(f"request {record.request_id}")
    if record.queue_position is not None and record.state == "queued":
        parts.append(f"position {record.queue_position}")
    if record.error_kind and record.state == "failed":
        parts.append(f"error {record.error_kind}")
    jobs_log.info(" · ".join(parts))


def retrying(what: str, why: str, wait: float) -> None:
    """retry: poll of job abc123 · network · next try in 2.0s"""
    retry_log.info("retry: %s · %s · next try in %.1fs", what, why, wait)
