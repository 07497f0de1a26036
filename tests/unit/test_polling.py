"""The poll schedule: few requests per job, quick detection near the expected finish."""

import random

from jobs.polling import (
    DENSE_AFTER,
    DENSE_STEP,
    HELD_SIGHTING,
    MAX_DELAY,
    POLL_RETRY,
    POLL_SLACK,
    Eta,
    Finish,
    FinishMarks,
    estimate,
    estimate_seconds,
    first_poll_delay,
    next_poll_delay,
    sighting,
    transient_backoff,
)
from jobs.settings import Settings
from providers.base import ProviderStatus


def as_eta(eta: Eta | float | None) -> Eta | None:
    return Eta(eta, eta) if isinstance(eta, float) else eta


def simulate(job_seconds: float, eta: Eta | float | None, queued_for: float = 0.0) -> tuple[int, float]:
    """Polls one job that finishes at `job_seconds`; returns (polls, detection delay)."""
    t, polls = first_poll_delay(as_eta(eta)), 0
    while True:
        state = "queued" if t < queued_for else "running"
        polls += 1
        if t >= job_seconds:
            return polls, t - job_seconds
        t += next_poll_delay(state, polls, t, eta)


def test_with_history_a_ten_second_job_costs_few_polls_and_is_seen_within_a_quarter_second() -> None:
    polls, delay = simulate(10.0, eta=10.0)
    assert polls <= 10 + 5 - 3  # budget: job seconds + 5, less submit, result and download
    assert delay <= DENSE_STEP + 1e-9


def test_without_history_polling_stays_within_one_request_per_second() -> None:
    polls, delay = simulate(10.0, eta=None)
    assert polls <= 12
    assert delay <= 1.0


def test_a_slower_than_usual_job_is_still_polled_but_backs_off() -> None:
    polls, _ = simulate(60.0, eta=10.0)
    assert polls < 60
    assert next_poll_delay("running", 50, 200.0, eta=10.0) == MAX_DELAY


def test_queued_jobs_are_polled_less_often_as_they_wait() -> None:
    delays = [next_poll_delay("queued", n, n * 2.0, None) for n in range(12)]
    assert delays == sorted(delays) and delays[-1] == MAX_DELAY


def test_retry_after_always_wins() -> None:
    assert next_poll_delay("running", 3, 5.0, eta=5.0, retry_after=7.0) == 7.0
    assert transient_backoff(1, retry_after=3.0) == 3.0
    assert 30.0 <= transient_backoff(10) <= 30.0 * 1.25  # capped, jittered


def test_missed_polls_back_off_and_are_bounded_in_one_place() -> None:
    waits = [transient_backoff(n) for n in range(1, 8)]
    assert 1.0 <= waits[0] <= 1.25 and waits[1] >= 2.0 and waits[4] >= 16.0
    assert POLL_RETRY.attempts == Settings().poll_retry.attempts == 40
    # 39 waits before the 40th missed poll fails the job: about a quarter of an hour
    assert 12 * 60 <= sum(POLL_RETRY.delay(n, rng=random.Random(0)) for n in range(1, 40)) <= 25 * 60


def poll_times(job_seconds: float, eta: Eta | float | None) -> list[float]:
    """When a job that finishes at `job_seconds` is polled, running from the start."""
    t, polls, times = first_poll_delay(as_eta(eta)), 0, []
    while True:
        polls += 1
        times.append(t)
        if t >= job_seconds:
            return times
        t += next_poll_delay("running", polls, t, eta)


def test_a_job_past_its_estimate_is_not_polled_in_a_burst() -> None:
    # Seen: 17 polls 0.26 s apart between 9.0 and 13.4 s of a 16 s job estimated at 10 s.
    times = poll_times(16.0, eta=10.0)
    late = [t for t in times if t > 10.0 + DENSE_AFTER]
    gaps = [b - a for a, b in zip(late, late[1:], strict=False)]
    assert len(late) <= 6, late
    assert all(gap >= 0.5 for gap in gaps), gaps
    assert len([t for t in times if 9.0 <= t <= 13.4]) <= 10


def test_the_polls_around_the_estimate_stay_dense_until_it_passes() -> None:
    # on a grid anchored just after the estimate: a late answer does not push the next poll
    assert 0 < next_poll_delay("running", 5, 9.9, eta=10.0) <= DENSE_STEP
    assert abs(9.93 + next_poll_delay("running", 5, 9.93, eta=10.0) - (10.05 + 0.0)) < 1e-9
    assert next_poll_delay("running", 5, 10.0 + DENSE_AFTER + 0.1, eta=10.0) >= 0.5


def test_no_job_polls_more_than_its_age_allows() -> None:
    # Whatever the history says (here: one freak 1 s run among 10 s ones), the n-th poll
    # waits until the job is n - POLL_SLACK seconds old: requests stay <= job seconds + 5.
    for eta in (Eta(10.0, 1.0), Eta(10.0, 9.9), 3.0, None):
        times = poll_times(10.0, eta)
        for n, t in enumerate(times, start=1):
            assert n <= t + POLL_SLACK + 1 + 1e-9, (eta, times)


