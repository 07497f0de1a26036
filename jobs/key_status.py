"""Whether a provider can take a job, and whether its keys work: read from the registry
and the provider adapters, for the engine (and, through it, the keys tab)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from providers.base import Provider, Secret
from providers.money import KeyCheck
from providers.registry import Registry


def provider_ready(
    registry: Registry, providers: Mapping[str, Provider], provider: str, keys: Mapping[str, Secret] | None = None
) -> str | None:
    """None when `provider` can take a job (configured, and a key on the server or in
    `keys`), else the reason in words."""
    adapter = providers.get(provider)
    if adapter is None:
        return f"{registry.label(provider)} is not configured."
    if adapter.has_key() or (keys and keys.get(provider)):
        return None
    info = registry.get(provider)
    env = info.key_env[0] if info and info.key_env else "an API key"
    return f"Needs {env} in the environment or a key in the API keys tab."


async def check_keys(
    registry: Registry, providers: Mapping[str, Provider], keys: Mapping[str, Secret] | None = None
) -> list[KeyCheck]:
    """Ask each hosted provider, with a request that bills nothing, whether its key (typed
    in `keys`, else the server's) works, all at once. Providers without a key, or without a
    free check, are left out."""
    checks = []
    for info in registry.hosted():
        adapter = providers.get(info.name)
        check = getattr(adapter, "check_key", None) if info.key_check else None
        key = (keys or {}).get(info.name) or None
        if adapter is None or check is None or not (key or adapter.has_key()):
            continue
        checks.append(check(key))
    return list(await asyncio.gather(*checks))
