"""The MCP server's tools: a small, stable set written for AI agents.

`launch(mcp_server=True)` serves every public named endpoint as an MCP tool at
/gradio_api/mcp/ (streamable HTTP). These five are the ones agents get (launch_options
keeps the MCP tool list to exactly these; the page's streaming endpoints stay API-only):

    list_models    every model: provider, kind, options with allowed values, price, key state
    generate_video submit and return at once: job_id, state, estimated seconds, price
    get_job        state, progress, error; when done, URLs of the video and its poster
    cancel_job     cancel at the provider (or say why it cannot be)
    list_history   the caller's jobs, newest first

No tool waits for a video (jobs take minutes; many MCP clients give up after ~60 s): an
agent polls get_job. Each tool is a plain `gr.api` function run outside Gradio's queue, so
it sees the caller's own HTTP request: owner (ui/mcp_owner.py), provider keys from
headers, client address for the limits. Validation (jobs/rules.py), the money limits
(jobs/limits.py) and owner scoping are the engine's, as for the page. Docstrings are built
from the registry, so every model id and option value an agent may send is listed.
"""

from __future__ import annotations

import inspect
import json
import shutil
import time
from typing import Any

import gradio as gr

from jobs import rules
from jobs.records import HistoryQuery, JobRecord
from providers.base import Kind, StudioError, ValidationError
from providers.catalog import ParamSpec
from providers.money import catalog_price
from ui import controls, mcp_images
from ui.api import root_url
from ui.format import download_name
from ui.mcp_owner import ToolError, caller_keys, key_header, mcp_owner, mcp_quota_key
from ui.session import Context

TOOLS = ("list_models", "generate_video", "get_job", "cancel_job", "list_history")
POLL_SECONDS = 10  # what generate_video suggests between get_job calls
# Gradio's MCP /schema lists a header parameter when its annotation `is` Header or
# Optional[Header]; typing's cache can hand out a new Optional[Header], so the bare class.
HEADER = gr.Header
_STATE_PROGRESS = {"submitting": 0.0, "queued": 0.02, "downloading": 0.97, "succeeded": 1.0}


def _fail(error: StudioError) -> ToolError:
    """A refusal the agent can act on: the field at fault first, then the studio's words."""
    field = getattr(error, "field", None)
    text = (
        error.message if not field or error.message.startswith(f"{field}:") else f"{field}: {error.message}"
    )
    return ToolError(text)


def _allowed(param: ParamSpec) -> str:
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
            by_rule.setdefault(f"{_allowed(param)}, default {param.default}", []).append(spec.id)
    everyone = len(by_rule) == 1 and len(next(iter(by_rule.values()))) == len(ctx.registry.models())
    if everyone:
        return f"optional; every model: {next(iter(by_rule))}."
    parts = [f"{', '.join(ids)}: {rule}" for rule, ids in by_rule.items()]
    return "optional; only for " + "; ".join(parts) + ". Leave it out for other models."


def _models_doc(ctx: Context) -> str:
    groups = []
    for kind in ("t2v", "i2v"):
        ids = ", ".join(spec.id for spec in ctx.registry.models(kind))  # type: ignore[arg-type]
        groups.append(f"{'text-to-video' if kind == 't2v' else 'image-to-video (needs image)'}: {ids}")
    return "; ".join(groups)


def _header_doc(ctx: Context) -> str:
    return ", ".join(f"{key_header(info.name)} for {info.label}" for info in ctx.registry.hosted())


def _progress(record: JobRecord, eta: float | None, now: float) -> float | None:
    if record.state in _STATE_PROGRESS:
        return _STATE_PROGRESS[record.state]
    if record.state == "running" and eta and record.started_at:
        return round(min(0.95, 0.05 + 0.9 * (now - record.started_at) / eta), 2)
    return None


def _json(data: dict[str, Any]) -> str:
    """Tools answer JSON text: Gradio hands an agent a returned dict as Python's repr."""
    return json.dumps(data, ensure_ascii=False)


def job_view(record: JobRecord, ctx: Context, request: gr.Request, eta: float | None) -> dict[str, Any]:
    """A job as an agent needs it (no owner, no server paths; URLs valid for an hour)."""
    now = time.time()
    links, root = ctx.guard.links, root_url(request)
    done = record.state == "succeeded"
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
        "note": record.note,
        "video_url": links.anyone_url(root, record.video_path) if done else None,
        "poster_url": links.anyone_url(root, record.poster_path) if done else None,
        "download_name": download_name(record, registry=ctx.registry) if record.video_path else None,
        "video_seconds": record.video_duration,
        "width": record.video_width,
        "height": record.video_height,
        "simulated": record.simulated,
    }


def _documented(fn: Any, doc: str) -> Any:
    """Give `fn` its docstring: Gradio reads the tool's description from it, and each
    argument's from its one line under 'Args:' (so every such line stays one line)."""
    fn.__doc__ = doc
    return fn


