"""The job record: one row of history, and what every status update carries.

A record is plain data, JSON-serialisable, and never holds an API key.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from providers.base import JobLocator

JobState = Literal["submitting", "queued", "running", "downloading", "succeeded", "failed", "cancelled"]
TERMINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
ACTIVE_STATES: frozenset[str] = frozenset({"submitting", "queued", "running", "downloading"})


@dataclass
class JobRecord:
    id: str
    owner: str
    kind: Literal["t2v", "i2v"]
    model: str  # full model id, e.g. "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"
    provider: str
    prompt: str
    options: dict[str, Any] = field(default_factory=dict)  # validated neutral options
    input_image: str | None = None  # path of the prepared input image under inputs/
    request_id: str | None = None
    # What the adapter kept from the submit reply besides the request id (e.g. a status URL).
    locator: dict[str, str] = field(default_factory=dict)
    state: JobState = "submitting"
    queue_position: int | None = None
    error_kind: str | None = None
    error_message: str | None = None
    remote_url: str | None = None
    video_path: str | None = None
    poster_path: str | None = None
    video_duration: float | None = None
    video_width: int | None = None
    video_height: int | None = None
    video_bytes: int | None = None
    video_codec: str | None = None
    seed: int | None = None  # the seed actually sent (a random -1 is resolved before submit)
    nsfw: bool | None = None
    provider_seconds: float | None = None  # the provider's own inference time, when it says
    created_at: float = 0.0
    submitted_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    saved_at: float | None = None
    simulated: bool = False
    note: str | None = None  # e.g. "could not be cancelled: it will run and be billed"
    group_id: str | None = None  # the comparison this job is a member of (jobs/groups.py)
    # The note's and the error's code and parameters (jobs/job_words.py, providers.base.Words):
    # what a page says in its language; None for words that are not the studio's.
    note_code: str | None = None
    note_params: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error_params: dict[str, Any] = field(default_factory=dict)

    @property
    def job_locator(self) -> JobLocator | None:
        """Where the provider can find this job again; None before it was submitted."""
        return JobLocator(self.request_id, self.locator) if self.request_id else None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRecord:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def copy(self, **changes: Any) -> JobRecord:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class GenerationRequest:
    """What a form or an API call asks for, before validation. `options` holds raw values
    (strings from a form are fine); the engine validates them against the model's spec."""

    kind: Literal["t2v", "i2v"]
    model: str
    prompt: str
    options: dict[str, Any] = field(default_factory=dict)
    image: str | None = None  # path of an uploaded image file
    fit_image: bool = False  # bring the image within the model's limits instead of refusing


@dataclass(frozen=True)
class GroupSlot:
    """A comparison member's place, given to Engine.submit: the group and the job id whose
    price the group has already reserved (jobs/limits.py reserve_many)."""

    group_id: str
    job_id: str


@dataclass(frozen=True)
class HistoryQuery:
    """One page of an owner's history, newest first. `before` is the cursor a previous
    page returned; the filters combine with AND; `text` matches inside the prompt."""

    limit: int = 24
    before: str | None = None
    provider: str | None = None
    model: str | None = None
    state: str | None = None
    text: str | None = None
    # A comparison as ONE entry (its newest member matching `state` stands for it), as
    # the page's history shows it; else its members one by one. Either way a blind
    # comparison's members are not listed one by one until its pick (jobs/group_blind.py).
    one_per_group: bool = False


@dataclass
class HistoryPage:
    items: list[JobRecord]
    next_cursor: str | None = None
    total: int | None = None
