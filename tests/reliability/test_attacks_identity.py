"""Attacks on who a caller is: forged X-Forwarded-For from an untrusted peer buys nothing while a
trusted proxy's is honoured; no API answer, raw queue answer or named endpoint carries an owner id
or a server path; a visitor's id stays on the server and cannot be forged."""

from __future__ import annotations

import functools
import json
import re
import secrets
import zipfile
from pathlib import Path
from typing import Any

import httpx

from tests.images import good_png
from tests.reliability.attacks_support import (  # noqa: F401 (the *_fixture names are fixtures)
    HOURLY,
    SIM,
    USERS,
    Apps,
    apps_fixture,
)
from tests.reliability.browser import run_in_browser
from tests.reliability.harness import (
    AppProcess,
    studio_client,
)


def made(app: AppProcess, forwarded_for: str | None = None) -> bool:
    """One job from a fresh gradio_client session (a fresh owner): accepted or refused."""
    from gradio_client.exceptions import AppError

    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
    client = studio_client(app.url) if headers is None else _client_with_headers(app.url, headers)
    try:
        client.predict(prompt="an allowance", model=SIM, api_name="/text_to_video")
    except AppError as error:
        assert "per hour" in str(error), error
        return False
    return True


def _client_with_headers(url: str, headers: dict[str, str]) -> Any:
    from gradio_client import Client

    return Client(url, headers=headers, verbose=False, analytics_enabled=False, download_files=False)


def test_forged_forwarded_for_headers_from_an_untrusted_peer_buy_nothing(apps: Apps) -> None:
    app = apps.public
    while made(app):  # this address uses up its hour
        pass
    forged = [f"203.0.113.{i}" for i in range(8)]
    accepted = sum(made(app, address) for address in forged)
    # Raw HTTP to the named endpoint, header spelled other ways.
    raw = 0
    for header in ("X-Forwarded-For", "x-forwarded-for", "X-Real-IP", "Forwarded"):
        posted = httpx.post(
            app.url + "gradio_api/call/text_to_video",
            json={"data": ["raw forged", SIM]},
            headers={header: "198.51.100.77" if header != "Forwarded" else "for=198.51.100.77"},
        )
        answer = httpx.get(app.url + f"gradio_api/call/text_to_video/{posted.json()['event_id']}", timeout=60)
        raw += "event: complete" in answer.text
    print(f"\nforged X-Forwarded-For: {accepted}/8 gradio_client calls and {raw}/4 raw calls accepted")
    assert accepted == 0 and raw == 0


def test_a_trusted_proxys_forwarded_for_is_honoured(apps: Apps) -> None:
    app = apps.proxied
    # Each address the proxy reports has its own hour; what a client wrote to the left of
    # the proxy's entry does not change whose hour it is.
    assert sum(made(app, "198.51.100.1") for _ in range(HOURLY + 1)) == HOURLY
    assert not made(app, "6.6.6.6, 198.51.100.1"), "a forged left-hand entry bought a new hour"
    assert made(app, "198.51.100.2"), "another client behind the proxy shared the first one's hour"


SERVER_PATH = re.compile(r"(/tmp/|/work/|/home/|/data/|studio\.sqlite3|file://)")


def test_api_answers_carry_no_owner_id_and_no_server_path(apps: Apps) -> None:
    from gradio_client import handle_file

    app = apps.signed_in
    alice = studio_client(app.url, auth=("alice", USERS["alice"]))
    image = good_png(app.workdir, name="input.png")
    answers: list[Any] = []
    job = alice.submit(
        prompt="a lighthouse's answers",
        image=handle_file(str(image)),
        model="simulator/dreamina-3-0/image-to-video",
        api_name="/image_to_video",
    )
    video, final = job.result(timeout=120)
    # Every answer as gradio_client receives it (download_files=False: Gradio's own file
    # objects, not local copies): each update streamed, the video and the final record,
    # /job, /history, /cancel, /spend.
    answers += [output for output in job.outputs() if output] + [video, final]
    answers.append(alice.predict(job_id=final["id"], api_name="/job"))
    answers.append(alice.predict(limit=50, state="", api_name="/history"))
    answers.append(alice.predict(job_id=final["id"], api_name="/cancel"))
    answers.append(alice.predict(api_name="/spend"))
    assert video["url"] == video["path"] and "/studio-media/" in video["url"], video
    assert video["orig_name"] == final["download_name"]
    text = json.dumps(answers)
    assert final["video_url"] and final["poster_url"] and final["input_image_url"], final
    assert final["download_name"].endswith(".mp4")
    leaks = [word for word in ("alice", str(app.data_dir), str(app.workdir)) if word in text]
    leaks += SERVER_PATH.findall(text)
    print(f"\nAPI answers: {len(answers)} checked; owner ids or server paths found: {leaks}")
    assert not leaks
    # The URLs work for alice (and only her: test_access.py checks bob).
    session = httpx.Client(base_url=app.url, timeout=30)
    session.post("login", data={"username": "alice", "password": USERS["alice"]})
    assert session.get(final["video_url"]).content[4:8] == b"ftyp"
    assert session.get(final["input_image_url"]).status_code == 200
    # The uploaded original stays until Gradio's hourly sweep (test_files.py checks that):
    # Gradio's upload folder is content-addressed, so another visitor who uploaded the same
    # bytes holds the same file, and deleting it at this job's submit failed theirs (seen in
    # the 50-user load test: "the uploaded file is missing").
    assert list(app.cache_dir.rglob("input.png")), "a shared upload was deleted under its other users"
    # gradio_client with downloads on fetches the video by that URL, under its download name.
    downloaded = studio_client(app.url, auth=("alice", USERS["alice"]), download_dir=app.workdir / "dl")
    saved, record = downloaded.predict(prompt="a download", model=SIM, api_name="/text_to_video")
    assert Path(saved).name == record["download_name"] and Path(saved).read_bytes()[4:8] == b"ftyp"