def test_a_crowd_that_made_the_median_run_late_does_not_make_the_next_job_late() -> None:
    # After 128 users at once the latest runs of 4 s jobs were recorded at 5-12 s (the
    # engine saw them late); the quickest of them still says 4.1 s.
    eta = estimate([12.0, 9.0, 8.0, 7.5, 4.1, 11.0])
    assert eta is not None and eta.typical == 8.0 and eta.earliest == 4.1
    polls, delay = simulate(4.0, eta, queued_for=1.0)
    assert delay <= DENSE_STEP + 1e-9 and polls <= 4 + 2
    # the median alone, as before: seen 2 s late
    assert simulate(4.0, 12.0, queued_for=1.0)[1] >= 1.0


def test_one_slow_run_does_not_set_the_estimate() -> None:
    # Seen: "about 1:39 left" for 12 s jobs after one 190 s run (the median of two is their mean).
    assert estimate_seconds([190.0, 12.0]) == 12.0
    assert estimate_seconds([12.0, 190.0, 13.0]) == 13.0
    assert estimate_seconds([190.0, 185.0, 12.0]) == 185.0  # most runs are slow now: so is the estimate
    assert estimate_seconds([]) is None


def test_the_earliest_finish_counts_when_the_polls_that_saw_it_were_sent() -> None:
    # After 64 users at once every recorded duration of a 4 s job ran 0.4-1.5 s late (the
    # busy loops answered late), but the polls that saw them were sent on time.
    eta = estimate([4.4, 5.5, 4.9], marks=[4.05, 4.2])
    assert eta is not None and eta.typical == 4.9 and eta.earliest == 4.05
    assert estimate([], marks=[4.0]) is None  # no store history: no estimate yet


def test_finish_marks_are_kept_per_model_and_only_the_latest() -> None:
    marks = FinishMarks(size=2)
    marks.recorder("a")(Finish(3.9))
    for mark in (5.0, 4.5, 4.4):
        marks.recorder("b")(Finish(mark))
    a, b = marks.estimate("a", [4.2]), marks.estimate("b", [4.6])
    assert a is not None and a.earliest == 3.9
    assert b is not None and b.earliest == 4.4  # 3.9 is a's; b keeps its latest two
    assert marks.estimate("c", []) is None


# --- the providers' own durations aim the schedule -------------------------------------------


def test_a_stated_run_time_that_fits_between_the_polls_says_when_the_run_ended() -> None:
    # RunComfy's finished_at - created_at: 4.0 s, between the poll that still saw it running
    # (sent 3.88 s after submit) and the one that saw it done (4.08 s): the end was at 4.0 s,
    # where the polls alone can only say "by 4.08 s".
    assert Finish(4.08, 3.88, stated=4.0).at() == 4.0
    # the poll that saw the end reached the provider a little after it was sent
    assert Finish(4.08, 3.88, stated=4.2).at() == 4.08


def test_a_stated_value_the_polls_rule_out_is_not_trusted() -> None:
    # Skewed or garbled: far longer than the polls allow (a clock difference, an hour) ...
    assert Finish(4.08, 3.88, stated=3604.0).at() == Finish(4.08, 3.88).at()
    # Shorter than a poll that still saw the job unfinished: that job's submit reached the
    # provider late (a crowd), which the next job's need not: the run time stands.
    assert Finish(6.48, 6.28, stated=4.0).at() == 4.0
    # without a stated value: the midpoint of two close polls, else the sighting
    assert Finish(4.08, 3.88).at() == (3.88 + 4.08) / 2
    assert Finish(4.0, 1.0).at() == 4.0 and Finish(4.0).at() == 4.0


def test_a_run_time_without_the_queue_only_narrows_the_polls() -> None:
    # WaveSpeed states the model's inference, not its time in the queue: a job seen done at
    # 4.0 s that ran 3.7 s ended between 3.7 and 4.0 s ...
    assert Finish(4.0, 1.0, least=3.7).at() == (3.7 + 4.0) / 2
    # ... and one that ran 3 s no sooner than 3 s, which does not say when: the sighting
    assert Finish(4.0, 1.0, least=3.0).at() == 4.0
    # ... and a least value past what the polls allow is ignored
    assert Finish(4.0, 1.0, least=60.0).at() == 4.0


def test_the_next_job_is_seen_just_after_the_stated_end_where_polls_alone_see_it_late() -> None:
    # Identical 4 s jobs, the last one seen by a poll sent at 4.18 s (a busy loop), the one
    # before it still running at 3.98 s. The provider said 4.0 s.
    seen = Finish(4.18, 3.98, stated=4.0)
    polls, delay = simulate(4.0, estimate([4.3, 4.25], [seen]), queued_for=1.0)
    assert delay <= 0.05 + 1e-9 and polls == 2  # one poll near 1 s, one just after the end
    # The same polls without the provider's word place the end at their midpoint, 4.08 s:
    # one poll a step before it, one just after it, 0.13 s late.
    polls_old, delay_old = simulate(4.0, estimate([4.3, 4.25], [Finish(4.18, 3.98)]), queued_for=1.0)
    assert delay_old >= 0.1 and polls_old == 3


