"""Fixtures of the fake server's tests (test_fake_*.py); a module's own fixture of the same
name (test_app_api's gradio `client`) takes precedence there."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fakes import FakeProviders


@pytest.fixture
def slow_fake() -> Iterator[FakeProviders]:
    """Jobs sit 10 s in the queue and run 10 s, unless a test back-dates them."""
    with FakeProviders(queue_seconds=10, run_seconds=10, queue_length=2) as fake:
        yield fake


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c