def _generate(ctx: Context) -> Any:
    studio, settings, registry = ctx.studio, ctx.settings, ctx.registry
    options = option_params(ctx)
    headers = {info.name: key_header(info.name).lower().replace("-", "_") for info in registry.hosted()}

    async def generate_video(*args: Any) -> str:
        # Gradio calls with positional values in the order of the signature set below.
        given = signature.bind(*args).arguments
        request: gr.Request = given["request"]
        prompt, model, image = given.get("prompt"), str(given.get("model") or ""), given.get("image") or ""
        fit_image = bool(given.get("fit_image"))
        owner = mcp_owner(settings, ctx.guard.throttle, request)
        keys = caller_keys(registry, request)
        try:
            spec = registry.model(model)
            kind: Kind = spec.kind
            if studio.provider_ready(spec.provider, keys) is not None:
                info = registry.info(spec.provider)
                server = f" (or set {info.key_env[0]} on the server)" if info.key_env else ""
                raise ValidationError(
                    "model",
                    f"{info.label} needs a key: send yours in the {key_header(info.name)} header{server}.",
                )
            folder = None
            image_path: str | None = None
            if image and image.strip():
                if kind != "i2v":
                    raise ValidationError("image", f"image: {spec.label} is text-to-video; leave image out.")
                path = await mcp_images.image_file(image, settings.max_upload_bytes)
                folder, image_path = path.parent, str(path)
            values = {name: given.get(name) for name in options}
            generation = rules.build_request(
                registry, kind, spec.id, prompt, values, image_path, fit_image, only_accepted=False
            )
            try:
                record = await studio.submit(
                    owner, generation, keys, quota_key=mcp_quota_key(settings, request)
                )
            finally:
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
        except StudioError as error:
            raise _fail(error) from None
        eta = await studio.eta_seconds(record.model)
        try:
            price = await studio.price(record.model, record.options, keys)
            usd, source = price.usd, price.source
        except StudioError:
            usd, source = None, None
        view = job_view(record, ctx, request, eta)
        view.update(price_usd=usd, price_source=source, poll_after_seconds=POLL_SECONDS)
        return _json(view)

    option_lines = [f"    {name}: {param.label}: {_option_doc(ctx, name)}" for name, param in options.items()]
    doc = "\n".join(
        [
            "Start making a video with ByteDance Dreamina 3.0 and return at once (videos take minutes):",
            "then call get_job with the job_id every ~10 s until finished is true.",
            "The job is billed by the provider when sent; a refusal (bad value, a money limit) sends nothing.",
            f"Provider keys: the server's, or yours in a request header ({_header_doc(ctx)}).",
            "",
            "Args:",
            "    prompt: What the video shows, in any language, at most 800 characters.",
            f"    model: The model id (list_models describes each). {_models_doc(ctx)}.",
            "    image: Image-to-video only: the first frame as an http(s) URL of a public file or a "
            "data URI (data:image/png;base64,...). JPEG or PNG, each side 320-4096 px, long:short at most 3:1.",
            "    fit_image: Image-to-video only: if true, scale, crop or convert an image outside the "
            "model's limits instead of refusing it.",
            *option_lines,
            "",
            "Returns:",
            "    A JSON object: job_id, state (submitting, queued, running, downloading, succeeded, failed, cancelled), "
            "estimated_seconds (null before this model has a finished run here), price_usd and price_source "
            "(quote, catalog or estimate), seed (the one actually used), poll_after_seconds.",
        ]
    )
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [
        inspect.Parameter("request", positional, annotation=gr.Request),
        inspect.Parameter("prompt", positional, annotation=str),
        inspect.Parameter("model", positional, annotation=str),
        inspect.Parameter("image", positional, default="", annotation=str),
        inspect.Parameter("fit_image", positional, default=False, annotation=bool),
        *(
            inspect.Parameter(n, positional, default=None, annotation=_annotation(p))
            for n, p in options.items()
        ),
        *(inspect.Parameter(h, positional, default=None, annotation=HEADER) for h in headers.values()),
    ]
    signature = inspect.Signature(parameters, return_annotation=str)
    generate_video.__signature__ = signature  # type: ignore[attr-defined]
    generate_video.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": str}
    return _documented(generate_video, doc)


def _annotation(param: ParamSpec) -> Any:
    if param.type is int:
        return int | None
    if param.type is bool:
        return bool | None
    return str | None


