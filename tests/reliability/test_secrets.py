"""Secrets: after a full run with a canary API key (successes on both providers, image
uploads, moderated and failed jobs, auth failures whose provider errors quote the key back),
the canary appears nowhere a person or an attacker could read it: the app's logs, any file
it wrote (data folder, Gradio cache, temp folder), an export zip, any API response, the page.

Keys typed into a page for one session are used but never written anywhere.
"""

from __future__ import annotations

import urllib.parse
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

import jobs.history as history_ops
from jobs.records import GenerationRequest
from jobs.settings import Settings
from jobs.store import JobStore
from providers.base import Secret
from tests.fakes import FakeProviders
from tests.images import good_png
from tests.reliability.browser import run_in_browser
from tests.reliability.engine_kit import run_async, settings_for, started_engine
from tests.reliability.harness import MODELS, refusal, wait_until
from tests.reliability.readback import all_history, request_bytes

PUBLIC_GETS = (
    "",
    "config",
    "gradio_api/info",
    "gradio_api/info?all_endpoints=true",
    "gradio_api/openapi.json",
    "gradio_api/startup-events",
    "theme.css",
    "manifest.json",
)


def needles(key: str) -> list[bytes]:
    """The key as sent, its random part alone, and the usual encodings of it."""
    random_part = key.rsplit("-", 1)[-1]
    return [key.encode(), random_part.encode(), urllib.parse.quote(key).encode(), key.encode("utf-16-le")]


def leaks_in(blobs: Iterable[tuple[str, bytes]], key: str) -> list[str]:
    found = []
    for where, data in blobs:
        for needle in needles(key):
            if needle in data:
                found.append(where)
                break
    return found


def files_under(*roots: Path) -> list[tuple[str, bytes]]:
    blobs = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                blobs.append((str(path), path.read_bytes()))
    return blobs


def zip_members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(f"{path.name}:{name}", archive.read(name)) for name in archive.namelist()]


