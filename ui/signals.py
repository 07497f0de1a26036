"""Done signals: when a job the page follows ends, a short sound (on unless turned off; the
choice is kept in the browser's localStorage), the tab's title ("⏳ 40% · …" while jobs
run, "✓ …" when one is done) and, while the tab is in the background, a system
notification if the person allowed it (asked on a click, never on load; inside an iframe
that may not ask, the title and the sound still work).

The server's part is one hidden element the live-status look rewrites (`signal_html`: how
many jobs run, how far the furthest is, which jobs just ended); the page's part is SIGNALS_JS
(launch `js=`), which watches that element. The sound is generated here (a two-note sine
chime, no recorded asset) and played through the page's `<audio id="done-sound">`.

Gradio's timer (6.31) skips its ticks while `document.visibilityState` is not "visible", so
in a background tab the live-status look would stop and a job's end would be signalled only
when the person came back. While the tab is hidden and a job runs (or was just asked for),
SIGNALS_JS clicks a hidden button (`render_background_look`) wired to the same look, once a
second (a browser may throttle a background tab's timers further).
"""

from __future__ import annotations

import base64
import html
import io
import math
import struct
import wave
from collections.abc import Iterable
from functools import cache

import gradio as gr

from ui.i18n import DEFAULT, text

RATE = 8000  # the notes are under 2 kHz; a small file rides in the page


@cache
def chime_wav() -> bytes:
    """A 0.45 s two-note chime (E6 then A6, soft attack, exponential decay), 16-bit mono."""
    frames = bytearray()
    length = int(RATE * 0.45)
    for i in range(length):
        t = i / RATE
        sample = 0.0
        for start, freq in ((0.0, 1318.5), (0.12, 1760.0)):  # the second note starts 0.12 s in
            if t >= start:
                u = t - start
                envelope = min(1.0, u / 0.008) * math.exp(-u * 9)
                sample += 0.32 * envelope * math.sin(2 * math.pi * freq * u)
        frames += struct.pack("<h", int(max(-1.0, min(1.0, sample)) * 32767))
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(RATE)
        file.writeframes(bytes(frames))
    return out.getvalue()


def chime_uri() -> str:
    return "data:audio/wav;base64," + base64.b64encode(chime_wav()).decode("ascii")


def controls_html(lang: str = DEFAULT) -> str:
    """The sound switch, the notification button and the words the page's script shows,
    in `lang`."""
    words = {key: html.escape(text(lang, f"signal.{key}")) for key in ("done", "ended")}
    return (
        '<div id="done-signals" class="done-signals">'
        f'<button type="button" id="sound-toggle" class="signal-button" aria-pressed="true">'
        f'<span class="when-on">{html.escape(text(lang, "signal.sound_on"))}</span>'
        f'<span class="when-off">{html.escape(text(lang, "signal.sound_off"))}</span></button>'
        f'<button type="button" id="notify-ask" class="signal-button" hidden>{html.escape(text(lang, "signal.notify"))}</button>'
        f'<span id="notify-on" class="signal-note" hidden>{html.escape(text(lang, "signal.notify_on"))}</span>'
        f'<span id="notify-blocked" class="signal-note" hidden>{html.escape(text(lang, "signal.notify_blocked"))}</span>'
        f'<span id="signal-words" hidden><span data-key="done">{words["done"]}</span>'
        f'<span data-key="ended">{words["ended"]}</span></span></div>'
    )


def audio_html() -> str:
    """The element that plays the chime (drawn once; the controls are redrawn per language)."""
    return f'<audio id="done-sound" preload="auto" src="{chime_uri()}"></audio>'


def render_background_look() -> gr.Button:
    """The hidden button SIGNALS_JS clicks for a look while the tab is in the background."""
    return gr.Button("", elem_id="background-look", elem_classes="studio-signal")


def signal_html(active: int, progress: float | None, ended: Iterable[tuple[str, str]]) -> str:
    """The hidden element SIGNALS_JS watches: `active` jobs running, the furthest one's
    share done (None: unknown), and (job id, final state) of the jobs that just ended."""
    done = " ".join(f"{job_id}:{state}" for job_id, state in ended)
    share = "" if progress is None else str(round(progress * 100))
    return (
        f'<div id="job-signal" data-active="{active}" data-progress="{share}" '
        f'data-ended="{html.escape(done)}"></div>'
    )


