"""The price of exactly this run, next to Generate, and what is left of any budget.

Asks the studio (a WaveSpeedAI quote when a key is at hand, else the catalog; an estimate
where the provider publishes no price) whenever the model, an option or the keys change,
and re-reads the budget while jobs run. Self-contained: `render()` where the line goes,
`wire()` with the form it prices.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import gradio as gr

from jobs.limits import Budget
from providers import catalog
from providers.base import StudioError
from providers.money import Price, catalog_price
from ui import controls, owners
from ui.session import PRIVATE, Context, Session

if TYPE_CHECKING:
    from ui.generate_panel import GeneratePanel

SOURCE_WORDS = {
    "quote": "{provider}'s quote for this run",
    "catalog": "{provider}'s published price",
    "estimate": "{provider} publishes no price for this run: counted at its highest known price",
}


def price_html(spec: catalog.ModelSpec, price: Price, budget: Budget | None = None) -> str:
    if spec.provider == "simulator" or price.usd == 0:
        text, title = "This video: free (offline simulator)", ""
    else:
        text = f"This video: {price.words()}"
        title = SOURCE_WORDS[price.source].format(provider=spec.provider_label)
    left = budget.words() if budget else ""
    parts = [
        f'<span class="price-now" style="font-weight:600" data-usd="{price.usd:.4f}" data-source="{price.source}">{html.escape(text)}</span>'
    ]
    if left:
        parts.append(f'<span class="price-left">{html.escape(left)}</span>')
    return f'<div class="price-line" title="{html.escape(title)}">{" · ".join(parts)}</div>'


def initial_html(kind: str, ctx: Context) -> str:
    """Before the page has asked: the catalog's figure for the form's first model."""
    spec = catalog.get_model(controls.default_model(kind, ctx.readiness(None)))  # type: ignore[arg-type]
    return price_html(spec, catalog_price(spec, {k: v for k, v in spec.defaults().items() if k != "seed"}))


def render(kind: str, ctx: Context) -> gr.HTML:
    return gr.HTML(initial_html(kind, ctx), elem_id=f"{kind}-price", elem_classes="price-holder")


def wire(panel: GeneratePanel, line: gr.HTML, ctx: Context, session: Session) -> None:
    studio, settings = ctx.studio, ctx.settings

    async def show(model: str, owner: str | None, keys: Any, request: gr.Request, **values: Any) -> Any:
        try:
            spec = catalog.get_model(model)
            options = controls.form_options(spec, values)
            options.pop("seed", None)
            price = await studio.price(spec.id, options, keys)
        except (StudioError, ValueError, TypeError):
            return gr.skip()  # an option mid-change: the form's own check will name it
        budget = None
        if owner:
            budget = await studio.budget(owner, owners.quota_key(settings, request))
        return price_html(spec, price, budget)

    inputs = {"model": panel.model, "owner": session.owner, "keys": session.keys, **panel.options()}
    gr.on(
        [
            panel.model.change,
            *(component.change for component in panel.options().values()),
            session.keys.change,
            session.owner.change,
            session.timer.tick,
        ],
        show,
        inputs_kwargs=inputs,
        outputs=[line],
        show_progress="hidden",
        trigger_mode="always_last",
        **PRIVATE,
    )