def full_run(studio: Any, image: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Successes, failures and refusals through the app. Returns (error messages, every
    record any endpoint streamed or returned)."""
    from gradio_client import handle_file

    fake, client, canary = studio.fake, studio.app.client(), studio.canary
    messages: list[str] = []
    records: list[dict[str, Any]] = []

    def generate(kind: str, **params: Any) -> None:
        api = "/text_to_video" if kind == "t2v" else "/image_to_video"
        job = client.submit(api_name=api, **params)
        try:
            job.result(timeout=120)
        except Exception as error:  # a failed job ends the stream with its message
            messages.append(str(error))
        records.extend(output[1] for output in job.outputs() if output and isinstance(output[1], dict))

    generate("t2v", prompt="a canary sings", model=MODELS["rc_t2v"])
    generate("t2v", prompt="a canary flies", model=MODELS["ws_t2v"])
    generate("i2v", prompt="a canary blinks", image=handle_file(str(image)), model=MODELS["rc_i2v"])
    generate("i2v", prompt="a canary turns", image=handle_file(str(image)), model=MODELS["ws_i2v"])
    generate("t2v", prompt="a canary [fake:moderation]", model=MODELS["ws_t2v"])
    # Providers quoting the key back: in a refused submit, a poll, and a failed job's text.
    echo = f"the token {canary} is not valid for this account"
    fake.fault(
        "submit",
        "status",
        provider="runcomfy",
        status=401,
        body={"error_code": 400004, "error_message": echo},
    )
    messages.append(refusal(client, "/text_to_video", prompt="auth at submit", model=MODELS["rc_t2v"]))
    fake.fault(
        "status", "error_in_200", provider="runcomfy", body={"error_code": 400004, "error_message": echo}
    )
    generate("t2v", prompt="auth while polling", model=MODELS["rc_t2v"])
    fake.fault(
        "result", "error_in_200", provider="runcomfy", body={"status": "failed", "error": {"message": echo}}
    )
    generate("t2v", prompt="failure text with the key", model=MODELS["rc_t2v"])
    fake.fault(
        "result",
        "error_in_200",
        provider="wavespeed",
        body={"code": 200, "message": "success", "data": {"id": "x", "status": "failed", "error": echo}},
    )
    generate("t2v", prompt="wavespeed failure with the key", model=MODELS["ws_t2v"])
    fake.fault(
        "upload",
        "status",
        provider="wavespeed",
        status=401,
        body={"code": 401, "message": echo, "data": None},
    )
    messages.append(
        refusal(
            client, "/image_to_video", prompt="upload", image=handle_file(str(image)), model=MODELS["ws_i2v"]
        )
    )

    history = all_history(client, state="")
    records += history
    records += [client.predict(job_id=item["id"], api_name="/job") for item in history]
    assert len(messages) >= 6 and any("***" in m for m in messages), messages
    return messages, records


def test_a_canary_key_never_leaks_after_a_full_run(canary_studio: Any, tmp_path: Path) -> None:
    studio, canary = canary_studio, canary_studio.canary
    app, fake = studio.app, studio.fake
    messages, records = full_run(studio, good_png(tmp_path))

    # The canary really was the key in use: every provider request carried it.
    provider_requests = [r for r in fake.requests() if r["op"] in ("submit", "status", "result", "upload")]
    assert provider_requests and all(canary.encode() in request_bytes(r) for r in provider_requests)

    blobs: list[tuple[str, bytes]] = [(f"error message {i}", m.encode()) for i, m in enumerate(messages)]
    blobs += [(f"record {r.get('id')}", repr(r).encode()) for r in records]
    for path in PUBLIC_GETS:
        response = httpx.get(app.url + path, timeout=30)
        if path in ("", "config", "gradio_api/info"):
            assert response.status_code == 200, path
        blobs.append((f"GET /{path}", response.content))

    # An export zip of everything, made by the studio's own export from the live database.
    settings = Settings(data_dir=app.data_dir)
    store = JobStore(settings.db_path)
    store.open()
    try:
        export = history_ops.export_jobs(store, settings, "local", None, tmp_path / "export")
    finally:
        store.close()
    blobs += [(str(export), export.read_bytes()), *zip_members(export)]
    assert any(name.endswith(".mp4") for name, _ in zip_members(export))

    page_html = run_in_browser(
        lambda page: (page.goto(app.url), page.wait_for_selector("#t2v-generate"), page.content())[-1]
    )
    blobs.append(("the page's DOM", page_html.encode()))
    blobs.append(("app logs", app.log().encode()))
    blobs += files_under(app.data_dir, app.cache_dir, app.temp_dir)

    searched = len(blobs)
    leaks = leaks_in(blobs, canary)
    print(f"\nsecrets: searched {searched} logs, files, responses and messages; leaks found: {len(leaks)}")
    assert not leaks, f"the canary key leaked into: {leaks}"
    assert any("studio.sqlite3" in name for name, _ in blobs), "the database was not searched"


def test_a_key_typed_in_the_page_is_used_but_never_written(canary_studio: Any) -> None:
    """Settings tab → 'Use these keys' → generate on RunComfy: the provider sees the typed
    key, and nothing on disk, in the logs or in the page afterwards holds it."""
    app, fake, typed = canary_studio.app, canary_studio.fake, canary_studio.session_canary

    def use_typed_key(page: Any) -> dict[str, Any]:
        page.goto(app.url)
        page.locator(".pager-text[data-total]").wait_for(state="attached", timeout=60_000)
        page.get_by_role("tab", name="API keys").click()
        page.locator("#key-runcomfy input").fill(typed)
        page.locator("#keys-save").click()
        page.wait_for_function(
            "() => document.querySelector('#keys-status')?.textContent.includes('typed in this session')"
        )
        page.get_by_role("tab", name="Text to video").click()
        page.locator("#t2v-prompt textarea").fill("a typed key at work")
        page.locator("#t2v-generate").click()
        page.locator("#t2v-status .status-card[data-state='succeeded']").wait_for(timeout=90_000)
        return {"html": page.content(), "box": page.locator("#key-runcomfy input").input_value()}

    seen = run_in_browser(use_typed_key)
    used = [r for r in fake.submits() if typed.encode() in request_bytes(r)]
    assert len(used) == 1, "the typed key was not the one sent with the job"
    assert seen["box"] == "", "the password box still holds the key"
    wait_until(lambda: not list(app.data_dir.rglob("*.part")), 30, "downloads settled")
    blobs = [("the page after the job", seen["html"].encode()), ("app logs", app.log().encode())]
    blobs += files_under(app.data_dir, app.cache_dir, app.temp_dir)
    leaks = leaks_in(blobs, typed)
    assert not leaks, f"the typed key was written to: {leaks}"


def test_session_keys_given_to_the_engine_are_used_and_forgotten(tmp_path: Path) -> None:
    """Both providers (WaveSpeed's image upload included), a success and an auth failure
    that echoes the key: nothing in the data folder or any record holds the key, and the
    engine drops it once the job is over."""
    rc_key, ws_key = "sk-canary-session-rc-0f1e2d", "sk-canary-session-ws-3c4b5a"
    image = good_png(tmp_path)

    class SessionKeyFake(FakeProviders):
        RUNCOMFY_KEY, WAVESPEED_KEY = rc_key, ws_key

    async def scenario() -> tuple[list[str], list[str], int]:
        with SessionKeyFake(queue_seconds=0, run_seconds=0.1) as fake:
            settings = settings_for(tmp_path / "data", fake.base_url, runcomfy_key=None, wavespeed_key=None)
            engine = await started_engine(settings)
            keys = {"runcomfy": Secret(rc_key), "wavespeed": Secret(ws_key)}
            records = []
            try:
                for request in (
                    GenerationRequest(kind="t2v", model=MODELS["rc_t2v"], prompt="session rc"),
                    GenerationRequest(
                        kind="i2v", model=MODELS["ws_i2v"], prompt="session ws", image=str(image)
                    ),
                ):
                    record = await engine.submit("alice", request, keys=keys)
                    records.append(await engine.wait("alice", record.id, timeout=60))
                fake.add_fault(
                    "status", "error_in_200", body={"error_code": 400004, "error_message": f"bad {rc_key}"}
                )
                failing = await engine.submit(
                    "alice", GenerationRequest(kind="t2v", model=MODELS["rc_t2v"], prompt="echo"), keys=keys
                )
                records.append(await engine.wait("alice", failing.id, timeout=60))
                remembered = len(engine._session_keys)  # the promise: only while the job runs
            finally:
                await engine.close()
            states = [r.state for r in records]
            texts = [r.to_json() for r in records]
            used = sum(
                1 for r in fake.requests if rc_key.encode() in (r.header("Authorization") or "").encode()
            )
        return states, texts, remembered + (0 if used else 1000)

    states, texts, remembered = run_async(scenario)
    assert states == ["succeeded", "succeeded", "failed"]
    assert remembered == 0, "the engine still holds session keys after the jobs ended (or never used them)"
    blobs = [("record", t.encode()) for t in texts] + files_under(tmp_path / "data")
    assert not leaks_in(blobs, rc_key) and not leaks_in(blobs, ws_key)
