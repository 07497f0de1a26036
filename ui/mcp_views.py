"""What the MCP tools share (ui/mcp_tools.py, ui/mcp_compare.py): a job as an agent sees
it, refusals as plain text naming the field, argument docs built from the registry, and
the signature Gradio reads a tool's arguments from (the options every model takes, and
one header per hosted provider for the caller's key)."""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from jobs.group_blind import masked
from jobs.records import JobRecord
from providers.base import StudioError, ValidationError
from providers.catalog import ModelSpec, ParamSpec
from ui import controls, mcp_images
from ui.api import root_url
from ui.format import download_name
from ui.mcp_owner import ToolError, caller_keys, key_header, mcp_owner, mcp_quota_key, own_keys_only
from ui.page_records import blind_letters, blind_names
from ui.session import Context, SessionKeys

POLL_SECONDS = 10  # what generate_video suggests between get_job calls
# Gradio's MCP /schema lists a header parameter when its annotation `is` Header or
# Optional[Header]; typing's cache can hand out a new Optional[Header], so the bare class.
HEADER = gr.Header
_STATE_PROGRESS = {"submitting": 0.0, "queued": 0.02, "downloading": 0.97, "succeeded": 1.0}


def fail(error: StudioError) -> ToolError:
    """A refusal the agent can act on: the field at fault first, then the studio's words."""
    field = getattr(error, "field", None)
    text = (
        error.message if not field or error.message.startswith(f"{field}:") else f"{field}: {error.message}"
    )
    return ToolError(text)


def allowed(param: ParamSpec) -> str:
    if param.choices is not None:
        return "one of " + ", ".join(str(c) for c in param.choices)
    if param.control == "boolean":
        return "true or false"
    if param.control == "integer":
        extra = " (-1 = random; the seed used is reported)" if param.name == controls.SEED else ""
        return f"a whole number {param.minimum} to {param.maximum}{extra}"
    return f"text of at most {param.maximum} characters" if param.maximum else "text"


def option_params(ctx: Context) -> dict[str, ParamSpec]:
    """Every option any model takes, in first-seen order, the seed last (one parameter each)."""
    found: dict[str, ParamSpec] = {}
    seed: ParamSpec | None = None
    for spec in ctx.registry.models():
        for param in spec.params:
            if param.name == controls.SEED:
                seed = seed or param
            else:
                found.setdefault(param.name, param)
    if seed is not None:
        found[controls.SEED] = seed
    return found


def _option_doc(ctx: Context, name: str) -> str:
    """One line: which models take the option and what each allows."""
    by_rule: dict[str, list[str]] = {}
    for spec in ctx.registry.models():
        param = spec.param(name)
        if param is not None:
            by_rule.setdefault(f"{allowed(param)}, default {param.default}", []).append(spec.id)
    everyone = len(by_rule) == 1 and len(next(iter(by_rule.values()))) == len(ctx.registry.models())
    if everyone:
        return f"optional; every model: {next(iter(by_rule))}."
    parts = [f"{', '.join(ids)}: {rule}" for rule, ids in by_rule.items()]
    return "optional; only for " + "; ".join(parts) + ". Leave it out for other models."


def models_doc(ctx: Context) -> str:
    groups = []
    for kind in ("t2v", "i2v"):
        ids = ", ".join(spec.id for spec in ctx.registry.models(kind))  # type: ignore[arg-type]
        groups.append(f"{'text-to-video' if kind == 't2v' else 'image-to-video (needs image)'}: {ids}")
    return "; ".join(groups)


def header_doc(ctx: Context) -> str:
    return ", ".join(f"{key_header(info.name)} for {info.label}" for info in ctx.registry.hosted())


def _progress(record: JobRecord, eta: float | None, now: float) -> float | None:
    if record.state in _STATE_PROGRESS:
        return _STATE_PROGRESS[record.state]
    if record.state == "running" and eta and record.started_at:
        return round(min(0.95, 0.05 + 0.9 * (now - record.started_at) / eta), 2)
    return None


