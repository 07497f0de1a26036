"""ui/gradio_internals.py still reaches what it needs inside Gradio. A Gradio upgrade that
renames or moves one of them fails here (and any other version fails the first test, so
the internals are read again before an upgrade lands)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import gradio.components.login_button
import gradio.oauth
import pytest

from ui import gradio_internals
from ui.gradio_internals import CHECKED_VERSION, IDLE_QUEUE_SLEEP, quiet_idle_queue


def test_this_is_the_gradio_the_internals_were_checked_against() -> None:
    assert gr.__version__.startswith(CHECKED_VERSION + "."), (
        f"Gradio {gr.__version__}: re-read ui/gradio_internals.py against it, then update CHECKED_VERSION"
    )


def test_the_idle_queue_sleeps_longer_than_gradios_one_millisecond() -> None:
    with gr.Blocks() as demo:
        gr.Textbox()
    demo.queue()
    assert demo._queue.sleep_when_free < IDLE_QUEUE_SLEEP
    assert quiet_idle_queue(demo) is True
    assert demo._queue.sleep_when_free == IDLE_QUEUE_SLEEP


def test_the_upload_folder_is_where_gradio_saves_uploads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    assert gradio_internals.upload_folder() == tmp_path.resolve()
    monkeypatch.delenv("GRADIO_TEMP_DIR")
    assert gradio_internals.upload_folder().name == "gradio"
    assert os.environ.get("GRADIO_TEMP_DIR") is None


def test_a_pinned_upload_folder_is_gradios_own_and_components_no_longer_resolve_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    found = gradio_internals.upload_folder()
    resolved: list[Path] = []
    real_resolve = Path.resolve

    def counted(self: Path, strict: bool = False) -> Path:
        resolved.append(self)
        return real_resolve(self, strict)

    monkeypatch.setattr(Path, "resolve", counted)
    gr.Button("x", render=False)
    assert resolved, "Gradio no longer resolves its folder per component: pin_upload_folder can go"
    gradio_internals.pin_upload_folder()
    assert os.environ["GRADIO_TEMP_DIR"] == str(found)
    resolved.clear()
    gr.Button("x", render=False)
    assert resolved == []
    assert gradio.utils.get_upload_folder() == str(found)


def test_a_deployments_own_upload_folder_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "mine"))
    gradio_internals.pin_upload_folder()
    assert os.environ["GRADIO_TEMP_DIR"] == str(tmp_path / "mine")


def test_the_oauth_session_still_holds_the_userinfo_where_it_is_read() -> None:
    # Gradio stores the sign-in under session["oauth_info"] and reads the user from its
    # "userinfo" (its LoginButton does exactly what oauth_user_name does).
    assert 'request.session["oauth_info"] = oauth_info' in inspect.getsource(gradio.oauth)
    assert 'oauth_info["userinfo"]["preferred_username"]' in inspect.getsource(gradio.components.login_button)

    class Request:
        session = {"oauth_info": {"userinfo": {"preferred_username": "alice"}}}

    assert gradio_internals.oauth_user_name(Request()) == "alice"  # type: ignore[arg-type]
    assert gradio_internals.oauth_user_name(object()) is None  # type: ignore[arg-type]


def test_a_password_login_is_found_on_a_plain_request_where_gradio_keeps_it() -> None:
    """The gate names the signed-in user of a media fetch from Gradio's App.tokens and
    App.cookie_id: a real /login through Gradio's own route, then the cookies it set."""
    from fastapi.testclient import TestClient
    from gradio.routes import App

    with gr.Blocks() as demo:
        gr.Markdown("x")
    demo.auth = [("alice", "pw")]
    app = App.create_app(demo)
    with TestClient(app) as client:
        assert client.post("/login", data={"username": "alice", "password": "pw"}).status_code == 200
        cookies = dict(client.cookies)
    assert any(name.startswith("access-token") for name in cookies), cookies
    scope = {"app": app}
    assert gradio_internals.password_user_in_scope(scope, cookies) == "alice"
    forged = {name: "forged" for name in cookies}
    assert gradio_internals.password_user_in_scope(scope, forged) is None
    assert gradio_internals.password_user_in_scope(scope, {}) is None
    assert gradio_internals.password_user_in_scope({"app": object()}, cookies) is None


def test_a_hugging_face_sign_in_is_found_on_a_plain_request() -> None:
    scope = {"session": {"oauth_info": {"userinfo": {"preferred_username": "bob"}}}}
    assert gradio_internals.oauth_user_in_scope(scope) == "bob"
    assert gradio_internals.oauth_user_in_scope({}) is None


def _page() -> gr.Blocks:
    with gr.Blocks() as demo:
        state = gr.State(["start"])
        box = gr.Textbox("hello", label="box")
        with gr.Row():
            number = gr.Number(3)
        box.change(lambda text, value: (text, len(value)), [box, state], [box, number])
    return demo


