"""A provider's stated times: read where they are sane, None (never an exception) where not."""

import math

import pytest

from providers.provider_time import LONGEST_RUN, milliseconds, span, timestamp


def test_iso_times_as_the_providers_write_them() -> None:
    # WaveSpeed's (providers.md §2.3) and the same moment in other spellings
    assert timestamp("2025-05-19T06:09:15.948Z") == pytest.approx(1747634955.948)
    assert timestamp("2025-05-19T06:09:15.948+00:00") == pytest.approx(1747634955.948)
    assert timestamp("2025-05-19T08:09:15.948+02:00") == pytest.approx(1747634955.948)
    assert timestamp("2025-05-19T06:09:15.948") == pytest.approx(1747634955.948)  # no zone: UTC


@pytest.mark.parametrize("value", [None, "", "  ", "…", "yesterday", 1747634955, 17.5, [], {}])
def test_what_is_not_a_time_is_none(value: object) -> None:
    assert timestamp(value) is None


def test_a_span_is_taken_on_one_clock_and_must_be_sane() -> None:
    assert span("2026-12-02T10:00:00.000Z", "2026-12-02T10:00:04.250Z") == pytest.approx(4.25)
    # one reply, one clock: a provider clock an hour off ours changes nothing
    assert span("2026-12-02T11:00:00Z", "2026-12-02T11:00:04.25Z") == pytest.approx(4.25)
    assert span("2026-12-02T10:00:04Z", "2026-12-02T10:00:00Z") is None  # ends before it starts
    assert span("2026-12-02T10:00:00Z", "2026-12-30T10:00:00Z") is None  # four weeks: broken
    assert span("2026-12-02T10:00:00Z", None) is None and span("garbage", "2026-12-02T10:00:00Z") is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (25729, 25.729),
        (2500.0, 2.5),
        (0, 0.0),
        (-5, None),
        (True, None),
        ("2500", None),
        (None, None),
        (math.nan, None),
        (math.inf, None),
        (LONGEST_RUN * 1000 + 1, None),
    ],
)
def test_milliseconds(value: object, seconds: float | None) -> None:
    got = milliseconds(value)
    assert got == (None if seconds is None else pytest.approx(seconds))