def to_json(data: dict[str, Any]) -> str:
    """Tools answer JSON text: Gradio hands an agent a returned dict as Python's repr."""
    return json.dumps(data, ensure_ascii=False)


def waits_for_key(record: JobRecord) -> bool:
    """Whether the job was sent with a key the studio no longer holds (a key sent in a
    header or typed in a page, then a restart): it waits, paid and not lost, for the key."""
    return record.active and record.note_code == "key_wait"


def _note(record: JobRecord, ctx: Context) -> tuple[str | None, str | None]:
    """The job's note for an agent, and the header its key goes in while the job waits for it."""
    if not waits_for_key(record):
        return record.note, None
    header = key_header(record.provider)
    label = ctx.registry.label(record.provider)
    return (
        f"Waiting for a {label} key: this job was sent with a key the studio keeps only in memory, "
        f"and the studio has restarted since. Call get_job again with your key in the {header} header "
        "and it resumes; nothing is sent or billed again.",
        header,
    )


async def job_views(
    records: Sequence[JobRecord], ctx: Context, request: gr.Request, eta: float | None = None
) -> list[dict[str, Any]]:
    """Jobs as an agent needs them (no owner, no server paths; URLs valid for an hour). A
    member of a blind comparison before its pick names no model or provider
    (jobs/group_blind.py): the masking is done here, so no tool can leave it out."""
    letters = await blind_letters(ctx, records)
    views = []
    for record in records:
        view = _view(record, ctx, request, eta)
        letter = letters.get(record.id)
        views.append(view if letter is None else masked(view, letter, record.group_id, blind_names(ctx, record)))
    return views


async def job_view(record: JobRecord, ctx: Context, request: gr.Request, eta: float | None) -> dict[str, Any]:
    """One job as an agent needs it (`job_views`); `eta`: its model's expected seconds."""
    return (await job_views([record], ctx, request, eta))[0]


def _view(record: JobRecord, ctx: Context, request: gr.Request, eta: float | None) -> dict[str, Any]:
    now = time.time()
    links, root = ctx.guard.links, root_url(request)
    done = record.state == "succeeded"
    note, needs_key = _note(record, ctx)
    return {
        "job_id": record.id,
        "state": record.state,
        "finished": record.terminal,
        "progress": _progress(record, eta, now),
        "queue_position": record.queue_position,
        "elapsed_seconds": round((record.finished_at or now) - record.created_at, 1),
        "estimated_seconds": round(eta, 1) if eta else None,
        "model": record.model,
        "kind": record.kind,
        "prompt": record.prompt,
        "options": dict(record.options),
        "seed": record.seed,
        "error_kind": record.error_kind,
        "error": record.error_message,
        "note": note,
        "needs_key_header": needs_key,
        "video_url": links.anyone_url(root, record.video_path) if done else None,
        "poster_url": links.anyone_url(root, record.poster_path) if done else None,
        "download_name": download_name(record, registry=ctx.registry) if record.video_path else None,
        "video_seconds": record.video_duration,
        "width": record.video_width,
        "height": record.video_height,
        "simulated": record.simulated,
    }


def _annotation(param: ParamSpec) -> Any:
    if param.type is int:
        return int | None
    if param.type is bool:
        return bool | None
    return str | None


def documented(fn: Any, doc: str) -> Any:
    """Give `fn` its docstring: Gradio reads the tool's description from it, and each
    argument's from its one line under 'Args:' (so every such line stays one line)."""
    fn.__doc__ = doc
    return fn


def header_params(ctx: Context) -> list[str]:
    """One parameter per hosted provider, x_<provider>_key: Gradio passes it the request's
    X-<Provider>-Key header and lists it in the MCP /schema for clients to set."""
    return [key_header(info.name).lower().replace("-", "_") for info in ctx.registry.hosted()]