# Runs once when the page loads (launch `js=`). Media events do not bubble: the test listens
# for the audio element's "play" in the capture phase.
SIGNALS_JS = """() => {
  const base = document.title || "Dreamina Studio";
  const announced = new Set();
  let mark = "", running = "", clearing = null, active = 0, askedUntil = 0;
  const soundOn = () => localStorage.getItem("studio.sound") !== "off";
  const show = () => { document.title = `${mark}${running}${base}`; };
  const word = (key) => document.querySelector(`#signal-words [data-key="${key}"]`)?.textContent || base;
  const settle = () => {
    // The check mark stays until the person has seen the page for a moment.
    if (!mark || document.visibilityState !== "visible" || clearing) return;
    clearing = setTimeout(() => { mark = ""; clearing = null; show(); }, 5000);
  };
  const ring = () => {
    const audio = document.getElementById("done-sound");
    if (!audio || !soundOn()) return;
    audio.currentTime = 0;
    audio.play().catch(() => {});  // no gesture on this page yet: the title still says it
  };
  const notify = (ok) => {
    if (document.visibilityState !== "hidden" || !("Notification" in window)) return;
    if (Notification.permission !== "granted") return;
    try { new Notification(word(ok ? "done" : "ended"), { body: base, tag: "dreamina-done" }); } catch (e) {}
  };
  const paint = () => {
    const sound = document.getElementById("sound-toggle");
    if (sound) sound.setAttribute("aria-pressed", String(soundOn()));
    const can = "Notification" in window;
    const state = can ? Notification.permission : "denied";
    const ask = document.getElementById("notify-ask");
    if (ask) ask.hidden = !can || state !== "default";
    const on = document.getElementById("notify-on");
    if (on) on.hidden = state !== "granted";
    const blocked = document.getElementById("notify-blocked");
    if (blocked) blocked.hidden = state !== "denied";
  };
  const read = () => {
    const el = document.getElementById("job-signal");
    if (!el) return;
    active = Number(el.dataset.active) || 0;
    const share = el.dataset.progress;
    running = active ? `⏳ ${share ? share + "% " : ""}${active > 1 ? "(" + active + ") " : ""}· ` : "";
    const ended = (el.dataset.ended || "").split(" ").filter(Boolean).map((item) => item.split(":"));
    const fresh = ended.filter(([id]) => !announced.has(id));
    if (fresh.length) {
      fresh.forEach(([id]) => announced.add(id));
      const ok = fresh.some(([, state]) => state === "succeeded");
      mark = ok ? "✓ " : "✕ ";
      if (clearing) { clearTimeout(clearing); clearing = null; }
      ring();
      notify(ok);
      settle();
    }
    show();
  };
  document.addEventListener("visibilitychange", settle);
  document.addEventListener("click", async (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target?.closest("#t2v-generate, #i2v-generate")) {
      askedUntil = Date.now() + 30000;  // the job may not be in a look yet: keep looking a while
    } else if (target?.closest("#sound-toggle")) {
      localStorage.setItem("studio.sound", soundOn() ? "off" : "on");
      paint();
      if (soundOn()) ring();
    } else if (target?.closest("#notify-ask")) {
      // Asked only here, on a click. Inside a cross-origin iframe the browser refuses.
      try { await Notification.requestPermission(); } catch (e) {}
      paint();
    }
  });
  setInterval(() => {
    // Gradio's timer is paused in a hidden tab: look from here while a job may be running.
    if (document.visibilityState !== "hidden" || (!active && Date.now() > askedUntil)) return;
    const look = document.querySelector("button#background-look, #background-look button");
    if (look) look.click();
  }, 1000);
  new MutationObserver(() => { paint(); read(); }).observe(document.body, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-active", "data-ended"],
  });
  paint();
}"""

CSS = """
.studio-signal { display: none !important; }
.done-signals { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; font-size: 0.8rem; }
.signal-button { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 2px 10px;
  background: var(--background-fill-secondary); color: var(--body-text-color); cursor: pointer;
  font-weight: 400; font-size: 0.8rem; }
#sound-toggle[aria-pressed="false"] { text-decoration: line-through; }
#sound-toggle[aria-pressed="true"] .when-off, #sound-toggle[aria-pressed="false"] .when-on { display: none; }
.signal-note { color: var(--body-text-color-subdued); }
"""