def test_a_lazy_session_state_is_gradios_session_state_with_its_configs_made_on_use() -> None:
    from gradio.state_holder import SessionState

    demo = _page()
    eager, lazy = SessionState(demo), gradio_internals.LazySessionState(demo)
    # Same attributes (an upgrade adding one to SessionState.__init__ fails here), and no
    # block's config made until the deep link reads them.
    assert set(vars(lazy)) - {"_lazy_keys", "_stale", "_values"} == set(vars(eager))
    assert lazy.config_values == {} and eager.config_values
    assert lazy.STATE_TTL_WHEN_CLOSED == eager.STATE_TTL_WHEN_CLOSED
    box_id = next(k for k, b in demo.blocks.items() if getattr(b, "label", None) == "box")
    for state in (eager, lazy):
        state._update_value_in_config(box_id, "changed")
    assert list(lazy.components) == list(eager.components)
    state_id = next(k for k, b in demo.blocks.items() if isinstance(b, gr.State))
    assert lazy[state_id] == ["start"] and lazy[state_id] is not eager[state_id]


def test_gradios_own_input_and_output_handling_leaves_a_lazy_session_what_it_leaves_its_own() -> None:
    """Through Gradio's preprocess_data and postprocess_data, as an event runs them: values
    read, a plain output, a property update, a skip and a state set; the deep link then
    reads the same configs from both, and the lazy one made none before it read them."""
    import asyncio

    from gradio.state_holder import SessionState

    demo = _page()
    with demo:
        hidden = gr.Button("go", visible=False)
        kept = gr.State(0)
    block_fn = demo.fns[0]
    block_fn.outputs = [*block_fn.outputs, hidden, kept]
    eager, lazy = SessionState(demo), gradio_internals.LazySessionState(demo)
    for state in (eager, lazy):
        asyncio.run(demo.preprocess_data(block_fn, ["typed", None], state))
        predictions = ["typed", gr.update(value=7, label="count"), gr.update(visible=True), 5]
        asyncio.run(demo.postprocess_data(block_fn, predictions, state))
        asyncio.run(demo.postprocess_data(block_fn, [gr.skip(), 8, gr.skip(), 6], state))
    assert lazy.config_values == {}
    assert lazy[block_fn.outputs[-1]._id] == eager[block_fn.outputs[-1]._id] == 6
    made = list(lazy.components)
    # Gradio also notes the second value under the id of the block it built for the first
    # update, which differs between the two runs (ids count up): compare without it.
    page_ids = set(demo.blocks)

    def same_page(configs: list[dict]) -> list[dict]:
        return [c if c["id"] in page_ids else {**c, "id": "rebuilt"} for c in configs]

    assert same_page(made) == same_page(list(eager.components))
    number = next(c for c in made if c["type"] == "number")  # the page's, listed first
    assert number["props"]["label"] == "count" and number["props"]["value"] == 7
    assert next(c for c in made if c["id"] == hidden._id)["props"]["visible"] is True
    assert list(lazy.components) == made  # read again: the same


def test_a_launched_demo_makes_lazy_sessions_and_still_answers() -> None:
    from gradio_client import Client

    demo = _page()
    demo.queue()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1")
    try:
        assert gradio_internals.lazy_session_state(demo) is True
        assert gradio_internals.lazy_session_state(demo) is False  # once is enough
        client = Client(demo.local_url, verbose=False, analytics_enabled=False, ssl_verify=False)
        assert client.predict("again", fn_index=0) == ("again", 1)
        sessions = list(demo.state_holder.session_data.values())
        assert sessions and all(isinstance(s, gradio_internals.LazySessionState) for s in sessions)
    finally:
        demo.close()


