"""Words and file names for jobs: status lines, details, download names. No Gradio here,
so every sentence a person reads can be tested on its own."""

from __future__ import annotations

import html
import re
import time
import unicodedata
from typing import Any

from jobs.images import megabytes
from jobs.records import JobRecord
from providers import catalog
from providers.catalog import ModelSpec, ParamSpec
from providers.registry import Registry
from ui.i18n import DEFAULT, name_text, text, text_or
from ui.stored_text import job_text

STATE_WORDS: dict[str, str] = {
    "submitting": "Sending",
    "queued": "Queued",
    "running": "Generating",
    "downloading": "Saving the video",
    "succeeded": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def state_word(state: str, lang: str = DEFAULT) -> str:
    """A job state in words ('queued' -> 'Queued'), in `lang`."""
    return text(lang, f"state.{state}") if state in STATE_WORDS else state


def spec_or_none(registry: Registry, model_id: str | None) -> ModelSpec | None:
    return registry.model_or_none(model_id)


def clock(seconds: float | None) -> str:
    """12 -> '0:12', 3725 -> '1:02:05'."""
    if seconds is None:
        return "–"
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def choice_label(param: ParamSpec, value: Any) -> str:
    """How a choice reads in the form: frames carry the seconds they mean."""
    return param.choice_label(value)


def settings_line(record: JobRecord, *, registry: Registry, lang: str = DEFAULT) -> str:
    """'16:9 · 121 frames (≈5 s) · 720P' from the job's validated options (the seed has its
    own row; an on/off option reads as its label when on)."""
    spec = spec_or_none(registry, record.model)
    parts: list[str] = []
    names = [p.name for p in spec.params if p.name in record.options] if spec else list(record.options)
    for name in names:
        if name == "seed":
            continue
        value = record.options[name]
        param = spec.param(name) if spec else None
        if param is not None and param.control == "boolean":
            if value:
                parts.append(text_or(lang, f"param.{name}", param.label))
            continue
        shown = choice_label(param, value) if param else str(value)
        parts.append(text_or(lang, f"choice.{name}.{value}", shown))
    if spec and "resolution" not in record.options and spec.fixed_resolution:
        parts.append(spec.fixed_resolution)
    return " · ".join(parts) or text(lang, "details.defaults")


def model_name(model_id: str, *, registry: Registry, lang: str = DEFAULT) -> str:
    spec = spec_or_none(registry, model_id)
    if spec is None:
        return model_id
    return name_text(lang, f"{spec.label} · {spec.provider_label}")


def elapsed_seconds(record: JobRecord, now: float | None = None) -> float:
    """From pressing Generate to now, or to the end: for a video, when it was saved (the
    details' "total" measures the same span)."""
    start = record.created_at or record.submitted_at or 0.0
    end = (record.saved_at or record.finished_at) if record.terminal else None
    return max(0.0, (end or now or time.time()) - start)


def overdue_grace(eta: float) -> float:
    """How far past its estimate a job may run before it counts as slow: a quarter of the
    estimate, at least 5 s (estimates are medians of whole seconds; a job is never exact)."""
    return max(5.0, eta / 4)


def queue_words(position: int | None, lang: str = DEFAULT) -> str:
    if position is None:
        return ""
    if position <= 1:
        return " · " + text(lang, "status.next_in_queue")
    return " · " + text(lang, "status.in_queue", position=position)


def status_html(
    record: JobRecord | None,
    eta: float | None = None,
    now: float | None = None,
    *,
    registry: Registry | None = None,
    lang: str = DEFAULT,
) -> str:
    """The live status panel for one job, in `lang`."""
    if record is None:
        return f'<div class="status-card idle">{html.escape(text(lang, "status.ready"))}</div>'
    elapsed = elapsed_seconds(record, now)
    state = record.state
    headline = state_word(state, lang)
    if state == "queued":
        headline += queue_words(record.queue_position, lang)
    detail: list[str] = []
    progress = ""
    if record.active:
        detail.append(html.escape(text(lang, "status.elapsed", time=clock(elapsed))))
        if eta and not record.note:
            left = eta - elapsed
            if left >= 1:
                detail.append(html.escape(text(lang, "status.left", time=clock(left))))
            elif -left < overdue_grace(eta):
                detail.append(html.escape(text(lang, "status.almost")))
            else:
                detail.append(html.escape(text(lang, "status.slow")))
            share = min(0.97, elapsed / eta) if eta > 0 else 0.0
            progress = f'<div class="progress"><div style="width:{share * 100:.0f}%"></div></div>'
        else:
            progress = '<div class="progress indeterminate"><div></div></div>'
    elif state == "succeeded":
        headline = text(lang, "status.done_in", time=clock(elapsed))
    elif state == "cancelled":
        headline = text(lang, "state.cancelled")
    elif state == "failed":
        headline = text(lang, "status.failed")
    body = ""
    if state in ("failed", "cancelled") and record.error_message:
        said = job_text(lang, record, "error")
        body = f'<div class="status-message">{html.escape(said)}</div>'
    if record.note and record.active:
        body += f'<div class="status-note">{html.escape(job_text(lang, record, "note"))}</div>'
    meta = [html.escape(model_name(record.model, registry=registry, lang=lang) if registry else record.model)]
    if record.request_id:
        meta.append(f"{html.escape(text(lang, 'status.request_id'))} <code>{html.escape(record.request_id)}</code>")
    if record.simulated:
        meta.append(f'<span class="badge">{html.escape(text(lang, "status.simulated"))}</span>')
    detail_html = f'<span class="status-detail">{" · ".join(detail)}</span>' if detail else ""
    return (
        f'<div class="status-card state-{state}" data-state="{state}" data-job="{html.escape(record.id)}">'
        f'<div class="status-head"><strong>{html.escape(headline)}</strong>{detail_html}</div>'
        f"{progress}{body}"
        f'<div class="status-meta">{" · ".join(meta)}</div></div>'
    )


def error_html(message: str, field: str | None = None) -> str:
    """A refusal or error in a status line. `field` names the form control at fault; the
    page's CSS outlines that control while this card is shown (theme.field_error_css)."""
    mark = f' data-field="{html.escape(field)}"' if field else ""
    return (
        f'<div class="status-card state-failed refusal" role="alert"{mark}>'
        f'<div class="status-message">{html.escape(message)}</div></div>'
    )


# A number (or a size, or a ratio) as jobs/ writes it in English: '4.7', '1,234', '4.7 MB', '4.2:1'.
_ENGLISH_NUMBER = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?: (KB|MB|GB)|(:1))?")


