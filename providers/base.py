"""The provider contract: request and status types, the error taxonomy, and the secret wrapper.

Everything a job engine needs to know about a video API is expressed here, so that every
provider (the hosted ones and the offline simulator) is interchangeable behind one protocol.
What each provider *is* (name, keys, models, abilities) is declared in its module's
`PROVIDER` (see providers/registry.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, NoReturn, Protocol

if TYPE_CHECKING:
    from providers.catalog import ModelSpec

# A provider's registry name ("runcomfy", "simulator", ...): open, the registry knows them all.
ProviderName = str
Kind = Literal["t2v", "i2v"]

# What a provider can say about a job it holds. The engine adds `submitting` before the
# provider knows the job and `downloading` after the provider is done with it.
RemoteState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
CancelOutcome = Literal["cancelled", "not_cancellable"]

ErrorKind = Literal[
    "auth",
    "validation",
    "insufficient_balance",
    "rate_limited",
    "moderation",
    "not_found",
    "expired",
    "server",
    "network",
    "submit_unknown",
    "job_failed",
    "timeout",
    "cancelled",
]


class Secret:
    """An API key that cannot leak by accident: its repr and str never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> NoReturn:  # pragma: no cover - pickling a key is always a bug
        raise TypeError("a Secret cannot be pickled")


class StudioError(Exception):
    """Base of every error the studio shows to a person: `message` is already user-facing
    (English). `code` and `params`, where set, let a page say the same in its own language
    (ui/i18n.py looks up `error.<code>` and fills in `params`)."""

    code: str | None = None
    params: dict[str, object]

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.params = dict(params)


class ValidationError(StudioError):
    """Bad input caught before anything is sent or billed. `field` names the form field."""

    def __init__(self, field: str, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message, code=code, **params)
        self.field = field


class Words(str):
    """English words the studio said, with the code and parameters it said them by: the
    string itself is the English (stored, and what the API, MCP and exports show); a page
    says `code` with `params` in its own language (jobs/job_words.py, ui/stored_text.py).
    Any change to the text (a str method) gives a plain str, which has no code."""

    code: str | None
    params: Mapping[str, object]

    def __new__(cls, text: str, code: str | None = None, params: Mapping[str, object] | None = None) -> Words:
        value = super().__new__(cls, text)
        value.code = code
        value.params = MappingProxyType(dict(params or {}))
        return value

    def __repr__(self) -> str:
        return f"Words({str.__repr__(self)}, {self.code!r}, {dict(self.params)!r})"

    def __reduce__(self) -> tuple[type[Words], tuple[str, str | None, dict[str, object]]]:
        # copy, deepcopy (dataclasses.asdict) and pickle rebuild it from plain values
        return (Words, (str(self), self.code, dict(self.params)))


# What the user should do next, per kind. A provider's own text is appended where it helps.
_NEXT_STEP: dict[str, str] = {
    "auth": "Check the API key in the API keys tab or the environment; it may be missing, mistyped or revoked.",
    "validation": "Check the settings and try again.",
    "insufficient_balance": "Top up your balance with the provider, then try again.",
    "rate_limited": "The provider is busy; the studio retries polls by itself. Try a new job in a minute.",
    "moderation": "The provider's content filter refused this prompt or image. Rephrase it or use another image.",
    "not_found": "The provider no longer knows this job.",
    "expired": "The provider deleted this output before it was saved. The request id is kept for reference.",
    "server": "The provider had an internal error. Try again in a few minutes.",
    "network": "The provider could not be reached. Check the connection and try again.",
    "submit_unknown": "The job may or may not have been created (and billed). It was not sent again; check the provider's dashboard.",
    "job_failed": "Try again, or change the prompt or image.",
    "timeout": "The job took longer than the studio waits. It may still finish: use 'Check again' later.",
    "cancelled": "The job was cancelled.",
}


# What happened, for kinds whose next step does not say it, when the provider gave no detail.
_DEFAULT_DETAIL: dict[str, Words] = {"job_failed": Words("The provider could not make this video.", "no_video")}
# The code of an error's detail that is not one of the studio's sentences: words a provider
# sent (or the studio's own, with them, that have no code), shown as sent (`{words}`).
SAID = "provider_said"


def field_label(field: str) -> str:
    """A form field's name as a person reads it: 'aspect_ratio' -> 'the aspect ratio'."""
    return "the " + field.replace("_", " ")


def next_step(kind: ErrorKind, field: str | None = None) -> str:
    """What to do next after an error of `kind`; a validation error names its field."""
    if kind == "validation" and field:
        return f"Change {field_label(field)} and try again."
    return _NEXT_STEP[kind]


