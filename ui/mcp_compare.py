"""The MCP tool compare_models: one prompt (and image) sent at once to 2-6 videos, several
models or several takes of one, through the comparison engine (jobs/groups.py): checked
whole (a refusal names the model and the field), priced and reserved whole against the
money limits, or refused whole with nothing sent. It returns at once; each member is an
ordinary job the agent follows with get_job."""

from __future__ import annotations

import inspect
from typing import Any

import gradio as gr

from jobs.group_blind import names_hidden
from jobs.groups import CompareRequest
from providers.base import ValidationError
from ui import mcp_views as views
from ui.session import Context


def _models(value: Any) -> tuple[str, ...]:
    """A list of model ids, or one string of them separated by commas."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return tuple(str(item).strip() for item in items if str(item).strip())


def compare_models(ctx: Context, image_doc: str, fit_doc: str) -> Any:
    studio, registry = ctx.studio, ctx.registry
    options = views.option_params(ctx)

    async def compare_models(*args: Any) -> str:
        async with views.tool_call(ctx, signature, args) as call:
            given = call.given
            models = _models(given.get("models"))
            if not models:
                raise ValidationError("models", "models: give 2 to 6 model ids (or one model with takes).")
            specs = [registry.model(model) for model in models]
            image = await call.prepare(specs)
            takes = given.get("takes")
            compare = CompareRequest(
                kind=specs[0].kind,
                prompt=str(given.get("prompt") or ""),
                models=models,
                takes=1 if takes is None else takes,
                seed=given.get("seed"),
                image=image,
                fit_image=bool(given.get("fit_image")),
                options={name: given.get(name) for name in options if name != "seed"},
                blind=bool(given.get("blind")),
            )
            group = await studio.compare(call.owner, compare, call.keys, quota_key=call.quota_key)
        hidden = names_hidden(group.group)
        found = iter(await views.job_views([job for job in group.jobs if job], ctx, call.request))
        members = []
        for member, job in zip(group.group.members, group.jobs, strict=True):
            view: dict[str, Any] = next(found) if job else {"job_id": None}
            view["take"] = member.take
            if not hidden:  # a cell's own price (and a refusal naming its model) says which model it is
                view.update(price_usd=member.price_usd, price_source=member.price_source)
                if member.error:
                    view["error"] = member.error
            elif member.error:
                view["error"] = "This member was refused; the comparison's pick shows why."
            members.append(view)
        return views.to_json(
            {
                "group_id": group.group.id,
                "blind": group.group.blind,
                "members": members,
                "total_price_usd": round(sum(m.price_usd for m in group.group.members), 4),
                "poll_after_seconds": views.POLL_SECONDS,
            }
        )

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = views.set_signature(
        compare_models,
        ctx,
        [
            inspect.Parameter("request", positional, annotation=gr.Request),
            inspect.Parameter("prompt", positional, annotation=str),
            inspect.Parameter("models", positional, annotation=list[str]),
            inspect.Parameter("takes", positional, default=1, annotation=int),
            inspect.Parameter("image", positional, default="", annotation=str),
            inspect.Parameter("fit_image", positional, default=False, annotation=bool),
            inspect.Parameter("blind", positional, default=False, annotation=bool),
        ],
    )
    doc = "\n".join(
        [
            "Compare models: send one prompt (and image) to several models, or several takes of one "
            "model with different seeds, all at once (2 to 6 videos), and return at once.",
            "Follow each member with get_job. The whole comparison is priced and checked against the "
            "money limits before anything is sent: it runs whole or is refused whole.",
            f"Provider keys: the server's, or yours in a request header ({views.header_doc(ctx)}).",
            "",
            "Args:",
            "    prompt: What the videos show, in any language, at most 800 characters.",
            "    models: The model ids to compare, all text-to-video or all image-to-video (see "
            f"generate_video's model or list_models). {views.models_doc(ctx)}.",
            "    takes: Videos per model, 1 to 6 (models x takes must be 2 to 6); takes of one model "
            "get different seeds.",
            f"    image: {image_doc}",
            f"    fit_image: {fit_doc}",
            "    blind: If true, hide which model made which video (in every answer, here and on the page) "
            "until a winner is picked on the page: members are 'Model A', 'Model B'... in shuffled order.",
            *[
                line.replace("optional;", "optional, for every chosen model that takes it;", 1)
                if not line.lstrip().startswith("seed:")
                else "    seed: Seed: optional; one seed for the first take of every model (later takes add "
                "1, 2, ...); empty or -1 for random. A whole number -1 to 2147483647."
                for line in views.option_lines(ctx)
            ],
            "",
            "Returns:",
            "    A JSON object: group_id, blind, members (each as get_job returns it, with take, and "
            "price_usd and price_source unless blind), total_price_usd, poll_after_seconds.",
        ]
    )
    return views.documented(compare_models, doc)