def number_text(english: str, lang: str = DEFAULT) -> str:
    """A number as jobs/ writes it in English ('4.7 MB', '1,234', '4.2:1'), written the way
    `lang` writes numbers and sizes ('4,7 Mo', '1 234', '4,2:1' in French); any other text
    is returned as it is."""
    found = _ENGLISH_NUMBER.fullmatch(english)
    if found is None:
        return english
    whole, fraction, unit, ratio = found.groups()
    example = text(lang, "number.example")  # '1,234.5': the group mark, then the decimal mark
    words = whole.replace(",", example[1]) + (example[5] + fraction if fraction else "")
    if unit:
        words += " " + text(lang, f"unit.{unit.lower()}")
    return words + (ratio or "")


def decimal(value: float, places: int, lang: str = DEFAULT) -> str:
    """`value` with `places` decimals, written the `lang` way ('4.7'; '4,7' in French)."""
    return number_text(f"{value:.{places}f}", lang)


def size_text(size: int | None, lang: str = DEFAULT) -> str:
    """A file size as the limits are written (jobs.images.megabytes), in `lang`; '–' for none."""
    return number_text(megabytes(size), lang) if size else "–"


def details_html(record: JobRecord, *, registry: Registry, lang: str = DEFAULT) -> str:
    """The settings, the seed actually used and the timings of a job, beside its video, in
    `lang` (the prompt as it was typed)."""
    rows: list[tuple[str, str]] = [
        ("model", html.escape(model_name(record.model, registry=registry, lang=lang))),
        ("prompt", html.escape(record.prompt)),
        ("settings", html.escape(settings_line(record, registry=registry, lang=lang))),
        ("seed", f'<span class="seed-used">{record.seed}</span>' if record.seed is not None else "–"),
    ]
    if record.video_width and record.video_height:
        rows.append(
            (
                "video",
                f"{record.video_width}×{record.video_height} · "
                f"{decimal(record.video_duration or 0, 1, lang)} s · {size_text(record.video_bytes, lang)}",
            )
        )
    timings: list[str] = []
    if record.submitted_at and record.started_at:
        timings.append(text(lang, "details.waited", time=clock(record.started_at - record.submitted_at)))
    if record.started_at and record.finished_at:
        timings.append(text(lang, "details.generated", time=clock(record.finished_at - record.started_at)))
    end = record.saved_at or record.finished_at
    if end:
        timings.append(text(lang, "details.total", time=clock(end - record.created_at)))
    rows.append(("timings", html.escape(" · ".join(timings)) or "–"))
    rows.append(("made", time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created_at))))
    if record.request_id:
        rows.append(("request_id", f"<code>{html.escape(record.request_id)}</code>"))
    if record.simulated:
        rows.append(("note", html.escape(text(lang, "details.simulated"))))
    if record.state != "succeeded" and record.error_message:
        rows.append(("outcome", html.escape(job_text(lang, record, "error"))))
    body = "".join(
        f"<tr><th>{html.escape(text(lang, 'details.' + name))}</th><td>{value}</td></tr>" for name, value in rows
    )
    return f'<table class="details-table" data-job="{html.escape(record.id)}">{body}</table>'


