"""The comparison grid's words (in the request's language) and its synced playback: each cell's head (model, provider,
state, queue position, elapsed time, then time to result and price), the grid's summary,
and the browser code that makes one play/pause/seek/loop/mute drive every cell's video.

Pure formatting here (no Gradio events): ui/compare_tab.py renders and wires the cells.
"""

from __future__ import annotations

import html
import time

from jobs.group_blind import letter_of, names_hidden
from jobs.group_store import GroupRecord, Member
from jobs.group_views import GroupView
from jobs.records import JobRecord
from providers.base import StudioError
from providers.registry import Registry
from ui.format import state_word
from ui.i18n import DEFAULT, error_text, name_text, text, usd_text
from ui.stored_text import job_text


def seconds_words(seconds: float, lang: str = DEFAULT) -> str:
    whole = max(0, round(seconds))
    if whole < 60:
        return text(lang, "compare.seconds", seconds=whole)
    return text(lang, "compare.minutes", minutes=whole // 60, seconds=f"{whole % 60:02d}")


def usd_words(usd: float, source: str, lang: str = DEFAULT) -> str:
    if usd == 0:
        return text(lang, "compare.free")
    words = usd_text(usd, lang)
    return text(lang, "compare.about", usd=words) if source == "estimate" else words


def cell_names(registry: Registry, group: GroupRecord, index: int, lang: str = DEFAULT) -> tuple[str, str]:
    """(model, provider) as the cell shows them; a letter and nothing while blind."""
    member = group.members[index]
    if names_hidden(group):
        return text(lang, "compare.blind_name", letter=letter_of(group, member.job_id)), ""
    spec = registry.model_or_none(member.model)
    if spec is None:
        return member.model, ""
    return name_text(lang, spec.label), name_text(lang, spec.provider_label)


def cell_head(
    registry: Registry,
    group: GroupRecord,
    index: int,
    job: JobRecord | None,
    now: float | None = None,
    lang: str = DEFAULT,
) -> str:
    """One cell's head as HTML, in `lang`: names, state, timings, price; why it failed."""
    now = time.time() if now is None else now
    member: Member = group.members[index]
    model, provider = cell_names(registry, group, index, lang)
    state = job.state if job is not None else ("failed" if member.error else "submitting")
    facts = [state_word(state, lang)]
    if job is not None and job.state == "queued" and job.queue_position:
        facts[0] += " · " + text(lang, "compare.in_line", position=job.queue_position)
    if job is not None and job.active:
        facts.append(text(lang, "compare.so_far", time=seconds_words(now - job.created_at, lang)))
    if job is not None and job.state == "succeeded" and job.finished_at:
        facts.append(text(lang, "compare.to_result", time=seconds_words(job.finished_at - job.created_at, lang)))
    if not names_hidden(group):  # a price would say which model it is (the form listed them)
        facts.append(usd_words(member.price_usd, member.price_source, lang))
    mark = html.escape(text(lang, "compare.pick_mark"))
    picked = f' <span class="compare-pick-mark">{mark}</span>' if group.pick == member.job_id else ""
    why = member_error_text(member, lang)
    if not why and job is not None and job.state in ("failed", "cancelled"):
        why = job_text(lang, job, "error")
    error = f'<div class="compare-error">{html.escape(why)}</div>' if why else ""
    take = " · " + text(lang, "compare.take", number=member.take) if group.takes > 1 else ""
    seed = ""
    if member.seed is not None and not names_hidden(group):
        seed = " · " + text(lang, "compare.seed_is", seed=member.seed)
    return (
        f'<div class="compare-head" data-state="{html.escape(state)}" data-index="{index}">'
        f'<div class="compare-model"><b>{html.escape(model)}</b>{picked}</div>'
        f'<div class="compare-provider">{html.escape(provider + take + seed)}</div>'
        f'<div class="compare-facts">{html.escape(" · ".join(facts))}</div>{error}</div>'
    )


def member_error_text(member: Member, lang: str = DEFAULT) -> str:
    """Why a member never became a job, in `lang` (its English words where no code says it)."""
    if not member.error:
        return ""
    return error_text(lang, StudioError(member.error, code=member.error_code, **member.error_params))


def summary(registry: Registry, current: GroupView, lang: str = DEFAULT) -> str:
    """The grid's title line, in `lang`: how many finished, the group's price, blind mode."""
    group = current.group
    done = sum(1 for job in current.jobs if job is not None and job.terminal) + sum(
        1 for job, m in zip(current.jobs, group.members, strict=True) if job is None and m.error
    )
    total = len(group.members)
    finished = "compare.finished_some" if done < total else "compare.finished_all"
    words = [text(lang, finished, done=done, total=total)]
    words.append(text(lang, "compare.group_price", usd=usd_text(group.price_usd, lang)))
    if names_hidden(group):
        words.append(text(lang, "compare.blind_note"))
    elif group.pick and group.pick in group.job_ids:
        index = group.job_ids.index(group.pick)
        words.append(text(lang, "compare.pick_is", model=cell_names(registry, group, index, lang)[0]))
    prompt = group.prompt if len(group.prompt) <= 90 else group.prompt[:89] + "…"
    return (
        f'<div id="compare-summary" data-finished="{str(current.finished).lower()}">'
        f"<b>{html.escape(prompt)}</b><br>{html.escape(' · '.join(words))}</div>"
    )


# The grid's own rules (a <style> in the tab: Gradio scopes launch CSS, not this).
STYLE = """<style>
#compare-grid { flex-wrap: wrap; gap: 10px; }
#compare-grid > .compare-cell { flex: 0 1 calc(33.3% - 10px) !important; min-width: 210px !important; }
.compare-head { font-size: 0.9em; line-height: 1.35; min-height: 4.2em; }
.compare-head[data-state=failed] .compare-facts, .compare-error, .compare-price.refused { color: var(--error-text-color); }
.compare-pick-mark { color: var(--color-accent); font-weight: 600; }
#compare-controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; }
#compare-controls button { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 4px 12px;
  background: var(--button-secondary-background-fill); font-weight: 600; }
#compare-seek { flex: 1 1 160px; }
#compare-controls .compare-icon { display: inline-block; vertical-align: -1px; margin-right: 4px; }
table.compare-tally { width: 100%; border-collapse: collapse; font-size: 0.9em; }
table.compare-tally th, table.compare-tally td { padding: 4px 8px; border-bottom: 1px solid var(--border-color-primary); text-align: left; }
</style>"""

# Drawn, not typed: U+23F8 (pause) is in no font a stock Linux Chromium has (a "tofu" box).
_ICON = '<svg class="compare-icon" viewBox="0 0 10 10" width="10" height="10" aria-hidden="true">{}</svg>'
PLAY_ICON = _ICON.format('<path d="M1.5 0.5 L9 5 L1.5 9.5 Z" fill="currentColor"/>')
PAUSE_ICON = _ICON.format(
    '<rect x="1" y="0.5" width="3" height="9" fill="currentColor"/><rect x="6" y="0.5" width="3" height="9" fill="currentColor"/>'
)

def controls_html(lang: str = DEFAULT) -> str:
    """The bar that plays, pauses, seeks, loops and mutes every cell at once, in `lang`."""
    words = {key: html.escape(text(lang, f"compare.{key}")) for key in (
        "controls_label", "play_all", "pause_all", "seek_label", "loop", "mute")}
    return f"""
<div id="compare-controls" role="group" aria-label="{words['controls_label']}">
  <button type="button" data-compare="play">{PLAY_ICON} {words['play_all']}</button>
  <button type="button" data-compare="pause">{PAUSE_ICON} {words['pause_all']}</button>
  <input type="range" id="compare-seek" min="0" max="1000" value="0" step="1" aria-label="{words['seek_label']}">
  <label><input type="checkbox" data-compare="loop"> {words['loop']}</label>
  <label><input type="checkbox" data-compare="mute" checked> {words['mute']}</label>
</div>
"""


# Installed once per page (js_on_load of the controls): every video in #compare-grid
# follows the one a person plays, pauses or seeks (its own controls or the bar's). The
# first video to move "leads" for 400 ms, so the followers' own events (fired when they
# are moved) do not move the others back.
SYNC_JS = """
if (!window.__studioCompareSync) {
  window.__studioCompareSync = true;
  const videos = () => Array.from(document.querySelectorAll('#compare-grid video'));
  const longest = () => videos().reduce((a, v) => (!a || (v.duration || 0) > (a.duration || 0)) ? v : a, null);
  const state = { leader: null, until: 0, loop: false, muted: true };
  const lead = (v) => {
    const now = performance.now();
    if (now < state.until && v !== state.leader) return false;
    state.leader = v; state.until = now + 400; return true;
  };
  const align = (t, except) => {
    for (const v of videos()) {
      if (v === except) continue;
      const want = v.duration ? Math.min(t, Math.max(v.duration - 0.05, 0)) : t;
      if (Math.abs(v.currentTime - want) > 0.05) v.currentTime = want;
    }
  };
  const mine = (e) => e.target instanceof HTMLVideoElement && e.target.closest('#compare-grid');
  const playAll = (t) => {
    for (const v of videos()) {
      v.muted = state.muted;
      if (t !== undefined && v.duration && t < v.duration) v.currentTime = t;
      if (v.paused && (!v.duration || v.currentTime < v.duration - 0.05)) v.play().catch(() => {});
    }
  };
  document.addEventListener('play', (e) => {
    if (!mine(e) || !lead(e.target)) return;
    align(e.target.currentTime, e.target); playAll();
  }, true);
  document.addEventListener('pause', (e) => {
    if (!mine(e) || e.target.ended || !lead(e.target)) return;
    for (const v of videos()) if (v !== e.target) v.pause();
    align(e.target.currentTime, e.target);
  }, true);
  document.addEventListener('seeked', (e) => {
    if (!mine(e) || !lead(e.target)) return;
    align(e.target.currentTime, e.target);
  }, true);
  document.addEventListener('ended', (e) => {
    if (!mine(e) || !state.loop || e.target !== longest()) return;
    state.leader = e.target; state.until = performance.now() + 400;
    for (const v of videos()) v.currentTime = 0;
    playAll(0);
  }, true);
  document.addEventListener('timeupdate', (e) => {
    if (!mine(e) || e.target !== longest()) return;
    // A follower that stalled (buffering, a busy machine) is brought back into step.
    const t = e.target.currentTime;
    if (!e.target.paused) for (const v of videos()) {
      if (v !== e.target && !v.paused && !v.ended && v.duration && t < v.duration && Math.abs(v.currentTime - t) > 0.25) {
        state.leader = e.target; state.until = performance.now() + 400; v.currentTime = t;
      }
    }
    const seek = document.getElementById('compare-seek');
    if (seek && e.target.duration && document.activeElement !== seek)
      seek.value = String(Math.round(1000 * e.target.currentTime / e.target.duration));
  }, true);
  document.addEventListener('click', (e) => {
    const button = e.target.closest && e.target.closest('#compare-controls button[data-compare]');
    if (!button) return;
    const first = longest(); if (!first) return;
    state.leader = first; state.until = performance.now() + 400;
    if (button.dataset.compare === 'play') { align(first.currentTime, first); playAll(); }
    else { for (const v of videos()) v.pause(); align(first.currentTime, first); }
  });
  document.addEventListener('input', (e) => {
    if (e.target.id !== 'compare-seek') return;
    const first = longest(); if (!first || !first.duration) return;
    state.leader = first; state.until = performance.now() + 400;
    const t = first.duration * Number(e.target.value) / 1000;
    first.currentTime = t; align(t, first);
  });
  document.addEventListener('change', (e) => {
    const box = e.target.closest && e.target.closest('#compare-controls input[data-compare]');
    if (!box) return;
    if (box.dataset.compare === 'loop') state.loop = box.checked;
    if (box.dataset.compare === 'mute') { state.muted = box.checked; for (const v of videos()) v.muted = box.checked; }
  });
}
"""
