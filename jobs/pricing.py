"""The price of one run before it is sent: the provider's quote where it has a free quote
endpoint and a key is at hand (cached briefly, since the form asks on every change), else
the catalog's price or estimate (providers.money.catalog_price). Never raises for a provider
fault: a quote that fails falls back to the catalog."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from providers import catalog
from providers.base import Provider, ProviderError, Secret, StudioError, SubmitRequest
from providers.money import Price, catalog_price
from providers.registry import Registry

log = logging.getLogger("studio.pricing")

QUOTE_TTL_SECONDS = 600.0
# After a failed quote the catalog answers for a while, so a provider that hangs does not
# hold every form change and submit for QUOTE_TIMEOUT_SECONDS.
FAILED_QUOTE_TTL_SECONDS = 60.0
QUOTE_TIMEOUT_SECONDS = 5.0
CACHE_LIMIT = 512


def key_id(key: Secret | None) -> str:
    """A short fingerprint of a key, for in-memory maps only (never stored or shown)."""
    if not key:
        return "server"
    return hashlib.sha256(key.reveal().encode()).hexdigest()[:16]


class Pricer:
    """Prices runs for the form and for the limits; one per engine."""

    def __init__(
        self, registry: Registry, providers: Mapping[str, Provider], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._registry = registry
        self._providers = providers
        self._clock = clock
        self._cache: dict[tuple[Any, ...], tuple[float, Price]] = {}  # key -> (expires, price)

    async def price(
        self, spec: catalog.ModelSpec, options: Mapping[str, catalog.Value], key: Secret | None = None
    ) -> Price:
        """`options` are validated options; the seed does not change a price."""
        fallback = catalog_price(spec, options, self._registry.models())
        adapter = self._providers.get(spec.provider)
        info = self._registry.get(spec.provider)
        quote = getattr(adapter, "quote", None) if info is not None and info.price_quotes else None
        if adapter is None or quote is None or not (key or adapter.has_key()):
            return fallback
        priced = {k: v for k, v in options.items() if k != "seed"}
        cache_key = (spec.id, tuple(sorted(priced.items())), key_id(key))
        now = self._clock()
        cached = self._cache.get(cache_key)
        if cached and now < cached[0]:
            return cached[1]
        try:
            found: Price = await asyncio.wait_for(
                quote(SubmitRequest(spec=spec, prompt="price", options=priced), key=key),
                QUOTE_TIMEOUT_SECONDS,
            )
        except (ProviderError, StudioError, httpx.HTTPError, TimeoutError) as exc:
            log.info("no price quote from %s (%s); using the catalog", spec.provider, type(exc).__name__)
            found, ttl = fallback, FAILED_QUOTE_TTL_SECONDS
        else:
            ttl = QUOTE_TTL_SECONDS
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[cache_key] = (now + ttl, found)
        return found
