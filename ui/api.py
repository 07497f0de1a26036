"""The programmatic API: six of the eight public endpoints ("Use via API", gradio_client);
the comparison endpoints `/compare` and `/group` are in ui/compare_api.py.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    video, job = client.predict(prompt="A paper boat in the rain", model="simulator/dreamina-3-0/text-to-video",
                                api_name="/text_to_video")
    video, job = client.predict(prompt="Slow push-in", image=handle_file("photo.png"), fit_image=True,
                                model="simulator/dreamina-3-0/image-to-video", api_name="/image_to_video")
    client.predict(job_id=job["id"], api_name="/job")       # one job, as JSON
    client.predict(job_id=job["id"], api_name="/cancel")    # cancel at the provider
    client.predict(limit=10, api_name="/history")           # {"items", "next_cursor", "total"}
    client.predict(api_name="/spend")                       # {"today_usd", "month_usd", "total_usd", ...}

The two generate endpoints stream the job record at every change and end with the video
file (under its download name) and the final record. A parameter the chosen model does not
take must be left empty, or the call fails naming it. `/image_to_video` also takes
`fit_image` (default False): bring the image within the model's limits instead of refusing
it. They use the server's keys only.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, cast

import gradio as gr

from jobs import rules
from jobs.group_blind import masked
from jobs.history import shareable_url
from jobs.records import HistoryQuery, JobRecord
from providers.base import Kind, StudioError
from providers.catalog import ParamSpec
from ui import controls, gradio_internals, owners, spend_panel
from ui.format import download_name
from ui.page_records import blind_letters, blind_names
from ui.session import Context

FILE_FIELDS = (("video_path", "video_url"), ("poster_path", "poster_url"), ("input_image", "input_image_url"))


def root_url(request: gr.Request) -> str:
    """The app's address as the caller reached it (a proxy's forwarded host and scheme)."""
    headers = request.headers
    host = headers.get("x-forwarded-host") or headers.get("host") or "127.0.0.1"
    proto = (headers.get("x-forwarded-proto") or "").split(",")[0].strip()
    url = getattr(getattr(request, "request", None), "url", None)
    return f"{proto or getattr(url, 'scheme', None) or 'http'}://{host.split(',')[0].strip()}"


async def public_records(records: Sequence[JobRecord], ctx: Context, request: gr.Request) -> list[dict[str, Any]]:
    """Jobs as the API answers them: no owner, and signed URLs (valid an hour, for this
    caller) instead of the server's file paths, plus the video's download name. A member
    of a blind comparison before its pick names no model or provider (jobs/group_blind.py):
    the masking is done here, so no answer can leave it out."""
    letters = await blind_letters(ctx, records)
    return [_public(record, ctx, request, letters.get(record.id)) for record in records]


async def public_record(record: JobRecord, ctx: Context, request: gr.Request) -> dict[str, Any]:
    """One job as the API answers it (`public_records`)."""
    return (await public_records([record], ctx, request))[0]


def _public(record: JobRecord, ctx: Context, request: gr.Request, blind_letter: str | None) -> dict[str, Any]:
    data = record.to_dict()
    # No owner; the words in English only (their codes are for the page's languages).
    for private in ("owner", "note_code", "note_params", "error_code", "error_params"):
        data.pop(private, None)
    for path_field, url_field in FILE_FIELDS:
        data[url_field] = ctx.guard.links.api_url(root_url(request), record.owner, data.pop(path_field))
    data["download_name"] = download_name(record, registry=ctx.registry) if record.video_path else None
    data["remote_url"] = shareable_url(record.remote_url)
    if blind_letter is not None:
        data = masked(data, blind_letter, record.group_id, blind_names(ctx, record))
    return data


def file_answer(url: str | None, name: str) -> dict[str, Any] | None:
    """A file as a named endpoint returns it: Gradio's file object with the signed URL
    (media_links.api_url) as both its `path` and `url` and `name` as its name. Gradio passes
    an http URL through without copying it into its cache, so no server path is ever sent;
    gradio_client fetches it as file=<path>, which the gate serves by its signature. The
    event needs postprocess=False (a gr.File would take the URL for a file to download)."""
    if url is None:
        return None
    return gr.FileData(path=url, url=url, orig_name=name, mime_type="video/mp4").model_dump()


def video_file(record: JobRecord, ctx: Context, request: gr.Request) -> dict[str, Any] | None:
    """The finished video of a generate endpoint, under its download name."""
    name = download_name(record, registry=ctx.registry)
    return file_answer(ctx.guard.links.api_url(root_url(request), record.owner, record.video_path, name), name)


def _fail(error: StudioError) -> gr.Error:
    return gr.Error(error.message, print_exception=False)


def api_params(ctx: Context, kind: Kind) -> dict[str, ParamSpec]:
    """Every option a model of this kind takes, in first-seen order with the seed last: the
    endpoint's parameters beyond prompt, model, image and fit_image."""
    found = controls.option_params(ctx.registry, kind)
    for spec in ctx.registry.models(kind):
        seed = spec.param(controls.SEED)
        if seed is not None:
            found[controls.SEED] = seed
            break
    return found


