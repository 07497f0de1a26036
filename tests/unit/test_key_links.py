"""The Keys tab says where to get each provider's key with a link that opens in a new tab."""

from __future__ import annotations

import re

from providers.base import Provider
from providers.registry import ProviderConfig, ProviderInfo
from ui.keys_panel import key_links


def _info(name: str, label: str, key_url: str, needs_key: bool = True) -> ProviderInfo:
    def never_built(config: ProviderConfig) -> Provider:
        raise AssertionError("the Keys tab builds no provider")

    return ProviderInfo(
        name=name,
        label=label,
        models=(),
        build=never_built,
        key_url=key_url,
        key_env=(f"{name.upper()}_KEY",) if needs_key else (),
    )


def test_each_provider_that_needs_a_key_is_a_link_to_where_it_is_got() -> None:
    shown = key_links(
        [_info("alpha", "Alpha", "https://alpha.example/keys?a=1&b=2"), _info("beta", "Beta", "https://beta.example/k")]
    )
    anchors = re.findall(r'<a href="([^"]+)" target="_blank" rel="noopener noreferrer">([^<]+)</a>', shown)
    assert anchors == [("https://alpha.example/keys?a=1&amp;b=2", "Alpha"), ("https://beta.example/k", "Beta")]


def test_a_provider_without_a_key_or_a_url_gets_no_link_and_none_at_all_no_line() -> None:
    assert key_links([_info("sim", "Simulator", "https://sim.example", needs_key=False), _info("x", "X", "")]) == ""
    only_alpha = key_links([_info("sim", "Simulator", "", needs_key=False), _info("alpha", "Alpha", "https://a.example")])
    assert only_alpha.count("<a ") == 1 and ">Alpha</a>" in only_alpha
