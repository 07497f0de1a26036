"""Shared pytest setup.

- The fake provider server fixtures live in tests/fakes/fixture.py.
- Browser tests run last: Playwright's sync API keeps an asyncio loop running in the main
  thread while its session fixture is open, and no asyncio test can run after that starts.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.fakes.fixture"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def runs_in_browser(item: pytest.Item) -> bool:
        return (
            "tests/e2e/" in item.nodeid.replace("\\", "/")
            or item.get_closest_marker("e2e") is not None
            or "browser" in getattr(item, "fixturenames", ())
        )

    items.sort(key=runs_in_browser)  # stable: keeps the order within each group