def _generate(ctx: Context, kind: Kind, params: dict[str, ParamSpec]) -> Any:
    """The endpoint's handler. Gradio reads the API's parameters, their defaults and types
    from the handler's signature (gr.api), so the signature is rewritten to name every
    option (default None) and, for image-to-video, `fit_image` last; Gradio passes them
    positionally, in that order."""
    studio, settings, registry = ctx.studio, ctx.settings, ctx.registry
    names = [*params, *(["fit_image"] if kind == "i2v" else [])]

    async def generate(
        request: gr.Request, prompt: str, model: str = "", image: gr.FileData | None = None, *values: Any
    ) -> Any:
        # The inputs arrive as sent (gr.api: no preprocessing): text as the caller typed it,
        # the image as Gradio's file data, which counts only from Gradio's upload folder.
        given = dict(zip(names, values, strict=False))
        fit_image = given.pop("fit_image", False)
        owner = owners.owner_for_api(settings, request)
        chosen = _text(model).strip() or controls.default_model(registry, kind, ctx.readiness(None))
        try:
            generation = rules.build_request(
                registry,
                kind,
                chosen,
                _text(prompt),
                {name: None if value is None else str(value) for name, value in given.items()},
                controls.uploaded_path(image),
                _flag(fit_image),
                only_accepted=False,
            )
            record = await studio.submit(owner, generation, quota_key=owners.quota_key(settings, request))
        except StudioError as error:
            raise _fail(error) from None
        final = record
        async for update in studio.updates(owner, record.id):
            final = update
            if not update.terminal:
                yield None, await public_record(update, ctx, request)
        if final.state != "succeeded":
            reason = final.error_message or f"The job ended as {final.state}."
            raise gr.Error(f"Job {final.id} {final.state}: {reason}", print_exception=False)
        yield video_file(final, ctx, request), await public_record(final, ctx, request)

    default = controls.default_model(registry, kind, ctx.readiness(None))
    hints = {name: _hint(param) for name, param in params.items()}
    if kind == "i2v":
        hints["fit_image"] = bool
    signature = inspect.signature(generate)
    fixed = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    fixed = [p.replace(default=default) if p.name == "model" else p for p in fixed]
    named = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False if name == "fit_image" else None,
                          annotation=hint)
        for name, hint in hints.items()
    ]
    generate.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*fixed, *named], return_annotation=tuple[gr.FileData | None, dict]
    )
    generate.__annotations__.update(hints)  # gr.api reads the types with typing.get_type_hints
    return generate


def _hint(param: ParamSpec) -> Any:
    # Every option may arrive as text on purpose: '121' and 121 are both whole numbers, and
    # validation refuses '1.5' or 'abc' by name instead of a type error without one.
    if param.type is int:
        return int | str | None
    if param.type is bool:
        return bool | str | None
    return str | None


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def render_and_wire(ctx: Context, demo: gr.Blocks) -> None:
    """The named endpoints as typed functions (gr.api): no hidden components on the page.
    The generate endpoints take clean keyword parameters, one per option the models take
    (from their ParamSpecs), with a file upload (gradio_client's handle_file) for `image`."""
    studio, settings = ctx.studio, ctx.settings
    for kind, name in (("t2v", "text_to_video"), ("i2v", "image_to_video")):
        kind_ = cast(Kind, kind)
        params = api_params(ctx, kind_)
        handler = _generate(ctx, kind_, params)
        numbers = ", ".join(n for n, p in params.items() if p.type is int)
        dependency = gr.api(
            handler,
            api_name=name,
            api_description=(
                f"{controls.KIND_WORDS[kind]}: streams the job record, ends with (video, job). "
                f"{numbers} are whole numbers (121 or '121'); leave empty what the model does not take."
            ),
            concurrency_limit=None,
        )
        # gr.api skips each component's pre- and postprocessing (a worker-thread round trip
        # per input and per streamed update): the handler takes and gives raw values (the
        # video as a file object naming its signed URL: video_file, no server path).
        names = [p for p in inspect.signature(handler).parameters if p != "request"]
        gradio_internals.label_api_inputs(dependency, demo, names)

    async def job(job_id: str, request: gr.Request) -> dict:
        """One of your jobs by id, as JSON (state, queue_position, seed, timings, video_url…)."""
        owner = owners.owner_for_api(settings, request)
        record = await studio.get(owner, job_id)
        if record is None:
            raise gr.Error(f"Job: no job '{job_id}' in your history.", print_exception=False)
        return await public_record(record, ctx, request)

    async def cancel(job_id: str, request: gr.Request) -> dict:
        """Cancel a job at the provider. If it can no longer be cancelled, `note` says so."""
        try:
            owner = owners.owner_for_api(settings, request)
            record = await studio.cancel(owner, job_id)
        except StudioError as error:
            raise _fail(error) from None
        return await public_record(record, ctx, request)

    async def history(
        request: gr.Request,
        cursor: str = "",
        limit: int = 24,
        provider: str = "",
        model: str = "",
        state: str = "",
        text: str = "",
    ) -> dict:
        """Your jobs, newest first. Pass `next_cursor` back as `cursor` for the next page."""
        query = HistoryQuery(
            limit=max(1, min(int(limit), 200)),
            before=cursor or None,
            provider=provider or None,
            model=model or None,
            state=state or None,
            text=text or None,
        )
        try:
            page = await studio.history(owners.owner_for_api(settings, request), query)
        except (StudioError, ValueError) as error:
            raise gr.Error(
                getattr(error, "message", None) or f"cursor: not a cursor from /history ({error})."
            ) from None
        return {
            "items": await public_records(page.items, ctx, request),
            "next_cursor": page.next_cursor,
            "total": page.total,
        }

    async def spend(request: gr.Request) -> dict:
        """What you have spent, from the studio's spend ledger (USD): today_usd, month_usd,
        total_usd, refunded_usd, by_provider, by_model, jobs. A local run sees everything."""
        return await studio.spend(spend_panel.scope(owners.owner_for_api(settings, request)))

    for fn, name in ((job, "job"), (cancel, "cancel"), (history, "history"), (spend, "spend")):
        gr.api(fn, api_name=name, concurrency_limit=None)