def _raw_named_call(
    session: httpx.Client, config: dict[str, Any], session_hash: str, api_name: str, **values: Any
) -> str:
    """Call a named endpoint the way any HTTP client can (queue/join, then the SSE stream of
    queue/data) and return every message of that stream as text."""
    dependency = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    info = session.get("gradio_api/info").json()["named_endpoints"][f"/{api_name}"]
    data = [values.get(p["parameter_name"], p.get("parameter_default")) for p in info["parameters"]]
    body = {"data": data, "fn_index": dependency["id"], "session_hash": session_hash, "event_data": None}
    assert session.post("gradio_api/queue/join", json=body).status_code == 200
    lines = []
    with session.stream(
        "GET", "gradio_api/queue/data", params={"session_hash": session_hash}, timeout=120
    ) as stream:
        for line in stream.iter_lines():
            lines.append(line)
            if '"process_completed"' in line:
                break
    text = "\n".join(lines)
    assert '"success": true' in text or '"success":true' in text, text[-2000:]
    return text


def test_raw_queue_answers_of_every_named_endpoint_carry_no_owner_id_and_no_server_path(apps: Apps) -> None:
    """The same through Gradio's queue routes with plain HTTP, on a public demo (owner ids
    `browser-…` from the visitor cookie) and a signed-in studio. (Before: the video came as
    Gradio's file object with its absolute cache path, /tmp/gradio/<hash>/dreamina_….mp4.)"""
    answers: dict[str, str] = {}
    for app, login in ((apps.proxied, None), (apps.signed_in, "alice")):
        # Behind the proxied demo's trusted proxy: an address with its own hourly allowance.
        headers = {"X-Forwarded-For": "192.0.2.90"} if login is None else {}
        session = httpx.Client(base_url=app.url, timeout=60, headers=headers)
        if login:
            assert session.post("login", data={"username": login, "password": USERS[login]}).status_code == 200
        else:
            session.get("")  # the visitor cookie
        config = session.get("config").json()
        call = functools.partial(_raw_named_call, session, config, secrets.token_hex(8))
        uploaded = session.post(
            "gradio_api/upload", files={"files": ("input.png", good_png(app.workdir, name="raw.png").read_bytes())}
        ).json()[0]
        image = {"path": uploaded, "orig_name": "input.png", "meta": {"_type": "gradio.FileData"}}
        t2v = call("text_to_video", prompt="raw t2v", model=SIM)
        i2v = call(
            "image_to_video", prompt="raw i2v", model="simulator/dreamina-3-0/image-to-video", image=image
        )
        job_id = re.findall(r'"id": ?"([^"]+)"', t2v)[-1]
        mode = "public" if login is None else "signed-in"
        answers[f"{mode} text_to_video"] = t2v
        answers[f"{mode} image_to_video"] = i2v
        answers[f"{mode} job"] = call("job", job_id=job_id)
        answers[f"{mode} cancel"] = call("cancel", job_id=job_id)
        answers[f"{mode} history"] = call("history", limit=50)
        answers[f"{mode} spend"] = call("spend")
        # A comparison (two takes) from another visitor, whose hour is still whole.
        other = httpx.Client(
            base_url=app.url, timeout=60, headers={"X-Forwarded-For": "192.0.2.91"} if login is None else {}
        )
        other.cookies = session.cookies
        call = functools.partial(_raw_named_call, other, config, secrets.token_hex(8))
        compare = call("compare", prompt="raw compare", models=[SIM], takes="2")
        group_id = re.findall(r'"group_id": ?"([^"]+)"', compare)[-1]
        answers[f"{mode} compare"] = compare
        answers[f"{mode} group"] = call("group", group_id=group_id)
        assert "/studio-media/" in t2v and "/studio-media/" in i2v and "dreamina-compare_" in compare
        leaks = {
            name: [w for w in ("alice", "browser-", '"api-', str(app.data_dir), str(app.workdir)) if w in text]
            + SERVER_PATH.findall(text)
            for name, text in answers.items()
            if name.startswith(mode)
        }
        print(f"\nraw queue answers ({mode}): {len(leaks)} endpoints; leaks: {leaks}")
        assert not any(leaks.values()), leaks


