"""The MCP server's tools: a small, stable set written for AI agents.

`launch(mcp_server=True)` serves every public named endpoint as an MCP tool at
/gradio_api/mcp/ (streamable HTTP). These six are the ones agents get (launch_options
keeps the MCP tool list to exactly these; the page's streaming endpoints stay API-only):

    list_models    every model: provider, kind, options with allowed values, price, key state
    generate_video submit and return at once: job_id, state, estimated seconds, price
    get_job        state, progress, error; when done, URLs of the video and its poster
    cancel_job     cancel at the provider (or say why it cannot be)
    list_history   the caller's jobs, newest first
    compare_models one prompt to 2-6 models (or takes) at once, reserved whole (ui/mcp_compare.py)

No tool waits for a video (jobs take minutes; many MCP clients give up after ~60 s): an
agent polls get_job. Each tool is a plain `gr.api` function run outside Gradio's queue, so
it sees the caller's own HTTP request: owner (ui/mcp_owner.py), provider keys from
headers, client address for the limits. Validation (jobs/rules.py), the money limits
(jobs/limits.py) and owner scoping are the engine's, as for the page. Docstrings are built
from the registry, so every model id and option value an agent may send is listed.
"""

from __future__ import annotations

import inspect
from typing import Any

import gradio as gr

from jobs import rules
from jobs.records import HistoryQuery
from providers.base import StudioError
from providers.money import catalog_price
from ui import mcp_compare
from ui import mcp_views as views
from ui.mcp_owner import ToolError, caller_keys, key_header, mcp_owner
from ui.session import Context

TOOLS = ("list_models", "generate_video", "get_job", "cancel_job", "list_history", "compare_models")
IMAGE_DOC = (
    "Image-to-video only: the first frame as an http(s) URL of a public file or a data URI "
    "(data:image/png;base64,...). JPEG or PNG, each side 320-4096 px, long:short at most 3:1."
)
FIT_DOC = (
    "Image-to-video only: if true, scale, crop or convert an image outside the model's limits "
    "instead of refusing it."
)


def _generate(ctx: Context) -> Any:
    studio, registry = ctx.studio, ctx.registry
    options = views.option_params(ctx)

    async def generate_video(*args: Any) -> str:
        async with views.tool_call(ctx, signature, args) as call:
            spec = registry.model(str(call.given.get("model") or ""))
            image = await call.prepare([spec])
            generation = rules.build_request(
                registry,
                spec.kind,
                spec.id,
                call.given.get("prompt"),
                {name: call.given.get(name) for name in options},
                image,
                bool(call.given.get("fit_image")),
                only_accepted=False,
            )
            record = await studio.submit(call.owner, generation, call.keys, quota_key=call.quota_key)
        eta = await studio.eta_seconds(record.model)
        try:
            price = await studio.price(record.model, record.options, call.keys)
            usd, source = price.usd, price.source
        except StudioError:
            usd, source = None, None
        view = await views.job_view(record, ctx, call.request, eta)
        view.update(price_usd=usd, price_source=source, poll_after_seconds=views.POLL_SECONDS)
        return views.to_json(view)

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = views.set_signature(
        generate_video,
        ctx,
        [
            inspect.Parameter("request", positional, annotation=gr.Request),
            inspect.Parameter("prompt", positional, annotation=str),
            inspect.Parameter("model", positional, annotation=str),
            inspect.Parameter("image", positional, default="", annotation=str),
            inspect.Parameter("fit_image", positional, default=False, annotation=bool),
        ],
    )
    doc = "\n".join(
        [
            "Start making a video with ByteDance Dreamina 3.0 and return at once (videos take minutes):",
            "then call get_job with the job_id every ~10 s until finished is true.",
            "The job is billed by the provider when sent; a refusal (bad value, a money limit) sends nothing.",
            f"Provider keys: the server's, or yours in a request header ({views.header_doc(ctx)}).",
            "",
            "Args:",
            "    prompt: What the video shows, in any language, at most 800 characters.",
            f"    model: The model id (list_models describes each). {views.models_doc(ctx)}.",
            f"    image: {IMAGE_DOC}",
            f"    fit_image: {FIT_DOC}",
            *views.option_lines(ctx),
            "",
            "Returns:",
            "    A JSON object: job_id, state (submitting, queued, running, downloading, succeeded, failed, "
            "cancelled), estimated_seconds (null before this model has a finished run here), price_usd and "
            "price_source (quote, catalog or estimate), seed (the one actually used), poll_after_seconds.",
        ]
    )
    return views.documented(generate_video, doc)


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
            found.append(
                {
                    "id": spec.id,
                    "label": spec.label,
                    "provider": info.label,
                    "kind": spec.kind,
                    "needs_image": spec.kind == "i2v",
                    "key_configured": views.key_ready(ctx, spec.provider, keys),
                    "key_header": None if info.offline else key_header(info.name),
                    "offline_simulator": info.offline,
                    "price_usd": price.usd,
                    "price_source": price.source,
                    "prompt_max_characters": spec.prompt_max,
                    "options": {
                        p.name: {
                            "label": p.label,
                            "type": p.control,
                            "allowed": list(p.choices) if p.choices is not None else views.allowed(p),
                            "default": p.default,
                            **({"help": p.help} if p.help else {}),
                        }
                        for p in spec.params
                    },
                    "verified": spec.verified,
                    **({"notes": spec.notes} if spec.notes else {}),
                }
            )
        return views.to_json({"models": found, "public_studio": settings.public})

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
    return views.documented(list_models, doc)


