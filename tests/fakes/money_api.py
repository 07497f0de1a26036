"""WaveSpeedAI's money endpoints and per-minute video cap, as providers.md §6 describes them.

- `POST /api/v3/model/price` `{model_id, inputs}` -> `data.price` for exactly that run
  (the model's base price scaled by `duration / 5`; missing inputs collapse to the base price).
- `GET /api/v3/models` -> each model with `base_price` and its pricing `formula`.
- `GET /api/v3/balance` -> `data.balance` (USD); the newer `GET /api/v3/account/balance`
  answers a bare `{balance, currency}`. `MoneyConfig.old_balance_path=False` makes the first
  answer 404, as if WaveSpeedAI had retired it, so a client must fall back.
- Over `videos_per_minute` a submit answers HTTP 429 with Retry-After (seconds to the next
  window) and creates nothing; the count starts again each window (`window_seconds`, 60).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from tests.fakes.faults import error_body
from tests.fakes.schemas import SCHEMAS, schema_for
from tests.fakes.state import Call, FakeState, Reply, Route, json_reply, route

PROVIDER = "wavespeed"
BASE_SECONDS = 5


@dataclass
class MoneyConfig:
    balances: dict[str, float] = field(default_factory=dict)  # key -> USD; default DEFAULT_BALANCE
    old_balance_path: bool = True
    videos_per_minute: int | None = None
    window_seconds: float = 60.0
    window_start: float = 0.0
    window_count: int = 0

    DEFAULT_BALANCE = 25.0


def config_of(state: FakeState) -> MoneyConfig:
    with state.lock:
        if not isinstance(state.money, MoneyConfig):
            state.money = MoneyConfig()
        return state.money


def _authorised(state: FakeState, call: Call) -> bool:
    return call.bearer is not None and call.bearer in state.keys[PROVIDER]


def _error(status: int, message: str | None = None) -> Reply:
    return json_reply(error_body(PROVIDER, status, message), status)


def _ok(data: object) -> Reply:
    return json_reply({"code": 200, "message": "success", "data": data})


def run_price(base_price: float, inputs: object) -> float:
    """`base_price * duration / 5`, the published formula; no duration: the base price."""
    duration = inputs.get("duration") if isinstance(inputs, dict) else None
    if not isinstance(duration, int) or isinstance(duration, bool) or duration <= 0:
        return base_price
    return round(base_price * duration / BASE_SECONDS, 4)


def price(state: FakeState, call: Call) -> Reply:
    if not _authorised(state, call):
        return _error(401)
    body = call.record.json
    if not isinstance(body, dict) or not isinstance(body.get("model_id"), str):
        return json_reply({"code": 1400, "message": "model_id is required", "data": None}, 400)
    schema = schema_for(PROVIDER, body["model_id"])
    if schema is None:
        return _error(404, f"model not found: {body['model_id']}")
    return _ok({"model_id": schema.model_id, "price": run_price(schema.price_usd, body.get("inputs"))})


def models(state: FakeState, call: Call) -> Reply:
    if not _authorised(state, call):
        return _error(401)
    items = [
        {
            "model_id": s.model_id,
            "base_price": s.price_usd,
            "formula": "base_price * duration / 5" if "duration" in s.fields else "base_price",
        }
        for s in SCHEMAS.values()
        if s.provider == PROVIDER
    ]
    return _ok(items)


def _balance_of(state: FakeState, call: Call) -> float:
    money = config_of(state)
    with state.lock:
        return money.balances.get(call.bearer or "", MoneyConfig.DEFAULT_BALANCE)


def balance(state: FakeState, call: Call) -> Reply:
    if not config_of(state).old_balance_path:
        return _error(404, "not found")
    if not _authorised(state, call):
        return _error(401)
    return _ok({"balance": _balance_of(state, call)})


def account_balance(state: FakeState, call: Call) -> Reply:
    if not _authorised(state, call):
        return _error(401)
    return json_reply({"balance": _balance_of(state, call), "currency": "USD"})


def over_video_cap(state: FakeState) -> Reply | None:
    """The 429 a submit gets over the per-minute cap (nothing is created), else None and
    the submit counts against this window."""
    money = config_of(state)
    with state.lock:
        if money.videos_per_minute is None:
            return None
        now = time.time()
        if now - money.window_start >= money.window_seconds:
            money.window_start, money.window_count = now, 0
        if money.window_count >= money.videos_per_minute:
            wait = max(1, math.ceil(money.window_start + money.window_seconds - now))
            reply = _error(429)
            reply.headers["Retry-After"] = str(wait)
            return reply
        money.window_count += 1
        return None


def routes() -> list[Route]:
    """Listed before the WaveSpeed submit route, whose path pattern would also match."""
    return [
        route("POST", r"/api/v3/model/price", PROVIDER, "price", price),
        route("GET", r"/api/v3/models", PROVIDER, "models", models),
        route("GET", r"/api/v3/balance", PROVIDER, "balance", balance),
        route("GET", r"/api/v3/account/balance", PROVIDER, "balance", account_balance),
    ]
