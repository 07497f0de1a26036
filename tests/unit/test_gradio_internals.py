"""ui/gradio_internals.py still reaches what it needs inside Gradio. A Gradio upgrade that
renames or moves one of them fails here (and any other version fails the first test, so
the internals are read again before an upgrade lands)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import gradio as gr
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
