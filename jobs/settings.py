"""Settings: read once from the environment (and `.env`, loaded by app.py), then passed in.

Nothing reads the environment at import time; tests build a Settings directly. Which
variables hold a provider's key and base URL is the provider's own declaration, read from
the registry (`settings.registry`).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jobs.polling import POLL_RETRY
from providers.base import Secret
from providers.http import RetryPolicy
from providers.registry import ProviderConfig, Registry, builtin_registry


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a number") from exc


def _int_or_none(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a whole number") from exc


def _usd_or_none(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip().lstrip("$")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not an amount in USD") from exc
    if value < 0:
        raise ValueError(f"{name}={raw!r} must not be negative")
    return value


def provider_caps(env: Mapping[str, str], registry: Registry) -> dict[str, tuple[int | None, int | None]]:
    """STUDIO_<PROVIDER>_MAX_RUNNING and STUDIO_<PROVIDER>_MAX_PER_MINUTE per provider, the
    names from each provider's own settings prefix (e.g. STUDIO_WAVESPEED_MAX_RUNNING)."""
    caps: dict[str, tuple[int | None, int | None]] = {}
    for info in registry.hosted():
        names = (f"STUDIO_{info.setting_name('MAX_RUNNING')}", f"STUDIO_{info.setting_name('MAX_PER_MINUTE')}")
        running, per_minute = (_int_or_none(env, name) for name in names)
        for name, value in zip(names, (running, per_minute), strict=True):
            if value is not None and value < 1:
                raise ValueError(f"{name}={value} must be at least 1")
        if running is not None or per_minute is not None:
            caps[info.name] = (running, per_minute)
    return caps


def _secret(env: Mapping[str, str], *names: str) -> Secret | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return Secret(value)
    return None


