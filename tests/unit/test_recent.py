"""ui/recent.Recent: the last few values by key, the one used longest ago dropped first."""

from __future__ import annotations

from ui.recent import Recent


def test_it_keeps_at_most_its_size_dropping_the_one_used_longest_ago() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1  # now "b" is the one used longest ago
    recent.put("c", 3)
    assert len(recent) == 2 and "b" not in recent and "a" in recent
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (1, None, 3)


def test_putting_a_key_again_replaces_its_value_and_makes_it_recent() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("a", 10)
    recent.put("c", 3)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (10, None, 3)