def test_the_queue_skips_its_monitoring_summary_where_gradio_reads_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Gradio's queue rebuilds its summary of every recorded event after each queued event
    unless GRADIO_ANALYTICS_CACHE_FREQUENCY (read when the queue is made) says otherwise."""
    for name in gradio_internals.QUEUE_ANALYTICS_ENV:
        monkeypatch.delenv(name, raising=False)
    with gr.Blocks() as plain:
        gr.Textbox()
    plain.queue()
    assert plain._queue.ANAYLTICS_CACHE_FREQUENCY == 1  # Gradio's default: every event
    gradio_internals.skip_queue_analytics()
    with gr.Blocks() as demo:
        gr.Textbox()
    demo.queue()
    queue = demo._queue
    assert queue.ANAYLTICS_CACHE_FREQUENCY > 10**9 and queue.ANALYTICS_MAX_EVENTS == 100
    records = [{"function": "f", "status": "success", "process_time": 0.1}] * 3
    queue.events_recorded = 5
    summary = queue.compute_analytics_summary(records)
    assert summary == {"functions": {}}  # not rebuilt: the empty summary it started with


def test_a_component_rebuilt_for_an_update_reuses_its_data_models_schema() -> None:
    # Gradio builds an output's component again for every update; each new instance used to
    # build its data model's JSON schema again (pydantic, milliseconds for a gallery).
    before = gr.Gallery(render=False).api_info()
    assert gradio_internals.shared_api_info()
    first, second = gr.Gallery(render=False), gr.Gallery(render=False)
    assert first.api_info() is second.api_info()  # one schema for the data model
    assert second.api_info() == before  # ...and the one Gradio builds
    assert second._api_info_cache is not None  # the instance cache it fills is still Gradio's
    assert gr.Video(render=False).api_info() != second.api_info()  # per data model, not shared by all


def test_a_gr_api_endpoints_inputs_are_labelled_with_its_parameter_names() -> None:
    async def make(prompt: str, seconds: int = 5) -> str:
        return f"{prompt} {seconds}"

    with gr.Blocks() as demo:
        dependency = gr.api(make, api_name="make")
    labels = [demo.blocks[i].label for i in dependency["inputs"]]
    assert labels != ["prompt", "seconds"]  # Gradio's own labels ('1st', ...): the hook has work to do
    assert gradio_internals.label_api_inputs(dependency, demo, ["prompt", "seconds"]) is True
    assert [demo.blocks[i].label for i in dependency["inputs"]] == ["prompt", "seconds"]
    # ...and the page config, which "Use via API" and raw clients read, carries the names
    config = demo.get_config_file()
    by_id = {c["id"]: c for c in config["components"]}
    assert [by_id[i]["props"]["label"] for i in dependency["inputs"]] == ["prompt", "seconds"]


def test_labelling_changes_nothing_when_the_names_do_not_match_the_inputs() -> None:
    async def make(prompt: str) -> str:
        return prompt

    with gr.Blocks() as demo:
        dependency = gr.api(make, api_name="make")
    before = [demo.blocks[i].label for i in dependency["inputs"]]
    assert gradio_internals.label_api_inputs(dependency, demo, ["prompt", "extra"]) is False
    assert gradio_internals.label_api_inputs({"no": "inputs"}, demo, ["prompt"]) is False
    assert [demo.blocks[i].label for i in dependency["inputs"]] == before


def test_gradio_serves_its_frontend_code_from_the_folder_and_path_named() -> None:
    """ui/frontend_assets.py answers for Gradio's /assets/ route from Gradio's build folder:
    the page's template must name scripts in that folder, and Gradio's own route must serve
    that folder's bytes under that path."""
    import re

    from fastapi.testclient import TestClient
    from gradio.routes import App

    folder, prefix = gradio_internals.frontend_code()
    template = (folder.parent / "index.html").read_text()
    named = re.findall(r'(?:src|href)="\./assets/([^"/]+)"', template)
    assert named and all((folder / name).is_file() for name in named)
    with gr.Blocks() as demo:
        gr.Markdown("page")
    app = App.create_app(demo)
    assert any(getattr(route, "path", None) == prefix + "{path:path}" for route in app.routes)
    with TestClient(app) as client:
        response = client.get(prefix + named[0], headers={"accept-encoding": "identity"})
    assert response.status_code == 200 and response.content == (folder / named[0]).read_bytes()


def _page_config(html: str) -> dict[str, Any]:
    import json
    import re

    found = re.search(r"window\.gradio_config = (\{.*?\});</script>", html, re.S)
    assert found, "the page no longer carries its config where the browser reads it"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_the_page_leaves_out_the_hidden_column_of_api_blocks_which_config_and_info_keep() -> None:
    async def make(prompt: str, seconds: int) -> str:
        return prompt * seconds

    with gr.Blocks() as demo:
        shown = gr.Textbox(label="shown")
        with gr.Column(visible=False) as holder:
            dependency = gr.api(make, api_name="make")
        assert gradio_internals.page_without(demo, holder) is True
        assert gradio_internals.page_without(demo, holder) is False  # one holder a demo
    api_ids = set(dependency["inputs"] + dependency["outputs"])
    assert len(api_ids) == 3 and {block._id for block in holder.children} == api_ids

    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", ssr_mode=False)
    try:
        with httpx.Client(base_url=demo.local_url, timeout=30) as client:
            page = _page_config(client.get("/").text)
            whole = client.get("/config").json()
            info = client.get("/gradio_api/info").json()
    finally:
        demo.close()
    on_page = {c["id"] for c in page["components"]}
    assert shown._id in on_page and not on_page & (api_ids | {holder._id})
    (form,) = page["layout"]["children"]  # Gradio wraps the textbox in a form
    assert form["children"] == [{"id": shown._id}]
    # the page still lists the endpoint, for "Use via API", which reads /info for the rest
    assert any(d.get("api_name") == "make" for d in page["dependencies"])
    assert api_ids | {holder._id} <= {c["id"] for c in whole["components"]}
    assert [p["parameter_name"] for p in info["named_endpoints"]["/make"]["parameters"]] == ["prompt", "seconds"]


def test_without_the_holder_in_the_pages_root_the_page_is_left_as_gradio_builds_it() -> None:
    async def make(prompt: str) -> str:
        return prompt

    with gr.Blocks() as demo:
        with gr.Row(), gr.Column(visible=False) as nested:
            gr.api(make, api_name="make")
        gradio_internals.page_without(demo, nested)
    config = demo.get_config_file()
    assert {block._id for block in nested.children} <= set(config["page"][""]["components"])
