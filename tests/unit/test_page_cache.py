"""ui/page_cache.py: the page and its config answered again from memory, only when the answer
can be the same, keyed by what it depends on."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from jobs.settings import Settings
from ui.gate import Guard
from ui.layout import launch_options
from ui.page_cache import KEPT, PageCache


class Inner:
    """Gradio's stand-in: answers each request with a body naming its Host and a count."""

    def __init__(self, status: int = 200, cookie: bool = False, chunks: int = 1) -> None:
        self.calls = 0
        self.status, self.cookie, self.chunks = status, cookie, chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        host = dict(scope["headers"]).get(b"host", b"")
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        if self.cookie:
            headers.append((b"set-cookie", b"a=b"))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        for i in range(self.chunks):
            body = b"page for " + host + b" #" + str(self.calls).encode()
            await send({"type": "http.response.body", "body": body, "more_body": i < self.chunks - 1})


class MarksOnTheWayOut:
    """An outer middleware that, like the compressor, changes the headers list it is sent."""

    def __init__(self, app: PageCache) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"].append((b"x-marked", b"1"))
            await send(message)

        await self.app(scope, receive, marked)


@pytest.fixture
def inner() -> Inner:
    return Inner()


@pytest.fixture
def client(inner: Inner) -> TestClient:
    return TestClient(MarksOnTheWayOut(PageCache(inner)))  # no lifespan: Inner answers HTTP only


def test_the_page_is_built_once_and_answered_again_as_it_was(client: TestClient, inner: Inner) -> None:
    first = client.get("/")
    again = client.get("/")
    assert inner.calls == 1
    assert again.content == first.content == b"page for testserver #1"
    # the outer middleware's changes to the headers it was sent were not kept with them
    assert again.headers.get_list("x-marked") == ["1"]
    assert client.get("/").headers.get_list("x-marked") == ["1"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert client.get("/config").content == b"page for testserver #2"
    assert client.get("/config").content == b"page for testserver #2"
    assert inner.calls == 2


def test_another_host_query_method_or_path_goes_to_gradio(client: TestClient, inner: Inner) -> None:
    client.get("/")
    assert client.get("/", headers={"host": "example.org"}).content == b"page for example.org #2"
    assert client.get("/", headers={"x-forwarded-proto": "https"}).content == b"page for testserver #3"
    assert client.get("/?deep_link=abc").content == b"page for testserver #4"
    assert client.get("/?deep_link=abc").content == b"page for testserver #5"
    assert client.post("/").content == b"page for testserver #6"
    assert client.get("/other").content == b"page for testserver #7"
    assert client.get("/other").content == b"page for testserver #8"
    # ...while each kept answer is still its own request's
    assert client.get("/", headers={"host": "example.org"}).content == b"page for example.org #2"
    assert client.get("/").content == b"page for testserver #1"
    # headers the page does not depend on share the answer
    assert client.get("/", headers={"cookie": "x=1", "accept-language": "fr", "user-agent": "x"}).content == (
        b"page for testserver #1"
    )
    assert inner.calls == 8


@pytest.mark.parametrize("inner_kind", [{"status": 500}, {"cookie": True}, {"chunks": 2}])
def test_an_error_a_cookie_or_a_streamed_answer_is_not_kept(inner_kind: dict) -> None:
    inner = Inner(**inner_kind)
    client = TestClient(PageCache(inner))
    first, again = client.get("/"), client.get("/")
    assert inner.calls == 2
    assert first.content != again.content


def test_no_more_than_kept_answers_are_held(client: TestClient, inner: Inner) -> None:
    cache = client.app.app  # type: ignore[attr-defined]
    for i in range(KEPT + 3):
        client.get("/", headers={"host": f"h{i}.example"})
    assert len(cache._kept) == KEPT
    client.get("/", headers={"host": "h0.example"})  # the oldest was let go: built again
    assert inner.calls == KEPT + 4


def test_the_page_is_kept_only_without_a_password_login(tmp_path: Path) -> None:
    def kinds(**env: str) -> list[str]:
        settings = Settings.from_env({"STUDIO_DATA_DIR": str(tmp_path), **env})
        return [m.cls.__name__ for m in launch_options(settings, Guard(settings))["app_kwargs"]["middleware"]]

    assert "PageCache" in kinds()
    assert "PageCache" not in kinds(STUDIO_AUTH="ann:a-long-passphrase")


def test_the_themes_stylesheet_named_by_its_hash_is_kept_and_cacheable_for_good(
    client: TestClient, inner: Inner
) -> None:
    first = client.get("/theme.css?v=9ea738101aa93b07")
    again = client.get("/theme.css?v=9ea738101aa93b07")
    assert inner.calls == 1 and again.content == first.content
    for answer in (first, again):
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    # another version is another answer; without one, or with more in the query, Gradio's as it is
    assert client.get("/theme.css?v=0123456789abcdef").content == b"page for testserver #2"
    for url in ("/theme.css", "/theme.css?v=9ea738101aa93b07&x=1", "/theme.css?v=not-hex!"):
        answer = client.get(url)
        assert "cache-control" not in answer.headers
    assert inner.calls == 5
    # the page itself is never marked so: its URL stays the same when it changes
    assert "cache-control" not in client.get("/").headers
