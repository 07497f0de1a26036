"""The comparison endpoints, called with gradio_client against `python app.py` whose two
hosted providers are the local fake (and the simulator beside them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from gradio_client import Client

from tests.e2e.launcher import RunningApp, launch_app, on_fake
from tests.fakes import FakeProviders

RC_PRO = "runcomfy/bytedance/dreamina-3-0/pro/text-to-video"
WS_720 = "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p"
SIM = "simulator/dreamina-3-0/text-to-video"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    with FakeProviders(queue_seconds=0.3, run_seconds=1.0) as running:
        yield running


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, fake: FakeProviders) -> Iterator[RunningApp]:
    env = on_fake(fake.base_url, "runcomfy", "wavespeed") | {
        "STUDIO_SIM_QUEUE_SECONDS": "0.3",
        "STUDIO_SIM_RUN_SECONDS": "1",
        "STUDIO_MAX_USD_PER_DAY": "2",
    }
    with launch_app(tmp_path_factory.mktemp("compare-api"), env) as running:
        yield running


@pytest.fixture(scope="module")
def client(app: RunningApp) -> Client:
    return Client(app.url, verbose=False)


def test_compare_streams_member_records_and_ends_with_the_side_by_side_and_the_group(
    client: Client, fake: FakeProviders
) -> None:
    before = len(fake.submits())
    submission = client.submit(
        prompt="A red kite over green hills",
        models=[RC_PRO, WS_720, SIM],
        seed="77",
        aspect_ratio="16:9",
        api_name="/compare",
    )
    streamed = [update for _video, update in submission]
    video, group = submission.result()
    members = [u for u in streamed[:-1] if u and "state" in u]
    assert {u["model"] for u in members} == {RC_PRO, WS_720, SIM}
    assert any(u["state"] != "succeeded" for u in members)  # records arrive while they run
    assert group["id"] and len(group["jobs"]) == 3
    assert all(job["group_id"] == group["id"] and job["state"] == "succeeded" for job in group["jobs"])
    assert all(job["seed"] == 77 and job["options"]["aspect_ratio"] == "16:9" for job in group["jobs"])
    assert group["price_usd"] > 0 and "owner" not in group and "poster_path" not in group
    assert group["side_by_side_url"] and group["poster_url"]
    assert len(fake.submits()) - before == 2
    with av.open(str(Path(video))) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"

    again = client.predict(group_id=group["id"], api_name="/group")
    assert [j["id"] for j in again["jobs"]] == [j["id"] for j in group["jobs"]]
    assert again["side_by_side_url"]


def test_compare_refuses_bad_input_naming_model_and_field_and_sends_nothing(
    client: Client, fake: FakeProviders
) -> None:
    before = len(fake.submits())
    with pytest.raises(Exception, match=r"(?i)WaveSpeedAI .*duration"):
        client.predict(prompt="x", models=[RC_PRO, WS_720], duration="7", api_name="/compare")
    with pytest.raises(Exception, match=r"Limit reached: .* a day for everyone; .* these 6 videos cost \$3.60"):
        client.predict(
            prompt="x", models=[RC_PRO, "wavespeed/bytedance/dreamina-v3.0/text-to-video-1080p"], takes="3",
            api_name="/compare",
        )
    with pytest.raises(Exception, match="no comparison"):
        client.predict(group_id="nope", api_name="/group")
    assert len(fake.submits()) == before


def test_a_blind_comparison_names_no_model_in_any_answer_until_the_pick(client: Client) -> None:
    submission = client.submit(prompt="A paper boat", models=[WS_720, SIM], blind="true", api_name="/compare")
    streamed = [update for _video, update in submission]
    _video, group = submission.result()
    members = [u for u in streamed[:-1] if u and "state" in u]
    answers = [*members, *group["jobs"], client.predict(job_id=group["jobs"][0]["id"], api_name="/job")]
    answers.append(client.predict(group_id=group["id"], api_name="/group"))
    words = repr(answers)
    for name in (WS_720, SIM, "wavespeed", "simulator", "WaveSpeedAI", "Simulator"):
        assert name not in words, name
    assert group["names_hidden"] and {m["blind_name"] for m in group["members"]} == {"Model A", "Model B"}
    assert not any("price_usd" in m or "model" in m for m in group["members"])
    assert all(job["model"] is None and job["blind_name"] for job in group["jobs"])
    listed = client.predict(api_name="/history", state="")["items"]
    assert not any(item["group_id"] == group["id"] for item in listed)  # its members are not listed one by one


RC_STD = "runcomfy/bytedance/dreamina-3-0/text-to-video"
RC_I2V = "runcomfy/bytedance/dreamina-3-0/image-to-video"
SIM_I2V = "simulator/dreamina-3-0/image-to-video"
# Each keyword of /compare given a bad value: refused naming the model (where the value is
# one model's to refuse) and the field, before anything is sent.
REFUSED = [
    ({"models": [RC_PRO]}, r"Models: a comparison has 2 to 6 videos"),
    ({"models": [RC_PRO, "nope/model"]}, r"Models: no model 'nope/model'"),
    ({"models": [RC_PRO, RC_I2V]}, r"Models: RunComfy .*image-to-video is not a text-to-video model"),
    ({"prompt": ""}, r"RunComfy Dreamina 3.0 Pro .*Prompt:"),
    ({"takes": "x"}, r"Takes: a whole number from 1 to 6; got 'x'"),
    ({"takes": "9"}, r"Takes: a whole number from 1 to 6"),
    ({"seed": "abc"}, r"Seed: .*got 'abc'"),
    ({"aspect_ratio": "2:1"}, r"RunComfy Dreamina 3.0 Pro .*Aspect ratio: '2:1' is not allowed"),
    ({"models": [RC_PRO, SIM], "frames": "100"}, r"RunComfy Dreamina 3.0 Pro .*Frames: 100 is not allowed"),
    ({"models": [RC_STD, SIM], "resolution": "4K"}, r"RunComfy Dreamina 3.0 .*Resolution: '4K' is not allowed"),
    ({"models": [WS_720, SIM], "duration": "7"}, r"WaveSpeedAI .*720p.*Duration \(s\): 7 is not allowed"),
    ({"models": [RC_I2V, SIM_I2V]}, r"RunComfy Dreamina 3.0 · image-to-video .*Image: this model animates an image"),
    ({"blind": "maybe"}, r"Blind: true or false; got 'maybe'"),
]


@pytest.mark.parametrize(("changes", "refusal"), REFUSED, ids=[r[1][:24] for r in REFUSED])
def test_every_compare_keyword_refuses_a_bad_value_naming_model_and_field(
    client: Client, fake: FakeProviders, changes: dict[str, object], refusal: str
) -> None:
    before = len(fake.submits())
    asked: dict[str, object] = {"prompt": "x", "models": [RC_PRO, WS_720], **changes}
    with pytest.raises(Exception, match=refusal):
        client.predict(api_name="/compare", **asked)
    assert len(fake.submits()) == before


def test_the_shared_option_keywords_and_the_image_reach_every_member(client: Client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    from tests.images import good_jpeg

    _video, made = client.predict(
        prompt="x", models=[SIM], takes="2", seed="9", frames="241", resolution="1080P", aspect_ratio="9:16",
        api_name="/compare",
    )
    assert [(j["options"]["frames"], j["options"]["resolution"], j["options"]["aspect_ratio"]) for j in made["jobs"]] == [
        (241, "1080P", "9:16")
    ] * 2
    assert [j["seed"] for j in made["jobs"]] == [9, 10]  # takes: distinct seeds
    _video, animated = client.predict(
        prompt="x", models=[SIM_I2V], takes="2", image=handle_file(str(good_jpeg(tmp_path))), api_name="/compare"
    )
    assert all(j["kind"] == "i2v" and j["state"] == "succeeded" and j["input_image_url"] for j in animated["jobs"])