def _job_tools(ctx: Context) -> list[Any]:
    studio, settings, registry = ctx.studio, ctx.settings, ctx.registry

    async def get_job(job_id: str, request: gr.Request) -> str:
        owner = mcp_owner(settings, ctx.guard.throttle, request)
        record = await studio.get(owner, (job_id or "").strip())
        if record is None:
            raise ToolError(f"job_id: no job '{job_id}' among your jobs.")
        keys = caller_keys(registry, request)
        if views.waits_for_key(record) and keys.get(record.provider):
            # Sent with a header key the studio no longer holds (it keeps keys in memory
            # only, and restarted): the caller's key lets it check again; nothing is resent.
            record = await studio.recheck(owner, record.id, keys)
        return views.to_json(await views.job_view(record, ctx, request, await studio.eta_seconds(record.model)))

    async def cancel_job(job_id: str, request: gr.Request) -> str:
        owner = mcp_owner(settings, ctx.guard.throttle, request)
        try:
            record = await studio.cancel(owner, (job_id or "").strip())
        except StudioError as error:
            raise views.fail(error) from None
        return views.to_json(await views.job_view(record, ctx, request, None))

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
            raise views.fail(error) from None
        except ValueError:
            raise ToolError("cursor: not a next_cursor from list_history.") from None
        return views.to_json(
            {
                "items": await views.job_views(page.items, ctx, request),
                "next_cursor": page.next_cursor,
                "total": page.total,
            }
        )

    job_returns = (
        "    A JSON object: job_id, state, finished, progress (0-1, null when unknown), queue_position, elapsed_seconds, "
        "estimated_seconds, model, prompt, options, seed, error_kind and error (when failed), note, "
        "needs_key_header (set while the job waits for your provider key: call get_job again with the "
        "key in that header and it resumes; nothing is sent twice), "
        "video_url and poster_url (when succeeded: links anyone holding them may fetch for an hour; "
        "call get_job again for fresh ones), download_name, video_seconds, width, height, simulated."
    )
    views.documented(
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
    views.documented(
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
    views.documented(
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
    for fn in (
        _list_models(ctx),
        _generate(ctx),
        *_job_tools(ctx),
        mcp_compare.compare_models(ctx, IMAGE_DOC, FIT_DOC),
    ):
        gr.api(fn, api_name=fn.__name__, queue=False, concurrency_limit=None)
