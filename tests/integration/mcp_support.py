"""What the MCP tests share: the fake providers and a launched studio with its MCP server, an MCP
client session, and helpers that call a tool, read a refusal, wait for a job and fetch its video."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.launcher import RunningApp, launch_app
from tests.fakes import FakeProviders

SIM_T2V = "simulator/dreamina-3-0/text-to-video"


WS_720 = "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"


@pytest.fixture(name="fake", scope="module")
def fake_fixture() -> Iterator[FakeProviders]:
    with FakeProviders(queue_seconds=0.3, run_seconds=0.5) as running:
        yield running


@pytest.fixture(name="app", scope="module")
def app_fixture(tmp_path_factory: pytest.TempPathFactory, fake: FakeProviders) -> Iterator[RunningApp]:
    """A local studio with no server keys: the simulator, or a caller's key for the fake."""
    env = {
        "WAVESPEED_BASE_URL": fake.base_url,
        "RUNCOMFY_BASE_URL": fake.base_url,
        "STUDIO_SIM_QUEUE_SECONDS": "3",  # long enough to cancel a queued job in
    }
    with launch_app(tmp_path_factory.mktemp("mcp"), env) as running:
        yield running


def mcp_url(app: RunningApp) -> str:
    return app.url + "gradio_api/mcp/"


@asynccontextmanager
async def session(app: RunningApp, headers: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    async with (
        httpx.AsyncClient(headers=headers or {}, timeout=httpx.Timeout(30, read=60)) as http,
        streamable_http_client(mcp_url(app), http_client=http) as (read, write, _),
        ClientSession(read, write) as client,
    ):
        await client.initialize()
        yield client


async def call(client: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.isError, text
    return dict(json.loads(text))


async def refusal(client: ClientSession, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    text = str(result.content[0].text)  # type: ignore[union-attr]
    assert result.isError, f"{tool} was not refused: {text}"
    return text


async def until_finished(client: ClientSession, job_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = await call(client, "get_job", job_id=job_id)
        if job["finished"]:
            return job
        await asyncio.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish within {timeout} s: {job}")


def fetch(url: str) -> httpx.Response:
    """As an agent would: a plain GET, no cookies, no sign-in."""
    return httpx.get(url, timeout=30)
