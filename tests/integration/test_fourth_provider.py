"""Acceptance: a fourth provider, defined entirely in tests/ (tests/fourth/), joins the
studio through the registry alone: it appears in the form with its options and in the API
with its parameters, runs a job end to end through the engine to a saved video, and shows
in history. Nothing in jobs/, ui/ or app.py knows it exists.

Also checks docs/architecture.md's "How to add a provider" against reality.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from jobs.records import HistoryQuery
from jobs.service import Studio
from jobs.settings import Settings
from providers.registry import ProviderInfo, builtin_registry, discover
from tests.e2e.launcher import free_port
from tests.fakes.media import SAMPLE_HEIGHT, SAMPLE_WIDTH, sample_video
from tests.fourth import keyhub
from tests.fourth.fake import KeyHubFake
from ui.gate import Guard
from ui.history_panel import tile
from ui.layout import build_demo, launch_options
from ui.owners import LOCAL_OWNER

REPO = Path(__file__).resolve().parents[2]
KEY = "kh-test-key-0123456789"
MODEL = "keyhub/dreamina-3-0/text-to-video"


@pytest.fixture(scope="module")
def fake() -> Iterator[KeyHubFake]:
    server = KeyHubFake(KEY, sample_video()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def settings(fake: KeyHubFake, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Through the registry alone: the provider's own declaration says which variables to read.
    registry = builtin_registry().including(keyhub.PROVIDER)
    env = {
        "STUDIO_DATA_DIR": str(tmp_path_factory.mktemp("fourth") / "data"),
        "KEYHUB_API_KEY": KEY,
        "KEYHUB_BASE_URL": fake.url,
        "STUDIO_SIM_QUEUE_SECONDS": "0.1",
        "STUDIO_SIM_RUN_SECONDS": "0.1",
    }
    return Settings.from_env(env, registry=registry)


@pytest.fixture(scope="module")
def app(settings: Settings) -> Iterator[tuple[Studio, Any, str]]:
    studio = Studio(settings)
    studio.start()
    guard = Guard(settings)
    demo = build_demo(settings, studio, guard)
    demo.queue(default_concurrency_limit=None)
    options = {**launch_options(settings, guard), "server_port": free_port(), "quiet": True}
    options.pop("theme", None), options.pop("css", None)
    _, url, _ = demo.launch(prevent_thread_lock=True, **options)
    try:
        yield studio, demo, url
    finally:
        demo.close()
        studio.stop()


def components(demo: Any) -> dict[str, dict[str, Any]]:
    """The page's components by elem_id, as the browser receives them."""
    found = {}
    for component in demo.config["components"]:
        props = component.get("props", {})
        if props.get("elem_id"):
            found[props["elem_id"]] = {**props, "component": component["type"]}
    return found


def test_the_settings_come_from_the_providers_declaration(settings: Settings, fake: KeyHubFake) -> None:
    assert settings.key_for("keyhub") and settings.key_for("keyhub").reveal() == KEY
    assert settings.base_url_for("keyhub") == fake.url
    assert "KEYHUB_API_KEY" in settings.registry.key_env_names()
    assert KEY not in repr(settings)


def test_it_appears_in_the_form_with_its_options(app: tuple[Studio, Any, str], settings: Settings) -> None:
    _, demo, _ = app
    page = components(demo)
    providers = [value for _, value in page["t2v-provider"]["choices"]]
    assert "keyhub" in providers, providers
    # Its on/off option is a checkbox of the text-to-video form; its model takes no image,
    # so the image-to-video form neither lists it nor has the control.
    assert page["t2v-enhance_prompt"]["component"] == "checkbox"
    assert page["t2v-enhance_prompt"]["label"] == "Enhance prompt"
    assert "i2v-enhance_prompt" not in page
    assert "keyhub" not in [value for _, value in page["i2v-provider"]["choices"]]
    # Choosing its model shows the option (with its default); another model hides it.
    from ui.controls import option_update

    shown = option_update(keyhub.MODELS[0], "enhance_prompt", None)
    assert shown["visible"] is True and shown["value"] is False and shown["label"] == "Enhance prompt"
    hidden = option_update(
        settings.registry.model("simulator/dreamina-3-0/text-to-video"), "enhance_prompt", True
    )
    assert hidden["visible"] is False
    # Its key has a box in the keys tab, named after the provider.
    assert page["key-keyhub"]["component"] == "textbox" and page["key-keyhub"]["type"] == "password"
    assert "KeyHub" in page["key-keyhub"]["label"]


def test_it_appears_in_the_api_with_its_parameters(app: tuple[Studio, Any, str]) -> None:
    _, _, url = app
    api = Client(url, verbose=False).view_api(return_format="dict", print_info=False)
    t2v = {p["parameter_name"]: p for p in api["named_endpoints"]["/text_to_video"]["parameters"]}
    assert "enhance_prompt" in t2v and t2v["enhance_prompt"]["parameter_has_default"]
    i2v = [p["parameter_name"] for p in api["named_endpoints"]["/image_to_video"]["parameters"]]
    assert "enhance_prompt" not in i2v


