"""Concurrency: 32 gradio_client clients generate at once against `python app.py` backed by
the fake providers (each fake job takes 4 s); the wall time for all of them against the
wall time of one job alone, measured in the same run.

The 32 clients are made before timing (one gradio_client.Client each, on its own thread)
and released together by a barrier; the wall time runs from the release to the moment the
last client holds its video file. Single and batch rounds alternate.
"""

from __future__ import annotations

from bench.harness import (
    T2V_MODELS,
    BenchResult,
    Figure,
    fake_providers,
    fmt_list,
    generate,
    generate_many,
    gradio_client,
    launch_app,
    log,
    median,
    temp_dir,
)

CLIENTS = 32
QUEUE_SECONDS = 1.0
RUN_SECONDS = 3.0


def run(quick: bool = False) -> BenchResult:
    rounds = 2 if quick else 3
    singles: list[float] = []
    batches: list[float] = []
    failures: list[str] = []
    batch_jobs: list[list[float]] = []
    with (
        temp_dir("bench-concurrency-") as tmp,
        fake_providers(QUEUE_SECONDS, RUN_SECONDS) as (fake, _),
        launch_app(tmp / "data", fake=fake) as app,
    ):
        clients = [gradio_client(app.url, tmp / f"client-{i}") for i in range(CLIENTS)]
        log(f"concurrency: {CLIENTS} clients ready; warming up (one job per model, sets the ETA)")
        for model in T2V_MODELS:
            warm = generate(clients[0], "bench warm-up", model)
            if warm.error:
                raise RuntimeError(f"warm-up failed: {warm.error}")
        models = [T2V_MODELS[i % 2] for i in range(CLIENTS)]
        for r in range(rounds):
            model = T2V_MODELS[r % 2]
            single = generate(clients[0], f"bench single {r}", model)
            if single.error:
                failures.append(single.error)
            singles.append(single.seconds)
            log(f"concurrency: round {r + 1} single job {single.seconds:.2f} s")
            wall, gens = generate_many(
                clients, [f"bench batch {r} client {i}" for i in range(CLIENTS)], models
            )
            failures += [g.error for g in gens if g.error]
            if len(gens) != CLIENTS:
                failures.append(f"only {len(gens)} of {CLIENTS} finished")
            batches.append(wall)
            batch_jobs.append([g.seconds for g in gens])
            log(f"concurrency: round {r + 1} {CLIENTS} at once {wall:.2f} s")
        single = generate(clients[0], "bench single last", T2V_MODELS[rounds % 2])
        singles.append(single.seconds)
        log(f"concurrency: closing single job {single.seconds:.2f} s")
    ratio = median(batches) / median(singles)
    passed = ratio <= 1.25 and not failures
    slowest = [max(jobs) for jobs in batch_jobs]
    figure = Figure(
        "concurrency",
        f"{CLIENTS} clients at once (4 s fake jobs): wall for all / one job alone",
        ratio,
        "x",
        "<= 1.25x",
        passed,
        f"32-at-once wall s {fmt_list(batches)}; single job s {fmt_list(singles)}; slowest job per batch "
        f"s {fmt_list(slowest)}; failures {len(failures)}" + (f" ({failures[0][:120]})" if failures else ""),
    )
    how = (
        f"`python app.py` (subprocess, RunComfy and WaveSpeed keys and base URLs pointing at the fake, "
        f"bench.fake_server in its own process, jobs queued {QUEUE_SECONDS:g} s + running {RUN_SECONDS:g} s). "
        f"{CLIENTS} gradio_client.Client objects are made first; one warm-up job per model sets the "
        "engine's ETA. Then rounds of: one job alone (`/text_to_video`, alternating RunComfy Pro t2v and "
        f"WaveSpeed 720p t2v), then all {CLIENTS} clients at once (half each model), one thread per client, "
        "released by a barrier; wall = release to the last client holding its video file. Ratio = median "
        f"batch wall / median single-job time ({rounds} batches, {rounds + 1} singles, alternating)."
    )
    return BenchResult([figure], how)


if __name__ == "__main__":
    for fig in run(quick=True).figures:
        print(fig)