def _list_models(ctx: Context) -> Any:
    registry, settings = ctx.registry, ctx.settings

    async def list_models(request: gr.Request, kind: str = "") -> str:
        keys = caller_keys(registry, request)
        if kind and kind not in ("t2v", "i2v"):
            raise ToolError("kind: use t2v, i2v or leave it empty.")
        found = []
        for spec in registry.models(kind or None):  # type: ignore[arg-type]
            info = registry.info(spec.provider)
            price = catalog_price(spec, spec.defaults(), registry.models())
            ready = ctx.studio.provider_ready(spec.provider, keys)
            found.append(
                {
                    "id": spec.id,
                    "label": spec.label,
                    "provider": info.label,
                    "kind": spec.kind,
                    "needs_image": spec.kind == "i2v",
                    "key_configured": ready is None,
                    "key_header": None if info.offline else key_header(info.name),
                    "offline_simulator": info.offline,
                    "price_usd": price.usd,
                    "price_source": price.source,
                    "prompt_max_characters": spec.prompt_max,
                    "options": {
                        p.name: {
                            "label": p.label,
                            "type": p.control,
                            "allowed": list(p.choices) if p.choices is not None else _allowed(p),
                            "default": p.default,
                            **({"help": p.help} if p.help else {}),
                        }
                        for p in spec.params
                    },
                    "verified": spec.verified,
                    **({"notes": spec.notes} if spec.notes else {}),
                }
            )
        return _json({"models": found, "public_studio": settings.public})

    doc = "\n".join(
        [
            "List the video models this studio offers, with everything generate_video accepts for each.",
            "",
            "Args:",
            "    kind: t2v (text-to-video), i2v (image-to-video) or empty for both.",
            "",
            "Returns:",
            "    A JSON object: models, a list of: id (pass as generate_video's model), label, provider, kind, needs_image, "
            "key_configured (false: send your key in key_header), key_header, offline_simulator (free, "
            "simulated), price_usd and price_source for a run with the default options (catalog or "
            "estimate; generate_video reports the exact price), prompt_max_characters, and options: "
            "name -> type, allowed values or range, default.",
        ]
    )
    return _documented(list_models, doc)


def _job_tools(ctx: Context) -> list[Any]:
    studio, settings = ctx.studio, ctx.settings

    async def get_job(job_id: str, request: gr.Request) -> str:
        owner = mcp_owner(settings, ctx.guard.throttle, request)
        record = await studio.get(owner, (job_id or "").strip())
        if record is None:
            raise ToolError(f"job_id: no job '{job_id}' among your jobs.")
        return _json(job_view(record, ctx, request, await studio.eta_seconds(record.model)))

    async def cancel_job(job_id: str, request: gr.Request) -> str:
        owner = mcp_owner(settings, ctx.guard.throttle, request)
        try:
            record = await studio.cancel(owner, (job_id or "").strip())
        except StudioError as error:
            raise _fail(error) from None
        return _json(job_view(record, ctx, request, None))

    async def list_history(
        request: gr.Request,
        limit: int = 10,
        cursor: str = "",
        state: str = "",
        model: str = "",
        text: str = "",
    ) -> str:
        owner = mcp_owner(settings, ctx.guard.throttle, request)
        query = HistoryQuery(
            limit=max(1, min(int(limit or 10), 50)),
            before=cursor or None,
            model=model or None,
            state=state or None,
            text=text or None,
        )
        try:
            page = await studio.history(owner, query)
        except StudioError as error:
            raise _fail(error) from None
        except ValueError:
            raise ToolError("cursor: not a next_cursor from list_history.") from None
        return _json(
            {
                "items": [job_view(r, ctx, request, None) for r in page.items],
                "next_cursor": page.next_cursor,
                "total": page.total,
            }
        )

    job_returns = (
        "    A JSON object: job_id, state, finished, progress (0-1, null when unknown), queue_position, elapsed_seconds, "
        "estimated_seconds, model, prompt, options, seed, error_kind and error (when failed), note, "
        "video_url and poster_url (when succeeded: https links anyone holding them may fetch for an hour; "
        "call get_job again for fresh ones), download_name, video_seconds, width, height, simulated."
    )
    _documented(
        get_job,
        "\n".join(
            [
                "Get one of your jobs: its state and progress; when succeeded, URLs of the MP4 video and "
                "its poster image to fetch or show.",
                "",
                "Args:",
                "    job_id: The job_id generate_video returned.",
                "",
                "Returns:",
                job_returns,
            ]
        ),
    )
    _documented(
        cancel_job,
        "\n".join(
            [
                "Cancel one of your jobs. A provider that cannot cancel a job that has started still "
                "runs and bills it: note then says so.",
                "",
                "Args:",
                "    job_id: The job_id generate_video returned.",
                "",
                "Returns:",
                "    A JSON object: the job as get_job returns it, state cancelled when it was cancelled.",
            ]
        ),
    )
    _documented(
        list_history,
        "\n".join(
            [
                "List your jobs, newest first, a page at a time.",
                "",
                "Args:",
                "    limit: How many jobs per page, 1 to 50 (default 10).",
                "    cursor: Empty for the first page, else the next_cursor of the previous page.",
                "    state: Only jobs in this state: queued, running, succeeded, failed or cancelled; empty for all.",
                "    model: Only jobs of this model id; empty for all.",
                "    text: Only jobs whose prompt contains this text; empty for all.",
                "",
                "Returns:",
                "    A JSON object: items (each as get_job returns it), next_cursor (null on the last page), total.",
            ]
        ),
    )
    return [get_job, cancel_job, list_history]


def render(ctx: Context) -> None:
    """Register the tools as public API endpoints (inside the Blocks), outside the queue so
    each call sees its own HTTP request."""
    for fn in (_list_models(ctx), _generate(ctx), *_job_tools(ctx)):
        gr.api(fn, api_name=fn.__name__, queue=False, concurrency_limit=None)