class ProviderError(StudioError):
    """A classified failure talking to a provider.

    `kind` drives behaviour (retry, fail, keep polling); `message` is what a person reads,
    ending with what to do next. Never contains an API key. `message` is `Words`: the
    detail's code and parameters (a detail given as `Words`, else SAID with `words`), plus
    `next_step` (the kind whose next step ends it) and `field` (a validation error's field).
    """

    def __init__(
        self,
        kind: ErrorKind,
        detail: str = "",
        *,
        field: str | None = None,
        retry_after: float | None = None,
        status_code: int | None = None,
        provider_code: int | str | None = None,
    ) -> None:
        said = detail if isinstance(detail, Words) and detail.strip() == detail else None
        detail = detail.strip() or _DEFAULT_DETAIL.get(kind, "")
        if said is None and isinstance(detail, Words):
            said = detail  # the default detail
        step = next_step(kind, field)
        message = f"{detail} {step}".strip() if detail else step
        params: dict[str, object] = dict(said.params) if said is not None else {"words": detail} if detail else {}
        params["next_step"] = kind
        if kind == "validation" and field:
            params["field"] = field
        code = said.code if said is not None else SAID if detail else None
        super().__init__(Words(message, code, params))
        self.kind: ErrorKind = kind
        self.detail = detail
        self.field = field
        self.retry_after = retry_after
        self.status_code = status_code
        self.provider_code = provider_code

    @property
    def retryable(self) -> bool:
        """True for faults that an idempotent request may retry (never used for submits)."""
        return self.kind in ("rate_limited", "server", "network")

    def __repr__(self) -> str:
        return f"ProviderError(kind={self.kind!r}, message={self.message!r})"


class JobLocator(str):
    """Where a submitted job can be found again: the provider's request id (the string
    value itself, so logs, messages and URLs show the id) plus any fields the adapter chose
    to keep from the submit reply (e.g. a status URL). Stored with the job as JSON and handed
    back to `poll`, `cancel` and `result`; a job stored before locators existed has only
    its request id, which is a complete locator for the adapters that need no more."""

    fields: Mapping[str, str]

    def __new__(cls, request_id: str, fields: Mapping[str, str] | None = None) -> JobLocator:
        value = super().__new__(cls, request_id)
        value.fields = MappingProxyType({str(k): str(v) for k, v in (fields or {}).items()})
        return value

    @property
    def request_id(self) -> str:
        return str.__str__(self)

    @classmethod
    def of(cls, value: str) -> JobLocator:
        """`value` as a locator: a bare request id becomes one with no extra fields."""
        return value if isinstance(value, JobLocator) else cls(value)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)

    def fields_json(self) -> str:
        return json.dumps(dict(self.fields), sort_keys=True)

    def __repr__(self) -> str:
        return f"JobLocator({self.request_id!r}, {dict(self.fields)!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (JobLocator, (self.request_id, dict(self.fields)))


@dataclass(frozen=True)
class SubmitRequest:
    """A validated, provider-neutral job: options are the spec's neutral names (aspect_ratio,
    frames, seed, or any a model declares) with values already checked against `spec`."""

    spec: ModelSpec
    prompt: str
    options: Mapping[str, int | str | bool] = field(default_factory=dict)
    image: Path | None = None


@dataclass(frozen=True)
class ProviderStatus:
    """One poll's answer, normalised from either provider's vocabulary."""

    state: RemoteState
    queue_position: int | None = None  # 1 = next in line; never below 1
    video_url: str | None = None
    error: ProviderError | None = None
    nsfw: bool | None = None
    # Durations the provider states on its own clock (never a difference across clocks):
    # `run_seconds` from its creation of the job to its end (RunComfy's finished_at -
    # created_at), `inference_seconds` of the model's run alone (WaveSpeed's timings).
    inference_seconds: float | None = None
    run_seconds: float | None = None
    retry_after: float | None = None


class Provider(Protocol):
    """What the engine needs of a video API. `key` overrides the provider's default key
    for one call (a key typed in a browser session); it is never stored."""

    name: ProviderName

    async def submit(self, request: SubmitRequest, key: Secret | None = None) -> JobLocator:
        """Create the remote job and return its locator (the request id plus whatever the
        adapter needs later). Never retried: an ambiguous failure raises
        ProviderError('submit_unknown')."""
        ...

    async def poll(
        self, locator: JobLocator, key: Secret | None = None, *, ending: bool = False
    ) -> ProviderStatus:
        """The job's state now. `ending`: the poll schedule expects the job may have ended by
        now, so an adapter that reads an end elsewhere than a state (RunComfy's /result after
        its /status) may ask there first: one request, not two. Others ignore it."""
        ...

    async def cancel(self, locator: JobLocator, key: Secret | None = None) -> CancelOutcome: ...

    def has_key(self) -> bool:
        """Whether a default key is configured (the simulator always says True)."""
        ...

    async def aclose(self) -> None: ...
