"""The comparison endpoints: `/compare` and `/group` (jobs/groups.py does the work).

    video, group = client.predict(
        prompt="A paper boat in the rain",
        models=["runcomfy/bytedance/dreamina-3-0/pro/text-to-video",
                "wavespeed/bytedance/dreamina-v3.0/text-to-video-720p",
                "simulator/dreamina-3-0/text-to-video"],
        seed=42, aspect_ratio="16:9", api_name="/compare")
    client.predict(group_id=group["id"], api_name="/group")

`blind=True` hides which model made which member (in every answer, as on the page) until
a pick is made on the page. `/compare` streams each member's job record as it changes (as
`(None, record)`), and ends with the side-by-side MP4 of the finished members (None with fewer than two) and the group
record: `{"id", "prompt", "members", "jobs": [job records, each with "group_id"], "price_usd",
"pick", "poster_url", "side_by_side_url", ...}`. Bad input is refused before anything is
billed, naming the model and the field; a group over a money limit is refused whole.
"""

from __future__ import annotations

import inspect
from typing import Any

import gradio as gr

from jobs.group_blind import letter_of, names_hidden
from jobs.group_plan import CompareRequest
from jobs.group_views import GroupView
from jobs.records import JobRecord
from providers.base import Kind, StudioError, ValidationError
from ui import api, controls, gradio_internals, owners
from ui.api import file_answer, root_url
from ui.session import Context

SHARED_NAMES = ("aspect_ratio", "frames", "duration", "resolution")


def option_names(ctx: Context) -> list[str]:
    """The shared options the endpoint takes: every option name a model declares (the seed
    has its own parameter), the issue's four first."""
    found = dict.fromkeys(n for n in SHARED_NAMES if any(spec.accepts(n) for spec in ctx.registry.models()))
    for kind in ("t2v", "i2v"):
        found.update(dict.fromkeys(controls.option_params(ctx.registry, kind)))  # type: ignore[arg-type]
    return list(found)


async def public_group(
    view: GroupView, ctx: Context, request: gr.Request, side_by_side: str | None = None
) -> dict[str, Any]:
    """A group as the API answers it: no owner, no paths (signed URLs), its members' job
    records in grid order (api.public_records masks a blind group's)."""
    group = view.group
    data = group.to_dict()
    for private in ("owner", "poster_path", "side_by_side_path", "side_by_side_jobs"):
        data.pop(private, None)
    data["price_usd"] = group.price_usd
    hidden = data["names_hidden"] = names_hidden(group)
    records = iter(await api.public_records([job for job in view.jobs if job], ctx, request))
    data["jobs"] = [next(records) if job else None for job in view.jobs]
    if hidden:  # a blind group names no model until its pick, here as on the page
        data["members"] = [
            {**_member_facts(member), "blind_name": f"Model {letter_of(group, member['job_id'])}"}
            for member in data["members"]
        ]
    root = root_url(request)
    data["poster_url"] = ctx.guard.links.api_url(root, group.owner, group.poster_path)
    data["side_by_side_url"] = ctx.guard.links.api_url(root, group.owner, side_by_side) if side_by_side else None
    return data


def _member_facts(member: dict[str, Any]) -> dict[str, Any]:
    """A blind member's entry without its model, or its own options and price (which can say it)."""
    return {k: v for k, v in member.items() if k not in ("model", "options", "price_usd", "price_source")}


def _kind(ctx: Context, models: list[str]) -> Kind:
    for model in models:
        spec = ctx.registry.model_or_none(model)
        if spec is not None:
            return spec.kind
    return "t2v"


def _takes(raw: object) -> int:
    text = str(raw).strip() if raw not in (None, "") else "1"
    if not text.isdigit():
        raise ValidationError("takes", f"Takes: a whole number from 1 to 6; got {raw!r}.")
    return int(text)


def _flag(raw: object, field: str) -> bool:
    """A yes/no parameter: a boolean, or 'true'/'false' (also 1/0, yes/no) as text."""
    if isinstance(raw, bool) or raw is None:
        return bool(raw)
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValidationError(field, f"{field.replace('_', ' ').capitalize()}: true or false; got {raw!r}.")