def set_signature(fn: Any, ctx: Context, leading: list[inspect.Parameter]) -> inspect.Signature:
    """Give `fn(*args)` the signature Gradio builds the tool from: `leading`, then every
    option (ParamSpec-typed, default None), then the key headers. Gradio calls it with
    positional values in this order; bind them with the returned signature."""
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [
        *leading,
        *(
            inspect.Parameter(n, positional, default=None, annotation=_annotation(p))
            for n, p in option_params(ctx).items()
        ),
        *(inspect.Parameter(h, positional, default=None, annotation=HEADER) for h in header_params(ctx)),
    ]
    signature = inspect.Signature(parameters, return_annotation=str)
    fn.__signature__ = signature
    fn.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": str}
    return signature


def option_lines(ctx: Context) -> list[str]:
    """The 'Args:' lines of the options, one per option."""
    return [
        f"    {name}: {param.label}: {_option_doc(ctx, name)}" for name, param in option_params(ctx).items()
    ]


def key_ready(ctx: Context, provider: str, keys: SessionKeys) -> bool:
    """Whether a caller with `keys` may use `provider`: its own key, or the server's where
    the server's keys serve MCP callers (not behind a Hugging Face sign-in)."""
    if own_keys_only(ctx.settings) and not ctx.registry.info(provider).offline:
        return bool(keys.get(provider))
    if own_keys_only(ctx.settings):
        return False  # the simulator serves the page's signed-in users only
    return ctx.studio.provider_ready(provider, keys) is None


def refuse_without_key(ctx: Context, spec: ModelSpec, keys: SessionKeys) -> None:
    """A model whose provider has no key (the server's or the caller's header) is refused
    naming the header to send, before anything is priced or sent."""
    if key_ready(ctx, spec.provider, keys):
        return
    info = ctx.registry.info(spec.provider)
    if info.offline:
        raise ValidationError(
            "model", f"model: {spec.id} is for this studio's signed-in users; pick a provider's model."
        )
    server = (
        f" (or set {info.key_env[0]} on the server)"
        if info.key_env and not own_keys_only(ctx.settings)
        else ""
    )
    raise ValidationError(
        "model", f"{info.label} needs a key: send yours in the {key_header(info.name)} header{server}."
    )


@dataclass
class ToolCall:
    """One call of a submitting tool: its arguments, who calls (owner, keys, address for
    the limits), and the caller's image once `prepare` has fetched it."""

    ctx: Context
    given: dict[str, Any]
    request: gr.Request
    owner: str
    keys: SessionKeys
    image: Path | None = None

    @property
    def quota_key(self) -> str | None:
        return mcp_quota_key(self.ctx.settings, self.request)

    async def prepare(self, specs: Sequence[ModelSpec]) -> str | None:
        """Refuse a model without a key, then fetch the caller's image (checked against the
        first model's kind); the image's path, or None without one."""
        for spec in specs:
            refuse_without_key(self.ctx, spec, self.keys)
        self.image = await caller_image(self.ctx, specs[0], self.given.get("image") or "")
        return str(self.image) if self.image else None


@asynccontextmanager
async def tool_call(
    ctx: Context, signature: inspect.Signature, args: tuple[Any, ...]
) -> AsyncIterator[ToolCall]:
    """What generate_video and compare_models share: bind the arguments, decide the owner
    (McpRefused), read the key headers; inside, a StudioError becomes a refusal naming its
    field, and the caller's image is deleted whatever happens."""
    given = signature.bind(*args).arguments
    request: gr.Request = given["request"]
    owner = mcp_owner(ctx.settings, ctx.guard.throttle, request)
    call = ToolCall(ctx, given, request, owner, caller_keys(ctx.registry, request))
    try:
        yield call
    except StudioError as error:
        raise fail(error) from None
    finally:
        if call.image is not None:
            mcp_images.remove(call.image.parent)


async def caller_image(ctx: Context, spec: ModelSpec, image: str) -> Path | None:
    """The caller's image as a file in its own temporary folder (delete the folder after
    the submit), None when there is none; an image for a text-to-video model is refused."""
    if not image or not image.strip():
        return None
    if spec.kind != "i2v":
        raise ValidationError("image", f"image: {spec.label} is text-to-video; leave image out.")
    return await mcp_images.image_file(image, ctx.settings.max_upload_bytes)