def model_short(model_id: str, *, registry: Registry) -> str:
    """'runcomfy/bytedance/dreamina-3-0/pro/text-to-video' -> 'runcomfy-pro-t2v'; a model
    that is one resolution of a family adds it ('…-t2v-720p')."""
    spec = spec_or_none(registry, model_id)
    if spec is None:
        return "video"
    info = registry.get(spec.provider)
    parts = [info.file_tag if info else spec.provider]
    if re.search(r"(^|[/-])pro([/-]|$)", spec.path):
        parts.append("pro")
    parts.append(spec.kind)
    if "pro" not in parts and spec.fixed_resolution:
        parts.append(spec.fixed_resolution.lower())
    return "-".join(parts)


def slug(text: str, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    result = ""
    for word in words:
        candidate = f"{result}-{word}" if result else word
        if len(candidate) > limit:
            break
        result = candidate
    return result or "video"


def download_name(record: JobRecord, *, registry: Registry) -> str:
    """dreamina_<model-short>_<yyyymmdd-hhmm>_<prompt-slug>_seed<seed>.mp4"""
    stamp = time.strftime("%Y%m%d-%H%M", time.localtime(record.created_at))
    seed = f"_seed{record.seed}" if record.seed is not None else ""
    short = model_short(record.model, registry=registry)
    return f"dreamina_{short}_{stamp}_{slug(record.prompt)}{seed}.mp4"


def counter_html(count: int, limit: int = catalog.PROMPT_MAX_CHARS) -> str:
    """The prompt's character count; mirrored client-side by theme.COUNTER_JS."""
    over = " over" if count > limit else ""
    return f'<div class="char-count{over}">{count} / {limit}</div>'


def caption(record: JobRecord, *, registry: Registry, limit: int = 140) -> str:
    """A history tile's words: the prompt (up to about three lines; the rest is in the
    details) and the model's short name."""
    text = record.prompt if len(record.prompt) <= limit else record.prompt[: limit - 1].rstrip() + "…"
    return f"{text} · {model_short(record.model, registry=registry)}"
