"""The poll schedule: few requests per job, quick detection near the expected finish."""

from jobs.polling import MAX_DELAY, MIN_DELAY, next_poll_delay, transient_backoff


def simulate(job_seconds: float, eta: float | None, queued_for: float = 0.0) -> tuple[int, float]:
    """Polls one job that finishes at `job_seconds`; returns (polls, detection delay)."""
    t, polls = 0.0, 0
    while True:
        state = "queued" if t < queued_for else "running"
        polls += 1
        if t >= job_seconds:
            return polls, t - job_seconds
        t += next_poll_delay(state, polls, t, eta)


def test_with_history_a_ten_second_job_costs_few_polls_and_is_seen_within_a_quarter_second() -> None:
    polls, delay = simulate(10.0, eta=10.0)
    assert polls <= 10 + 5 - 3  # budget: job seconds + 5, less submit, result and download
    assert delay <= MIN_DELAY + 1e-9


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
    assert transient_backoff(10) == 30.0


def poll_times(job_seconds: float, eta: float | None) -> list[float]:
    """When a job that finishes at `job_seconds` is polled, running from the start."""
    t, polls, times = 0.0, 0, []
    while True:
        polls += 1
        times.append(t)
        if t >= job_seconds:
            return times
        t += next_poll_delay("running", polls, t, eta)


def test_a_job_past_its_estimate_is_not_polled_in_a_burst() -> None:
    # Seen: 17 polls 0.26 s apart between 9.0 and 13.4 s of a 16 s job estimated at 10 s.
    times = poll_times(16.0, eta=10.0)
    late = [t for t in times if t > 10.0]
    gaps = [b - a for a, b in zip(late, late[1:], strict=False)]
    assert len(late) <= 6, late
    assert all(gap >= 0.5 for gap in gaps), gaps
    assert len([t for t in times if 9.0 <= t <= 13.4]) <= 8


def test_the_polls_around_the_estimate_stay_dense_until_it_passes() -> None:
    assert next_poll_delay("running", 5, 9.5, eta=10.0) == MIN_DELAY
    assert next_poll_delay("running", 5, 10.5, eta=10.0) > MIN_DELAY
