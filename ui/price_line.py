"""The price of exactly this run, next to Generate, and what is left of any budget.

Asks the studio (a WaveSpeedAI quote when a key is at hand, else the catalog; an estimate
where the provider publishes no price) whenever the model, an option or the keys change,
and re-reads the budget while jobs run. Self-contained: `render()` where the line goes,
`wire()` with the form it prices.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, cast

import gradio as gr

from jobs.limits import Budget
from jobs.settings import Settings
from providers.base import StudioError
from providers.catalog import ModelSpec
from providers.money import Price, catalog_price
from ui import controls, owners
from ui.i18n import DEFAULT, lang_of, name_text, text, usd_text
from ui.session import PRIVATE, Context, Session

if TYPE_CHECKING:
    from ui.generate_panel import GeneratePanel

def price_words(price: Price, lang: str) -> str:
    """'$0.30', or 'about $0.60 (estimate)' when the provider published no price, in `lang`."""
    amount = usd_text(price.usd, lang)
    return text(lang, "price.estimate_words", usd=amount) if price.estimated else amount


def budget_words(budget: Budget, lang: str) -> str:
    """What is left of the limits, in `lang` (Budget.words in English)."""
    parts = []
    if budget.jobs_left is not None:
        parts.append(text(lang, "budget.videos_left", count=budget.jobs_left))
    usd = [v for v in (budget.usd_left_person, budget.usd_left_server) if v is not None]
    if usd:
        parts.append(text(lang, "budget.usd_left", usd=usd_text(max(min(usd), 0), lang)))
    return " · ".join(parts)


def price_html(spec: ModelSpec, label: str, price: Price, budget: Budget | None = None, lang: str = DEFAULT) -> str:
    """`label` is the provider's name in words; the line is worded in `lang`."""
    if price.usd == 0:
        words, title = text(lang, "price.free"), ""
    else:
        words = text(lang, "price.this", price=price_words(price, lang))
        title = text(lang, f"price.{price.source}", provider=name_text(lang, label))
    left = budget_words(budget, lang) if budget else ""
    parts = [
        f'<span class="price-now" style="font-weight:600" data-usd="{price.usd:.4f}" data-source="{price.source}">{html.escape(words)}</span>'
    ]
    if left:
        parts.append(f'<span class="price-left">{html.escape(left)}</span>')
    return f'<div class="price-line" title="{html.escape(title)}">{" · ".join(parts)}</div>'


def initial_html(kind: str, ctx: Context, lang: str = DEFAULT) -> str:
    """Before the page has asked: the catalog's figure for the form's first model, in `lang`
    (a page not in English asks for it again in its language: ui/page_load.py)."""
    registry = ctx.registry
    spec = registry.model(controls.default_model(registry, kind, ctx.readiness(None)))  # type: ignore[arg-type]
    options = {k: v for k, v in spec.defaults().items() if k != "seed"}
    return price_html(spec, registry.label(spec.provider), catalog_price(spec, options, registry.models()), lang=lang)


def owner_dependent(settings: Settings) -> bool:
    """Whether a page's line can differ from initial_html once the page knows its owner: a
    limit leaves a budget to show, a server key may bring a provider's quote."""
    return settings.has_server_key or any(
        limit is not None
        for limit in (settings.max_jobs_per_hour, settings.max_usd_per_day, settings.max_usd_per_person_per_day)
    )


def render(kind: str, ctx: Context) -> gr.HTML:
    return gr.HTML(initial_html(kind, ctx), elem_id=f"{kind}-price", elem_classes="price-holder")


def wire(panel: GeneratePanel, line: gr.HTML, ctx: Context, session: Session, after_load: Any = None) -> None:
    """Wire the price line; `after_load`: the page's load (ui/page_load.py), after which the
    line is asked again where the owner can change it."""
    studio, settings, registry = ctx.studio, ctx.settings, ctx.registry

    async def show(model: str, owner: str | None, keys: Any, request: gr.Request, **values: Any) -> Any:
        lang = lang_of(request)
        try:
            spec = registry.model(model)
            generation = controls.request_from_form(registry, panel.kind, spec.id, "", values)
            options = {k: v for k, v in generation.options.items() if k != "seed"}
            price = await studio.price(spec.id, options, keys)
        except (StudioError, ValueError, TypeError):
            return gr.skip()  # an option mid-change: the form's own check will name it
        budget = None
        if owner:
            budget = await studio.budget(owner, owners.quota_key(settings, request))
        return price_html(spec, registry.label(spec.provider), price, budget, lang)

    inputs = {"model": panel.model, "owner": session.owner, "keys": session.keys, **panel.options()}
    common: dict[str, Any] = {"inputs_kwargs": inputs, "outputs": [line], "show_progress": "hidden", **PRIVATE}
    # A new page's line (initial_html) is already what the studio would say unless it is
    # owner_dependent: only then is the line asked for again once the page knows its owner.
    may_differ = owner_dependent(settings)
    gr.on(
        [
            panel.model.change,
            # Gradio adds event methods at run time, so the base `Component` type has none.
            *(cast(Any, component).change for component in panel.options().values()),
            session.keys.change,
        ],
        show,
        trigger_mode="always_last",
        **common,
    )
    if may_differ and after_load is not None:
        # The load is not queued, so the owner's `change` would wait for a later event.
        after_load.then(show, **common)
    if may_differ:
        # While jobs run, the budget left is re-read each tick (a job accepted spends from it);
        # without a limit there is no budget on the line, and a tick would only redraw it.
        session.timer.tick(show, trigger_mode="once", **common)
