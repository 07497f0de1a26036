"""Load: 50 concurrent gradio_client users for two minutes against `python app.py` on the
fake providers. Each submits a video, polls /job until it is done, reads /history, and
starts again. No call fails, no job is lost or sent twice, and the app's memory is flat.

Each user has two clients: one streams its generate calls, one polls. gradio_client 2.7
shares one SSE stream per client session, and an event registered just as the server
closes that stream (its previous event having finished) is cancelled on the client side
(`CancelledError` from stream_sse_v1plus) although the server runs it. A read-only call
hit by that race is repeated and counted as a client race, never as an app error.

Bounded in count and time: each user stops starting jobs at the deadline, every wait has a
limit, and the jobs in flight at the deadline are waited for (up to a minute).
"""

from __future__ import annotations

import concurrent.futures
import os
import statistics
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench.proc_stats import RssSampler, rss_bytes
from tests.images import good_png
from tests.reliability.harness import (
    MODELS,
    AppProcess,
    FakeProcess,
    app_env,
    fake_process,
    running_app,
    studio_client,
)
from tests.reliability.readback import all_history

USERS = 50
DURATION = float(os.environ.get("STUDIO_LOAD_SECONDS", 120))  # shorter only for local runs
POLL_EVERY = 1.0  # how often a user polls /job while its video is being made
THINK = 1.0  # pause between a user's jobs
IMAGE_EVERY = 5  # every fifth job of a user is image-to-video
MB = 1024 * 1024
MEMORY_BOUND = 150 * MB  # end may exceed start by at most this much
TREND_BOUND = 40 * MB  # projected growth across the last third of the run


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    submitted: list[str] = field(default_factory=list)
    succeeded: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    calls: int = 0
    client_races: int = 0

    def add(self, **counts: Any) -> None:
        with self.lock:
            for name, value in counts.items():
                if name == "submitted":
                    self.submitted.append(value)
                elif name == "succeeded":
                    self.succeeded.add(value)
                elif name == "error":
                    self.errors.append(value)
                elif name == "calls":
                    self.calls += value
                elif name == "client_races":
                    self.client_races += value


@dataclass
class Stack:
    fake: FakeProcess
    app: AppProcess


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("load")
    with fake_process(root / "fake", queue_seconds=0.5, run_seconds=1.0, queue_length=3) as fake:
        env = app_env(
            root / "app", fake_url=fake.url, runcomfy_key="rc-test-key", wavespeed_key="ws-test-key"
        )
        with running_app(root / "app", env) as app:
            yield Stack(fake, app)


def read(client: Any, tally: Tally, **params: Any) -> Any:
    """A read-only call (/job, /history), repeated if gradio_client's stream race cancels it."""
    for attempt in range(3):
        try:
            result = client.predict(**params)
        except concurrent.futures.CancelledError:
            tally.add(client_races=1)
            if attempt == 2:
                raise
            time.sleep(0.2)
            continue
        tally.add(calls=1)
        return result
    raise AssertionError("unreachable")


def one_job(client: Any, poller: Any, user: int, n: int, image: Any, tally: Tally, hard_stop: float) -> None:
    kind_i2v = n % IMAGE_EVERY == IMAGE_EVERY - 1
    params: dict[str, Any] = {"prompt": f"user {user} job {n}: a lighthouse at dawn"}
    if kind_i2v:
        params.update(image=image, model=MODELS["rc_i2v"] if n % 2 else MODELS["ws_i2v"])
    else:
        params.update(model=MODELS["rc_t2v"] if n % 2 else MODELS["ws_t2v"])
    job = client.submit(api_name="/image_to_video" if kind_i2v else "/text_to_video", **params)
    job_id = None
    while job_id is None:
        outputs = job.outputs()
        if outputs and isinstance(outputs[0][1], dict):
            job_id = outputs[0][1]["id"]
        elif job.done():
            job.result()  # raises the app's error
            job_id = job.outputs()[-1][1]["id"]
        elif time.monotonic() > hard_stop:
            raise TimeoutError("no job id streamed back")
        else:
            time.sleep(0.1)
    tally.add(submitted=job_id)
    while True:
        record = read(poller, tally, job_id=job_id, api_name="/job")
        if record["state"] in ("succeeded", "failed", "cancelled"):
            break
        if time.monotonic() > hard_stop:
            raise TimeoutError(f"job {job_id} still {record['state']}")
        time.sleep(POLL_EVERY)
    time.sleep(0.2)
    page = read(poller, tally, limit=24, api_name="/history")
    if not page["items"]:
        raise AssertionError("/history came back empty")
    if record["state"] != "succeeded":
        raise AssertionError(f"job {job_id} ended {record['state']}: {record.get('error_message')}")
    try:
        video, final = job.result(timeout=max(1.0, hard_stop - time.monotonic()))
    except concurrent.futures.CancelledError:
        tally.add(client_races=1)  # the stream was lost on the client; /job above saw it succeed
    else:
        tally.add(calls=1)
        if final["state"] != "succeeded" or not video:
            raise AssertionError(f"job {job_id} streamed {final['state']} without a video")
    tally.add(succeeded=job_id)