def test_it_appears_in_the_mcp_tools_with_its_option_and_key_header(app: tuple[Studio, Any, str]) -> None:
    _, _, url = app
    tools = {t["name"]: t for t in httpx.get(url.rstrip("/") + "/gradio_api/mcp/schema", timeout=10).json()}
    generate = tools["generate_video"]
    assert "enhance_prompt" in generate["inputSchema"]["properties"]
    assert MODEL in generate["inputSchema"]["properties"]["model"]["description"]
    assert "x-keyhub-key" in generate["meta"]["headers"]


def test_a_job_runs_end_to_end_to_a_saved_video_and_shows_in_history(
    app: tuple[Studio, Any, str], fake: KeyHubFake, settings: Settings
) -> None:
    studio, _, url = app
    client = Client(url, verbose=False)
    video, job = client.predict(
        prompt="A lantern floats over a dark lake",
        model=MODEL,
        aspect_ratio="9:16",
        enhance_prompt="true",
        api_name="/text_to_video",
    )
    assert job["state"] == "succeeded", job
    assert job["provider"] == "keyhub" and job["options"]["enhance_prompt"] is True
    assert Path(video).is_file() and Path(video).name.startswith("dreamina_keyhub-t2v-720p_")
    # The API answers with URLs, not server paths (and no owner): the engine has the files.
    assert "owner" not in job and job["video_url"] and job["poster_url"]
    record = studio.run_sync(lambda: studio.get(LOCAL_OWNER, job["id"]))
    assert record is not None and record.video_path and record.poster_path
    saved = Path(record.video_path)
    assert saved.is_file() and saved.is_relative_to(settings.videos_dir)
    assert (job["video_width"], job["video_height"]) == (SAMPLE_WIDTH, SAMPLE_HEIGHT), "the fake's video"
    assert Path(record.poster_path).is_file()

    # On the wire: KeyHub's own auth scheme, the neutral option under its wire name, and
    # every poll at the status URL the submit reply named (kept in the job's locator).
    [submit] = [r for r in fake.requests if r.method == "POST"]
    assert submit.headers["Authorization"] == f"Key {KEY}"
    assert submit.path == f"/v1/run/{keyhub.MODELS[0].path}"
    assert submit.body == {
        "prompt": "A lantern floats over a dark lake",
        "aspect_ratio": "9:16",
        "enhance_prompt": True,
        "seed": job["seed"],
    }
    token = next(iter(fake.jobs))
    polls = [r for r in fake.requests if r.method == "GET" and r.path.startswith("/queue/")]
    assert len(polls) >= 3 and all(r.path == f"/queue/{token}/status" for r in polls)
    assert job["locator"] == {"status_url": f"{fake.url}/queue/{token}/status"}

    # History: the API's page, the engine's filter by provider, and the gallery's caption.
    history = client.predict(provider="keyhub", api_name="/history")
    assert [item["id"] for item in history["items"]] == [job["id"]]
    page = studio.run_sync(lambda: studio.history(LOCAL_OWNER, HistoryQuery(provider="keyhub")))
    assert [r.id for r in page.items] == [job["id"]]
    _, caption = tile(page.items[0], settings.registry, Guard(settings).links)
    assert caption.endswith("keyhub-t2v-720p")


def test_it_cannot_be_cancelled_and_the_page_knows_it(settings: Settings) -> None:
    from jobs import rules
    from jobs.records import JobRecord

    queued = JobRecord(
        id="j", owner="o", kind="t2v", model=MODEL, provider="keyhub", prompt="p", state="queued"
    )
    assert not rules.can_cancel(settings.registry, queued)
    assert rules.can_reuse(settings.registry, queued)


# --- docs/architecture.md's "How to add a provider", checked against reality -----------


def how_to_section() -> str:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    match = re.search(r"^## How to add a provider\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, "docs/architecture.md has no '## How to add a provider' section"
    return match.group(1)


def test_the_how_to_names_every_field_a_provider_must_declare() -> None:
    section = how_to_section()
    named = set(re.findall(r"`(\w+)`", section))
    fields = {f.name for f in dataclasses.fields(ProviderInfo)}
    required = {f.name for f in dataclasses.fields(ProviderInfo) if f.default is dataclasses.MISSING}
    assert required <= named, f"the how-to does not name {required - named}"
    described = {name for name in named if name in fields}
    assert len(described) >= 10, "the how-to should walk through the declaration's fields"


def test_the_how_to_is_what_the_fourth_provider_did() -> None:
    section = how_to_section()
    # One module with a module-level PROVIDER: the registry finds exactly that.
    assert "`PROVIDER`" in section
    assert [info.name for info in discover("tests.fourth")] == ["keyhub"]
    # The files it says a provider touches, and the ones it says it never does.
    for phrase in ("providers/", "tests/", "jobs/", "ui/", "app.py"):
        assert phrase in section, phrase
    # Every file it names exists.
    for path in re.findall(r"`((?:providers|tests|jobs|ui|docs)/[\w/.]+)`", section):
        assert (REPO / path).exists(), path
