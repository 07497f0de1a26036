"""The programmatic API: the only six public endpoints ("Use via API", gradio_client).

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

import re
from typing import Any

import gradio as gr

from jobs.records import GenerationRequest, HistoryQuery
from providers.base import Kind, StudioError
from ui import controls, owners, spend_panel
from ui.result_panel import named_video
from ui.session import Context

WHOLE_NUMBER_PARAMS = ("frames", "duration", "seed")
_WHOLE = re.compile(r"\s*([-+]?\d{1,12})(\.0*)?\s*")


def _whole_number(value: Any) -> Any:
    """'121' or '121.0' (the text fields' form of 121) -> 121; anything else unchanged, for
    the catalog to accept or refuse by name ('1.5', 'abc')."""
    match = _WHOLE.fullmatch(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else value


def _fail(error: StudioError) -> gr.Error:
    return gr.Error(error.message, print_exception=False)


def _generate(ctx: Context, kind: Kind) -> Any:
    studio, settings = ctx.studio, ctx.settings

    async def generate(
        request: gr.Request,
        prompt: str,
        model: str = "",
        image: str | None = None,
        aspect_ratio: str | None = None,
        frames: str | int | None = None,
        resolution: str | None = None,
        duration: str | int | None = None,
        seed: str | int | None = None,
        fit_image: bool = False,
    ) -> Any:
        owner = owners.owner_for_api(settings, request)
        values = {
            "aspect_ratio": aspect_ratio,
            "frames": frames,
            "resolution": resolution,
            "duration": duration,
            "seed": seed,
        }
        generation = GenerationRequest(
            kind=kind,
            model=(model or "").strip() or controls.default_model(kind, ctx.readiness(None)),
            prompt=prompt or "",
            options={
                name: _whole_number(value) if name in WHOLE_NUMBER_PARAMS else value
                for name, value in values.items()
                if value not in (None, "")
            },
            image=image or None,
            fit_image=bool(fit_image),
        )
        try:
            record = await studio.submit(owner, generation, quota_key=owners.quota_key(settings, request))
        except StudioError as error:
            raise _fail(error) from None
        final = record
        async for update in studio.updates(owner, record.id):
            final = update
            if not update.terminal:
                yield None, update.to_dict()
        if final.state != "succeeded":
            reason = final.error_message or f"The job ended as {final.state}."
            raise gr.Error(f"Job {final.id} {final.state}: {reason}", print_exception=False)
        video = named_video(final)
        yield (str(video) if video else None), final.to_dict()

    return generate


def render_and_wire(ctx: Context) -> None:
    """Hidden inputs give the generate endpoints clean keyword parameters with a file
    upload for `image`; the JSON endpoints are typed functions (gr.api)."""
    studio, settings = ctx.studio, ctx.settings
    for kind, name in (("t2v", "text_to_video"), ("i2v", "image_to_video")):
        with gr.Column(visible=False):
            # Numbers arrive as text fields and the image as a plain file on purpose: Gradio's
            # Number would round 1.5 to 2 (and crash on 'abc'), and its Image would open the
            # upload with Pillow before the handler; the catalog and the image preflight
            # refuse such values by name instead.
            fields = {
                "prompt": gr.Textbox(label="prompt"),
                "model": gr.Textbox(controls.default_model(kind, ctx.readiness(None)), label="model"),  # type: ignore[arg-type]
                "image": gr.File(None, type="filepath", label="image"),
                "aspect_ratio": gr.Textbox(None, label="aspect_ratio"),
                "frames": gr.Textbox(None, label="frames"),
                "resolution": gr.Textbox(None, label="resolution"),
                "duration": gr.Textbox(None, label="duration"),
                "seed": gr.Textbox(None, label="seed"),
            }
            if kind == "i2v":
                # Accept the preflight's offer: scale, crop or convert instead of refusing.
                fields["fit_image"] = gr.Checkbox(False, label="fit_image")
            video = gr.File(label="video")
            job = gr.JSON(label="job")
            trigger = gr.Button(name)
        trigger.click(
            _generate(ctx, kind),  # type: ignore[arg-type]
            inputs_kwargs=fields,
            outputs=[video, job],
            api_name=name,
            api_description=(
                f"{controls.KIND_WORDS[kind]}: streams the job record, ends with (video, job). "
                "frames, duration and seed are whole numbers (121 or '121'); leave empty what the model "
                "does not take."
            ),
            concurrency_limit=None,
        )

    async def job(job_id: str, request: gr.Request) -> dict:
        """One of your jobs by id, as JSON (state, queue_position, seed, timings, video_path…)."""
        record = await studio.get(owners.owner_for_api(settings, request), job_id)
        if record is None:
            raise gr.Error(f"Job: no job '{job_id}' in your history.", print_exception=False)
        return record.to_dict()

    async def cancel(job_id: str, request: gr.Request) -> dict:
        """Cancel a job at the provider. If it can no longer be cancelled, `note` says so."""
        try:
            record = await studio.cancel(owners.owner_for_api(settings, request), job_id)
        except StudioError as error:
            raise _fail(error) from None
        return record.to_dict()

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
            "items": [r.to_dict() for r in page.items],
            "next_cursor": page.next_cursor,
            "total": page.total,
        }

    async def spend(request: gr.Request) -> dict:
        """What you have spent, from the studio's spend ledger (USD): today_usd, month_usd,
        total_usd, refunded_usd, by_provider, by_model, jobs. A local run sees everything."""
        return await studio.spend(spend_panel.scope(owners.owner_for_api(settings, request)))

    for fn, name in ((job, "job"), (cancel, "cancel"), (history, "history"), (spend, "spend")):
        gr.api(fn, api_name=name, concurrency_limit=None)
