"""pytest fixtures for the fake provider server (loaded as a plugin by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.server import FakeProviders

# Fast enough that a whole job takes a fraction of a second, slow enough that a poller
# still sees the queued and running states.
FAST_QUEUE_SECONDS = 0.1
FAST_RUN_SECONDS = 0.15


@pytest.fixture
def fake_providers() -> Iterator[FakeProviders]:
    """A started FakeProviders on a free port with fast timing; stopped afterwards."""
    fake = FakeProviders(queue_seconds=FAST_QUEUE_SECONDS, run_seconds=FAST_RUN_SECONDS, queue_length=2)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