# Where a Hugging Face Space's own proxy reaches the app from (a private 10.x address; no
# narrower range is published): the default trusted proxies on a Space.
SPACES_PROXIES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "::1/128", "fc00::/7")
DB_JOURNALS = ("auto", "wal", "delete")


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    """STUDIO_TRUSTED_PROXIES (addresses or CIDRs); on a Space, its proxy by default."""
    raw = env.get("STUDIO_TRUSTED_PROXIES", "").strip()
    if not raw:
        return SPACES_PROXIES if env.get("SPACE_ID", "").strip() else ()
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ValueError(f"STUDIO_TRUSTED_PROXIES: {item!r} is not an address or CIDR") from exc
    return items


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise ValueError(f"{name}={raw!r}: use one of {', '.join(choices)}")
    return raw


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    # The server's key per provider name; a provider without one needs a key typed per session.
    keys: Mapping[str, Secret] = field(default_factory=dict)
    # Base URL overrides per provider name (tests point these at local fakes).
    base_urls: Mapping[str, str] = field(default_factory=dict)
    registry: Registry = field(default_factory=builtin_registry)
    # Simulator pacing: long enough that a demo shows every state, short in tests.
    sim_queue_seconds: float = 3.0
    sim_run_seconds: float = 6.0
    # A job still unfinished this long after submit ends as timed out (request id kept).
    job_deadline_seconds: float = 45 * 60
    # The one retry layer of a job's polls: backoff and bound of missed polls in a row
    # (jobs/polling.POLL_RETRY; tests pass a quick one).
    poll_retry: RetryPolicy = POLL_RETRY
    download_max_bytes: int = 2 * 1024**3
    auth: tuple[tuple[str, str], ...] = ()
    allowed_users: tuple[str, ...] = ()
    public: bool = False  # serves strangers (Spaces, STUDIO_PUBLIC=1): per-browser owners
    max_jobs_per_hour: int | None = None
    max_usd_per_day: float | None = None
    max_usd_per_person_per_day: float | None = None
    # provider -> (STUDIO_<PROVIDER>_MAX_RUNNING, STUDIO_<PROVIDER>_MAX_PER_MINUTE)
    provider_caps: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict)
    max_data_bytes: int | None = None
    server_name: str = "127.0.0.1"
    server_port: int = 7860
    # Proxies whose X-Forwarded-For counts (addresses or CIDRs; ui/client_address.py).
    trusted_proxies: tuple[str, ...] = ()
    # SQLite journal: "auto" = WAL on a local disk, DELETE on a network mount (jobs/db_journal.py).
    db_journal: str = "auto"
    max_upload_bytes: int = 50 * 1024 * 1024  # one upload; the fit brings any image under 4.7 MB
    uploads_in_flight: int = 4  # per visitor of a public demo, at once
    uploads_per_hour: int = 60  # per visitor of a public demo
    # How long a served media link works (ui/media_links.py); the page renews its own.
    media_link_seconds: int = 3600
    mcp: bool = True  # the MCP server for AI agents (ui/mcp_tools.py); STUDIO_MCP=0 turns it off
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "studio.sqlite3"

    @property
    def ledger_path(self) -> Path:
        """The spend ledger (jobs/ledger.py), apart from the job store."""
        return self.data_dir / "spend.sqlite3"

    @property
    def videos_dir(self) -> Path:
        return self.data_dir / "videos"

    @property
    def posters_dir(self) -> Path:
        return self.data_dir / "posters"

    @property
    def inputs_dir(self) -> Path:
        return self.data_dir / "inputs"

    def provider_dir(self, provider: str) -> Path:
        """A provider's own files (the offline simulator keeps its jobs and renders there)."""
        return self.data_dir / provider

    @property
    def media_dirs(self) -> list[Path]:
        """The only folders the web server may serve files from."""
        return [self.videos_dir, self.posters_dir, self.inputs_dir]

    def key_for(self, provider: str) -> Secret | None:
        return self.keys.get(provider) or None

    def base_url_for(self, provider: str) -> str:
        info = self.registry.get(provider)
        url = self.base_urls.get(provider) or (info.default_base_url if info else "")
        return url.rstrip("/")

    @property
    def has_server_key(self) -> bool:
        """Whether any hosted provider has a key from the environment."""
        return any(self.key_for(info.name) for info in self.registry.hosted())

    def provider_config(self, provider: str) -> ProviderConfig:
        """What the provider's adapter is built from (see providers.registry)."""
        return ProviderConfig(
            key=self.key_for(provider),
            base_url=self.base_url_for(provider),
            files_dir=self.provider_dir(provider),
            queue_seconds=self.sim_queue_seconds,
            run_seconds=self.sim_run_seconds,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, registry: Registry | None = None) -> Settings:
        env = os.environ if env is None else env
        registry = registry or builtin_registry()
        keys: dict[str, Secret] = {}
        base_urls: dict[str, str] = {}
        for info in registry:
            key = _secret(env, *info.key_env)
            if key:
                keys[info.name] = key
            url = env.get(info.base_url_env, "").strip() if info.base_url_env else ""
            if url:
                base_urls[info.name] = url.rstrip("/")
        auth_pairs: list[tuple[str, str]] = []
        for item in env.get("STUDIO_AUTH", "").split(","):
            if ":" in item:
                user, _, password = item.strip().partition(":")
                if user and password:
                    auth_pairs.append((user, password))
        max_mb = _int_or_none(env, "STUDIO_MAX_DATA_MB")
        return cls(
            data_dir=Path(env.get("STUDIO_DATA_DIR", "").strip() or "data"),
            keys=keys,
            base_urls=base_urls,
            registry=registry,
            sim_queue_seconds=_float(env, "STUDIO_SIM_QUEUE_SECONDS", 3.0),
            sim_run_seconds=_float(env, "STUDIO_SIM_RUN_SECONDS", 6.0),
            job_deadline_seconds=_float(env, "STUDIO_JOB_DEADLINE_SECONDS", 45 * 60),
            auth=tuple(auth_pairs),
            allowed_users=tuple(
                u.strip() for u in env.get("STUDIO_ALLOWED_USERS", "").split(",") if u.strip()
            ),
            public=bool(env.get("SPACE_ID", "").strip()) or _truthy(env.get("STUDIO_PUBLIC")),
            max_jobs_per_hour=_int_or_none(env, "STUDIO_MAX_JOBS_PER_HOUR"),
            max_usd_per_day=_usd_or_none(env, "STUDIO_MAX_USD_PER_DAY"),
            max_usd_per_person_per_day=_usd_or_none(env, "STUDIO_MAX_USD_PER_PERSON_PER_DAY"),
            provider_caps=provider_caps(env, registry),
            max_data_bytes=max_mb * 1024 * 1024 if max_mb else None,
            server_name=env.get("GRADIO_SERVER_NAME", "").strip() or "127.0.0.1",
            server_port=int(env.get("GRADIO_SERVER_PORT", "").strip() or 7860),
            trusted_proxies=_trusted_proxies(env),
            db_journal=_choice(env, "STUDIO_DB_JOURNAL", DB_JOURNALS),
            media_link_seconds=max(3, int(_float(env, "STUDIO_MEDIA_LINK_SECONDS", 3600))),
            mcp=env.get("STUDIO_MCP", "").strip().lower() not in {"0", "false", "no", "off"},
        )