def user_loop(clients: tuple[Any, Any], user: int, image: Any, tally: Tally, deadline: float) -> None:
    n = 0
    while time.monotonic() < deadline:
        try:
            one_job(*clients, user, n, image, tally, hard_stop=deadline + 60)
        except Exception as error:
            where = "".join(traceback.format_exception(error)[-3:])
            tally.add(error=f"user {user} job {n}: {type(error).__name__}: {error} at {where}"[:1500])
        n += 1
        time.sleep(THINK)


def trend(samples: list[tuple[float, int]]) -> float:
    """Least-squares growth in bytes over the span of the samples."""
    if len(samples) < 3:
        return 0.0
    times = [t for t, _ in samples]
    values = [v for _, v in samples]
    slope = statistics.linear_regression(times, values).slope
    return slope * (times[-1] - times[0])


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_fifty_users_for_two_minutes_lose_nothing_and_memory_stays_flat(stack: Stack, tmp_path: Path) -> None:
    from gradio_client import handle_file

    app, fake = stack.app, stack.fake
    image = handle_file(str(good_png(tmp_path)))
    warm = studio_client(app.url)
    for model in (MODELS["rc_t2v"], MODELS["ws_t2v"]):
        warm.predict(prompt="warm-up", model=model, api_name="/text_to_video")
    warm.predict(prompt="warm-up", image=image, model=MODELS["ws_i2v"], api_name="/image_to_video")
    with ThreadPoolExecutor(10) as pool:  # each client fetches the config and API info
        made = list(pool.map(lambda _: studio_client(app.url), range(2 * USERS)))
    clients = list(zip(made[::2], made[1::2], strict=True))
    submits_before = len(fake.submits())
    jobs_before = warm.predict(limit=1, api_name="/history")["total"]
    start_rss = rss_bytes(app.pid)

    tally = Tally()
    with RssSampler(app.pid, interval=1.0) as sampler:
        began = time.monotonic()
        deadline = began + DURATION
        threads = [
            threading.Thread(
                target=user_loop, args=(c, i, image, tally, deadline), daemon=True, name=f"user-{i}"
            )
            for i, c in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1.0, deadline + 90 - time.monotonic()))
        stragglers = [t.name for t in threads if t.is_alive()]
        ended = time.monotonic()
        time.sleep(10)  # let the app settle: finished jobs' buffers released, queues drained
    end_rss = rss_bytes(app.pid)

    samples = [(t, v) for t, v in sampler.samples if began <= t <= ended]
    last_third = [(t, v) for t, v in samples if t >= began + (ended - began) * 2 / 3]
    peak = max(v for _, v in sampler.samples)
    growth = trend(last_third)
    history = all_history(warm, state="")
    history_ids = {item["id"] for item in history if item["state"] == "succeeded"}
    submits = len(fake.submits()) - submits_before
    elapsed = ended - began
    print(
        f"\nload: {USERS} users for {elapsed:.0f} s: {len(tally.submitted)} jobs "
        f"({len(tally.submitted) / elapsed:.1f}/s), {tally.calls} /job+/history+result calls, "
        f"{len(tally.errors)} errors, {tally.client_races} gradio_client stream races; RSS start {start_rss / MB:.0f} MB, peak {peak / MB:.0f} MB, "
        f"end {end_rss / MB:.0f} MB, last-third trend {growth / MB:+.1f} MB"
    )
    assert not stragglers, f"users still running after the deadline: {stragglers}"
    assert not tally.errors, "\n".join(tally.errors[:20])
    assert len(tally.submitted) >= USERS * 3, "the load was lighter than intended"
    lost = set(tally.submitted) - history_ids
    assert not lost, f"{len(lost)} jobs not succeeded in history: {sorted(lost)[:10]}"
    assert set(tally.submitted) == tally.succeeded
    assert len(history) - jobs_before == len(tally.submitted), "history has jobs nobody submitted"
    assert submits == len(tally.submitted), f"{submits} submits for {len(tally.submitted)} jobs"
    assert end_rss <= start_rss + MEMORY_BOUND, f"RSS grew from {start_rss / MB:.0f} to {end_rss / MB:.0f} MB"
    assert growth <= TREND_BOUND, f"RSS still growing in the last third: {growth / MB:+.1f} MB"