def _visitor_token(context: Any) -> str:
    for cookie in context.cookies():
        if cookie["name"] == "studio-visitor-lax":
            assert cookie["httpOnly"], "the visitor cookie is readable by the page's scripts"
            return str(cookie["value"])
    raise AssertionError(f"no visitor cookie: {context.cookies()}")


def test_a_visitors_id_stays_on_the_server_and_cannot_be_forged(apps: Apps, tmp_path: Path) -> None:
    """Visitor A makes a video and exports it. The export, the page, its scripts' storage
    and its config hold no owner id; visitor B presenting A's id (unsigned, or with a
    made-up signature) gets a history of their own, and a copy of A's media links gets 404."""
    from tests.e2e.studio_page import (
        expect_video_playing,
        generate,
        history_total,
        open_studio,
        wait_until_done,
    )

    url = apps.proxied.url  # behind a trusted proxy: this visitor gets an hour of its own

    def attack(first: Any) -> dict[str, Any]:
        browser = first.context.browser
        first.context.close()
        page = browser.new_context(extra_http_headers={"X-Forwarded-For": "198.51.100.200"}).new_page()
        page.set_default_timeout(30_000)
        open_studio(page, url)
        job_id = generate(page, "t2v", "visitor A's secret lighthouse")
        wait_until_done(page, "t2v", job_id)
        video_src = expect_video_playing(page, r"dreamina_")
        token = _visitor_token(page.context)
        visitor = token.split(".")[0]
        page.locator("#history-export").click()
        link = page.locator("#history-export-file a").first
        link.wait_for(timeout=60_000)
        export_url = link.get_attribute("href") or ""
        export = page.context.request.get(
            export_url if export_url.startswith("http") else url + export_url.lstrip("/")
        )
        (tmp_path / "a.zip").write_bytes(export.body())
        seen = {
            "page html": page.content(),
            "storage": page.evaluate(
                "() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})"
            ),
            "document.cookie": page.evaluate("() => document.cookie"),
            "config": page.context.request.get(url + "config").text(),
        }
        results: dict[str, Any] = {"visitor": visitor, "seen": seen, "a_total": history_total(page)}
        for label, value in (
            ("bare id", visitor),
            ("made-up signature", visitor + ".AAAAAAAAAAAAAAAAAAAAAA"),
        ):
            other = browser.new_context()
            other.add_cookies(
                [
                    {"name": "studio-visitor-lax", "value": value, "url": url},
                    {"name": "studio-visitor", "value": value, "url": url},
                ]
            )
            other_page = other.new_page()
            open_studio(other_page, url)
            results[label] = history_total(other_page)
            results[label + " cookie"] = _visitor_token(other)
            results[label + " video"] = other.request.get(
                video_src if video_src.startswith("http") else url + video_src.lstrip("/")
            ).status
            results[label + " export"] = other.request.get(
                export_url if export_url.startswith("http") else url + export_url.lstrip("/")
            ).status
            other.close()
        # Control: A's own signed cookie in a new browser is A (so the refusals above mean something).
        same = browser.new_context()
        same.add_cookies([{"name": "studio-visitor-lax", "value": token, "url": url}])
        same_page = same.new_page()
        open_studio(same_page, url)
        results["own token"] = history_total(same_page)
        same.close()
        return results

    results = run_in_browser(attack)
    visitor = results["visitor"]
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        exported = b"".join(archive.read(name) for name in archive.namelist() if name.endswith(".json"))
    assert b"lighthouse" in exported  # the export is A's
    assert visitor.encode() not in exported and b"browser-" not in exported and b'"owner"' not in exported
    assert not SERVER_PATH.search(exported.decode())
    for where, text in results["seen"].items():
        assert visitor not in text, f"the visitor id is visible in {where}"
    assert results["a_total"] >= 1 and results["own token"] == results["a_total"]
    for label in ("bare id", "made-up signature"):
        assert results[label] == 0, f"{label}: visitor B saw A's history"
        assert results[label + " cookie"].split(".")[0] != visitor, f"{label}: the server kept the forged id"
        assert results[label + " video"] == 404 and results[label + " export"] == 404, results
    print("\nvisitor ids: 2 forged presentations refused; A's video and export links answered 404 to B")
