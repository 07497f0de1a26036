"""What every panel shares: the services (Context) and one browser session's state (Session).

Per-session values live in gr.State (server memory, one per browser tab); a public visitor's
owner id comes from a signed HttpOnly cookie (ui/visitor_id.py); nothing per-user is held in
module globals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypedDict

import gradio as gr

from jobs.service import Studio
from jobs.settings import Settings
from providers.base import Secret
from providers.registry import Registry
from ui.gate import Guard


class EventOptions(TypedDict):
    """The keyword arguments every UI event listener gets (typed, so mypy checks them)."""

    api_visibility: Literal["private"]
    concurrency_limit: None


# Every UI event: hidden from the API page and gradio_client, and never queued behind other
# users' events (Gradio's default concurrency is 1, shared by everyone).
PRIVATE: EventOptions = {"api_visibility": "private", "concurrency_limit": None}


@dataclass(frozen=True)
class Context:
    settings: Settings
    studio: Studio
    guard: Guard  # issued media links, login throttle, upload caps (ui/gate.py)

    @property
    def registry(self) -> Registry:
        """Every provider and model this studio offers."""
        return self.settings.registry

    def readiness(self, keys: Mapping[str, Secret] | None) -> Callable[[str], str | None]:
        """provider -> None when it can take a job (env key or this session's key)."""
        return lambda provider: self.studio.provider_ready(provider, keys)


class SessionKeys(Mapping[str, Secret]):
    """API keys typed into the API keys tab: this browser session only, in server memory.
    Never written to disk, never logged (its repr hides them), never sent back to a page."""

    def __init__(self, keys: Mapping[str, Secret | None]) -> None:
        self._keys = {name: key for name, key in keys.items() if key}

    def __getitem__(self, name: str) -> Secret:
        return self._keys[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"SessionKeys({', '.join(f'{name}=***' for name in self._keys)})"

    def __deepcopy__(self, memo: dict) -> SessionKeys:
        return self  # immutable; and a Secret refuses to be copied by pickling


@dataclass
class Watch:
    """Which jobs this page follows. Mutated in place by the submit, tick and load handlers
    (never returned as an output), so two handlers running at once cannot overwrite each
    other's changes."""

    tabs: dict[str, str | None] = field(default_factory=lambda: {"t2v": None, "i2v": None})
    seen: set[str] = field(default_factory=set)  # active job ids at the last look


@dataclass
class Session:
    owner: gr.State  # str | None: who this page acts for (see ui/owners.py)
    keys: gr.State  # SessionKeys | None
    watch: gr.State  # Watch
    active_rows: gr.State  # list[dict]: the active-jobs list, re-rendered when it changes
    shown: gr.State  # str | None: the job shown in the result panel
    history_changed: gr.State  # float: set when the history should be read again
    timer: gr.Timer  # ticks only while this page has active jobs


def render(settings: Settings) -> Session:
    return Session(
        owner=gr.State(None),
        keys=gr.State(None),
        watch=gr.State(Watch()),
        active_rows=gr.State([]),
        shown=gr.State(None),
        history_changed=gr.State(0.0),
        timer=gr.Timer(1.0, active=False),
    )
