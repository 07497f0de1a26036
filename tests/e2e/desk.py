"""What the new-user tests share: the window sizes the issue names, and a few looks at the
page a person would take (is it on screen, does it scroll sideways)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Page

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextmanager
def window(browser: Any, size: dict[str, int], **options: Any) -> Iterator[Page]:
    """A fresh page of `size` (its own context: no cookies or state from another test)."""
    context = browser.new_context(viewport=size, accept_downloads=True, **options)
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def sideways_overflow(page: Page) -> int:
    """How many pixels the page scrolls sideways (0 when it does not)."""
    return int(
        page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def fully_in_view(page: Page, selector: str) -> bool:
    """The element's whole box is inside the window at the current scroll."""
    return bool(
        page.evaluate(
            """(selector) => {
              const box = document.querySelector(selector).getBoundingClientRect();
              return box.height > 0 && box.top >= 0 && box.left >= 0
                && box.bottom <= window.innerHeight && box.right <= window.innerWidth;
            }""",
            selector,
        )
    )
