"""The provider registry: everything the studio knows about each provider, in one place.

Each provider module in this package declares one `PROVIDER = ProviderInfo(...)`: its name
and label, the environment variables for its key(s) and base URL, where a person gets a
key, its models, how to build its adapter, and what it can do. `jobs/`, `ui/` and `app.py`
learn everything from a `Registry` and never name a provider, so adding a provider is one
new module here (plus its tests). `builtin_registry()` finds the modules; a test or a tool
can add more with `Registry.including(...)`.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from providers.base import Kind, Provider, Secret, ValidationError
from providers.catalog import ModelSpec

# Who can stop a submitted job: only while it is queued, also while it runs, or nobody.
CancelKind = Literal["queued", "running", "none"]
# How an input image reaches the provider: inline as a data URI, uploaded first, or a local path.
ImageTransport = Literal["data_uri", "upload", "local"]


@dataclass(frozen=True)
class ProviderConfig:
    """What an adapter is built from: the server's key (None: each job must bring one),
    the base URL, a folder for the provider's own files (data_dir/<name>), and the pacing an
    offline provider uses."""

    key: Secret | None
    base_url: str
    files_dir: Path
    queue_seconds: float = 3.0
    run_seconds: float = 6.0


@dataclass(frozen=True)
class ProviderInfo:
    """One provider, declared by its module. `key_env` lists the variables that may hold its
    key, the first being the one to tell people about (empty: it needs no key).
    `env_prefix` names its own settings (`<PREFIX>_BASE_URL`, and any a feature adds with
    `setting_name`). `offline` marks the simulator kind: no key, no cost, simulated results,
    and the only provider allowed to hand over a local file."""

    name: str
    label: str
    models: tuple[ModelSpec, ...]
    build: Callable[[ProviderConfig], Provider]
    key_env: tuple[str, ...] = ()
    env_prefix: str = ""
    default_base_url: str = ""
    key_url: str = ""  # where a person gets a key
    key_label: str = "API key"  # what the provider calls it ("API token")
    cancel: CancelKind = "none"
    image_transport: ImageTransport = "upload"
    price_quotes: bool = False  # can say what a job will cost before it is sent
    balance: bool = False  # can say how much credit the key has left
    key_check: bool = False  # can check a key without spending anything
    # Where the provider documents refunding a failed job: the rule in words (the spend
    # ledger marks such jobs refunded and quotes this); empty: a failed job stays billed.
    refunds_failed: str = ""
    offline: bool = False
    short_name: str = ""  # in download file names; default: name

    @property
    def needs_key(self) -> bool:
        return bool(self.key_env)

    @property
    def base_url_env(self) -> str | None:
        return self.setting_name("BASE_URL") if self.env_prefix else None

    @property
    def file_tag(self) -> str:
        return self.short_name or self.name

    def setting_name(self, suffix: str) -> str:
        """The environment variable of one of this provider's settings: 'BASE_URL' ->
        'RUNCOMFY_BASE_URL'."""
        return f"{self.env_prefix or self.name.upper()}_{suffix}"


class Registry:
    """An ordered, immutable set of providers: hosted ones first (in name order), offline
    ones last. Model ids are unique across it; a ValidationError names an unknown one."""

    def __init__(self, infos: Iterable[ProviderInfo]) -> None:
        ordered = sorted(infos, key=lambda info: (info.offline, info.name))
        self._infos: dict[str, ProviderInfo] = {}
        self._models: dict[str, ModelSpec] = {}
        controls: dict[str, str] = {}
        for info in ordered:
            if info.name in self._infos:
                raise ValueError(f"two providers are named {info.name!r}")
            self._infos[info.name] = info
            for spec in info.models:
                if spec.provider != info.name:
                    raise ValueError(f"model {spec.id} is declared by {info.name!r}")
                if spec.id in self._models:
                    raise ValueError(f"two models have the id {spec.id!r}")
                self._models[spec.id] = spec
                for param in spec.params:
                    # One form control per option name, so a name means one kind of value.
                    if controls.setdefault(param.name, param.control) != param.control:
                        raise ValueError(
                            f"option {param.name!r} is both {controls[param.name]} and {param.control}"
                        )

    def including(self, *infos: ProviderInfo) -> Registry:
        """This registry with more providers (a test's, a plug-in's)."""
        return Registry((*self._infos.values(), *infos))

    def __iter__(self) -> Iterator[ProviderInfo]:
        return iter(self._infos.values())

    def __len__(self) -> int:
        return len(self._infos)

    def __contains__(self, name: object) -> bool:
        return name in self._infos

    def __repr__(self) -> str:
        return f"Registry({', '.join(self._infos)})"

    def names(self) -> list[str]:
        return list(self._infos)

    def hosted(self) -> list[ProviderInfo]:
        """The providers that call a remote API (and so need a key)."""
        return [info for info in self._infos.values() if not info.offline]

    def get(self, name: str) -> ProviderInfo | None:
        return self._infos.get(name)

    def info(self, name: str) -> ProviderInfo:
        info = self._infos.get(name)
        if info is None:
            raise ValidationError("provider", f"Provider: '{name}' is not one this studio knows.")
        return info

    def label(self, name: str) -> str:
        info = self._infos.get(name)
        return info.label if info else name

    def model(self, model_id: str) -> ModelSpec:
        """The spec for a model id, or a ValidationError naming the field `model`."""
        spec = self._models.get(str(model_id).strip())
        if spec is None:
            raise ValidationError(
                "model",
                f"Model: '{model_id}' is not a video model this studio knows. "
                f"Pick one of: {', '.join(self._models)}.",
            )
        return spec

    def model_or_none(self, model_id: str | None) -> ModelSpec | None:
        return self._models.get(str(model_id or "").strip())

    def models(self, kind: Kind | None = None, provider: str | None = None) -> list[ModelSpec]:
        return [
            m
            for m in self._models.values()
            if (kind is None or m.kind == kind) and (provider is None or m.provider == provider)
        ]

    def key_env_names(self) -> list[str]:
        """Every environment variable that may hold a provider key."""
        return [name for info in self._infos.values() for name in info.key_env]


def discover(package: str = "providers") -> list[ProviderInfo]:
    """The `PROVIDER` of every module in `package` that declares one."""
    root = importlib.import_module(package)
    found: list[ProviderInfo] = []
    for module in pkgutil.iter_modules(root.__path__):
        loaded = importlib.import_module(f"{package}.{module.name}")
        info = getattr(loaded, "PROVIDER", None)
        if isinstance(info, ProviderInfo):
            found.append(info)
    return found


@functools.cache
def builtin_registry() -> Registry:
    """The providers that ship with the studio (found once, on first use)."""
    return Registry(discover())
