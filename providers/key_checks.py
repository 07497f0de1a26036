"""Money calls that bill nothing, as mixins of the hosted adapters: WaveSpeedAI's price quote,
balance and key check; RunComfy's key check. Kept apart from the submit/poll code so each
adapter file keeps one job.

WaveSpeedAI (providers.md §6): `POST /api/v3/model/price` quotes exactly one run;
`GET /api/v3/balance` (falling back to the newer `GET /api/v3/account/balance`) gives the
balance, which also proves the key. RunComfy documents no balance: the status of a made-up
request id answers 401/403 for a refused key and 404 for a working one.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from providers.base import ProviderError, Secret, SubmitRequest
from providers.catalog import to_wire, validate_options
from providers.errors import parse_json
from providers.money import KeyCheck, Price

BALANCE_PATHS = ("/api/v3/balance", "/api/v3/account/balance")
# A key check is a single quick question; a provider that does not answer in this time is
# reported as unreachable rather than holding the page.
CHECK_TIMEOUT = httpx.Timeout(8.0, connect=4.0)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _unreachable(provider: str, label: str, why: str) -> KeyCheck:
    return KeyCheck(provider, None, f"{label} could not be asked about this key ({why}); try again later.")


class WaveSpeedMoney:
    """Quote, balance and key check for WaveSpeedProvider (uses its client and headers)."""

    name: Any
    label: str
    _base: str
    _client: httpx.AsyncClient

    if TYPE_CHECKING:  # provided by HostedProvider and WaveSpeedProvider

        def _secret(self, key: Secret | None) -> Secret: ...

        @staticmethod
        def _headers(secret: Secret) -> dict[str, str]: ...

        def _data(
            self, response: httpx.Response, secret: Secret, fields: Mapping[str, str] | None = None
        ) -> Mapping[str, Any] | None: ...

    async def quote(self, request: SubmitRequest, key: Secret | None = None) -> Price:
        """The price of exactly this run from WaveSpeedAI's free quote endpoint. The image
        is left out (it is uploaded only at submit); the price does not depend on it."""
        secret = self._secret(key)
        spec = request.spec
        inputs = to_wire(spec, request.prompt or "price", validate_options(spec, request.options))
        body = {"model_id": spec.path, "inputs": dict(inputs)}
        response = await self._client.post(
            f"{self._base}/api/v3/model/price",
            json=body,
            headers=self._headers(secret),
            timeout=CHECK_TIMEOUT,
        )
        data = self._data(response, secret) or {}
        usd = _number(data.get("discounted_price"))
        if usd is None:
            usd = _number(data.get("price"))
        if usd is None or usd < 0:
            raise ProviderError("server", f"{self.label}'s price quote had no price.")
        return Price(round(usd, 4), "quote")

    async def balance(self, key: Secret | None = None) -> float:
        """The account balance in USD. Raises ProviderError('auth') for a refused key."""
        secret = self._secret(key)
        for path in BALANCE_PATHS:
            response = await self._client.get(
                f"{self._base}{path}", headers=self._headers(secret), timeout=CHECK_TIMEOUT
            )
            if response.status_code == 404 and path != BALANCE_PATHS[-1]:
                continue  # the older path is gone: ask the newer one
            payload = parse_json(response)
            if isinstance(payload, Mapping) and "code" not in payload and response.status_code == 200:
                found = _number(payload.get("balance"))  # the newer page's bare {balance, currency}
            else:
                data = self._data(response, secret) or {}
                found = _number(data.get("balance"))
            if found is None:
                raise ProviderError("server", f"{self.label}'s balance answer had no balance.")
            return found
        raise ProviderError("not_found", f"{self.label} has no balance endpoint.")  # pragma: no cover

    async def check_key(self, key: Secret | None = None) -> KeyCheck:
        """Whether WaveSpeedAI accepts the key, and its balance; bills nothing."""
        try:
            usd = await self.balance(key)
        except ProviderError as exc:
            if exc.kind == "auth":
                return KeyCheck(self.name, False, f"{self.label} refused this key.")
            return _unreachable(self.name, self.label, exc.kind)
        except httpx.HTTPError as exc:
            return _unreachable(self.name, self.label, type(exc).__name__)
        return KeyCheck(self.name, True, f"{self.label} accepts this key: balance ${usd:.2f}.", usd)


class RunComfyKeyCheck:
    """Key check for RunComfyProvider: the status of a request id nobody has."""

    name: Any
    label: str
    _base: str
    _client: httpx.AsyncClient

    if TYPE_CHECKING:  # provided by HostedProvider

        def _secret(self, key: Secret | None) -> Secret: ...

        @staticmethod
        def _headers(secret: Secret) -> dict[str, str]: ...

    async def check_key(self, key: Secret | None = None) -> KeyCheck:
        secret = self._secret(key)
        made_up = quote(f"studio-key-check-{secrets.token_hex(8)}", safe="")
        try:
            response = await self._client.get(
                f"{self._base}/v1/requests/{made_up}/status",
                headers=self._headers(secret),
                timeout=CHECK_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            return _unreachable(self.name, self.label, type(exc).__name__)
        if response.status_code in (401, 403):
            return KeyCheck(self.name, False, f"{self.label} refused this key.")
        if response.status_code == 404:
            return KeyCheck(self.name, True, f"{self.label} accepts this key.")
        body = parse_json(response)
        code = body.get("error_code") if isinstance(body, Mapping) else None
        if code in (400004, 401001, 403003):  # an auth refusal dressed in another status
            return KeyCheck(self.name, False, f"{self.label} refused this key.")
        return _unreachable(self.name, self.label, f"HTTP {response.status_code}")