def _models(raw: object) -> list[str]:
    if isinstance(raw, str):
        return [m.strip() for m in raw.split(",") if m.strip()]
    return [str(m).strip() for m in (raw or []) if str(m).strip()]  # type: ignore[attr-defined]


def _compare(ctx: Context, names: list[str]) -> Any:
    studio, settings = ctx.studio, ctx.settings

    async def compare(
        request: gr.Request,
        prompt: str,
        models: list[str] | str | None = None,
        takes: int | str = 1,
        seed: int | str | None = None,
        image: gr.FileData | None = None,
        fit_image: bool | str = False,
        blind: bool | str = False,
        *values: Any,
    ) -> Any:
        owner = owners.owner_for_api(settings, request)
        chosen = _models(models)
        options = dict(zip(names, values, strict=False))
        try:
            asked = CompareRequest(
                kind=_kind(ctx, chosen),
                prompt=prompt or "",
                models=tuple(chosen),
                takes=_takes(takes),
                seed=seed,
                image=controls.uploaded_path(image),
                fit_image=_flag(fit_image, "fit_image"),
                options={k: v for k, v in options.items() if v not in (None, "")},
                blind=_flag(blind, "blind"),
            )
            started = await studio.compare(owner, asked, quota_key=owners.quota_key(settings, request))
        except StudioError as error:
            raise gr.Error(error.message, print_exception=False) from None
        final: dict[str, JobRecord] = {}
        async for update in studio.group_updates(owner, started.group.id):
            final[update.id] = update
            yield None, await api.public_record(update, ctx, request)
        view = await studio.group(owner, started.group.id)
        assert view is not None
        video = None
        if len(view.succeeded) >= 2:
            path = await studio.export_side_by_side(owner, view.group.id)
            name = f"dreamina-compare_{view.group.id}.mp4"
            video = file_answer(ctx.guard.links.api_url(root_url(request), owner, str(path), name), name)
            view = await studio.group(owner, view.group.id) or view
        yield video, await public_group(view, ctx, request, view.group.side_by_side_path)

    # gr.api reads the parameters, defaults and types from the signature: every shared
    # option after the fixed ones (default None), passed positionally in that order.
    hint = str | int | None
    signature = inspect.signature(compare)
    fixed = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    named = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=hint)
             for name in names]
    compare.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*fixed, *named], return_annotation=tuple[gr.FileData | None, dict]
    )
    compare.__annotations__.update(dict.fromkeys(names, hint))  # read with typing.get_type_hints
    return compare


def render_and_wire(ctx: Context, demo: gr.Blocks) -> None:
    """/compare and /group as typed functions (gr.api): /compare's keyword parameters are a
    list of model ids, a file for the image (handle_file), and every option, which may be
    text so that validation names a bad one."""
    studio, settings = ctx.studio, ctx.settings
    handler = _compare(ctx, option_names(ctx))
    dependency = gr.api(
        handler,  # the handler returns the file object itself (api.file_answer): no server path
        api_name="compare",
        api_description=(
            "One prompt on 2-6 models (and/or takes) at once: streams each member's job record, ends with "
            "(side-by-side video, group). Shared options apply to every chosen model that takes them."
        ),
        concurrency_limit=None,
    )
    names = [p for p in inspect.signature(handler).parameters if p != "request"]
    gradio_internals.label_api_inputs(dependency, demo, names)

    async def group(group_id: str, request: gr.Request) -> dict:
        """One of your comparisons by id: its members' job records, prices, pick and files."""
        owner = owners.owner_for_api(settings, request)
        view = await studio.group(owner, group_id)
        if view is None:
            raise gr.Error(f"Comparison: no comparison '{group_id}' in your history.", print_exception=False)
        path = view.group.side_by_side_path
        return await public_group(view, ctx, request, path if view.group.side_by_side_jobs else None)

    gr.api(group, api_name="group", concurrency_limit=None)
