"""The launched studio answers its page and config again from memory (ui/page_cache.py), and
what it answers is what Gradio builds for that request: for requests from elsewhere (another
Host, behind a proxy) and for requests that differ in what the page must not depend on (the
visitor's cookies, languages, browser). A Gradio upgrade that builds the page from another
part of the request fails here (ui/gradio_internals.PAGE_VARIES_BY)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.launcher import RunningApp, launch_app

ASKED_FROM = [
    {},
    {"cookie": "studio_lang=fr; other=1", "accept-language": "ja", "user-agent": "another browser"},
    {"host": "studio.example.org"},
    {"x-forwarded-host": "proxy.example.org", "x-forwarded-proto": "https"},
    {"x-forwarded-proto": "https"},
    {"x-gradio-server": "http://inside.example:7860"},
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with launch_app(tmp_path_factory.mktemp("kept")) as running:
        yield running


@pytest.mark.parametrize("path", ["/", "/config"])
def test_the_kept_page_is_what_gradio_builds_for_the_same_request(app: RunningApp, path: str) -> None:
    fresh = itertools.count()
    with httpx.Client(base_url=app.url, timeout=30, headers={"accept-encoding": "identity"}) as client:
        answers = []
        for headers in ASKED_FROM + ASKED_FROM:  # the second time round, every one is kept
            kept = client.get(path, headers=headers)
            # with another query Gradio builds it (a query the route ignores: the same page)
            built = client.get(f"{path}?fresh={next(fresh)}", headers=headers)
            assert kept.status_code == built.status_code == 200
            assert kept.content == built.content, headers
            answers.append(kept.content)
    # the page does depend on where it is served from, so those were kept apart
    assert len(set(answers)) == 5
    assert b"studio.example.org" in answers[2] and b"https://proxy.example.org" in answers[3]


def test_the_themes_stylesheet_the_page_names_is_kept_and_cacheable_for_good(app: RunningApp) -> None:
    with httpx.Client(base_url=app.url, timeout=30, headers={"accept-encoding": "identity"}) as client:
        # the page's script names it so, from the config's theme_hash
        link = "theme.css?v=" + client.get("/config").json()["theme_hash"]
        first, again = client.get("/" + link), client.get("/" + link)
        built = client.get("/" + link + "&fresh=1")  # Gradio's own answer, not kept
        assert first.status_code == again.status_code == built.status_code == 200
        assert first.content == again.content == built.content
        assert (
            first.headers["cache-control"]
            == again.headers["cache-control"]
            == "public, max-age=31536000, immutable"
        )
        assert "cache-control" not in built.headers