def test_the_budget_holds_whatever_the_provider_states() -> None:
    for stated in (0.0, 0.5, 3.99, 4.0, 100.0):
        eta = estimate([10.0], [Finish(10.1, 9.9, stated=stated)])
        for job in (0.5, 4.0, 10.0, 30.0):
            times = poll_times(job, eta)
            for n, t in enumerate(times, start=1):
                assert n <= t + POLL_SLACK + 1 + 1e-9, (stated, job, times)


def run_many(ends: list[float], stated: bool, least: float | None = None) -> list[float]:
    """Jobs that end at `ends` one after another, each scheduled from what the ones before
    said (the store's durations as seen late by 0.1 s; the marks as the watcher records
    them); the detection delay of each."""
    marks = FinishMarks(size=20)
    durations: list[float] = []
    delays = []
    for end in ends:
        eta = marks.estimate("m", durations[-20:])
        t, polls, before = first_poll_delay(eta), 0, 0.0
        while True:
            polls += 1
            if t >= end:
                break
            before = t
            t += next_poll_delay("running", polls, t, eta)
        delays.append(t - end)
        marks.recorder("m")(Finish(t, before, end if stated else None, least))
        durations.append(t + 0.1)
    return delays


def test_an_estimate_from_polls_alone_does_not_creep_later_job_after_job() -> None:
    # Seen with a schedule that only polled after its estimate: each sighting a little late
    # became the next estimate, and WaveSpeed's 4 s jobs were seen 180 ms late, then later.
    # (The first runs are seen a second late: no history yet, polls a second apart.)
    delays = run_many([4.02] * 60, stated=False, least=3.0)
    assert max(delays[8:]) <= DENSE_STEP + 1e-9, delays
    assert sum(delays[-20:]) / 20 <= 0.1, delays


def test_with_stated_run_times_every_next_job_is_seen_within_the_anchor() -> None:
    delays = run_many([4.02] * 30, stated=True)
    assert max(delays[1:]) <= 0.05 + 1e-9, delays
    # Variable runs (3.5-6 s): within a second (past the typical run the polls back off,
    # within the request budget), about as soon as the polls alone see them.
    ends = [3.5 + (i * 7 % 11) * 0.25 for i in range(40)]
    stated, alone = run_many(ends, stated=True), run_many(ends, stated=False)
    assert max(stated[1:]) <= 1.0 and sum(stated) <= 1.1 * sum(alone), (stated, alone)


def test_after_a_crowd_whose_submits_arrived_late_a_quiet_job_is_still_seen_at_once() -> None:
    # Seen at 128 users at once: submits reached the provider up to 2.4 s after they were
    # sent, so 4 s runs were seen ending 6-7 s after submit. The next job alone ends at 4 s.
    crowd = [Finish(6.2 + i / 10, 6.0 + i / 10, stated=4.0) for i in range(20)]
    eta = estimate([6.5 + i / 10 for i in range(20)], crowd)
    assert eta is not None and eta.earliest == 4.0 and eta.stated
    polls, delay = simulate(4.02, eta, queued_for=1.0)
    assert delay <= 0.05 + 1e-9 and polls == 2


def test_a_sighting_counts_only_when_its_poll_left_when_it_was_timed() -> None:
    done = ProviderStatus(state="succeeded", video_url="https://x/v.mp4", run_seconds=4.0, inference_seconds=3.0)
    kept = sighting(4.05, 3.85, done, held=0.002)
    assert kept == Finish(4.05, 3.85, 4.0, 3.0)
    assert sighting(4.05, 3.85, done, held=HELD_SIGHTING) == kept
    # Held back 0.4 s by a busy loop: the provider was asked at about 4.45 s, not 4.05 s, so
    # this poll says nothing reliable about the end (kept, it would aim the next jobs early).
    placed_by_polls = ProviderStatus(state="succeeded", video_url="https://x/v.mp4", inference_seconds=3.0)
    assert sighting(4.05, 3.85, placed_by_polls, held=0.4) is None
    # A provider that states the run's duration still places it, whenever it was asked.
    stated = sighting(4.05, 3.85, done, held=0.4)
    assert stated == Finish(4.45, 3.85, 4.0, 3.0) and stated.exact and stated.at() == 4.0
    # The schedule it would have fed: the marks of a crowd's held polls make the model's
    # runs look 0.4 s shorter than the durations the store holds.
    assert estimate([4.1], [Finish(3.62, 1.0, None, 3.0)]).earliest < 3.7  # type: ignore[union-attr]
