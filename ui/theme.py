"""The look: a Soft theme on system fonts (no web-font download), the studio's CSS, and the
few client-side snippets that must not wait for the server."""

from __future__ import annotations

import gradio as gr

from providers.catalog import PROMPT_MAX_CHARS, SEED_MAX


def theme() -> gr.themes.Base:
    return gr.themes.Soft(
        primary_hue="violet",
        secondary_hue="indigo",
        neutral_hue="slate",
        radius_size="md",
        font=("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"),
        font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "monospace"),
    )


# The character count runs in the browser on every keystroke (no server round trip).
# [...text] counts code points, as the server's len() does.
COUNTER_JS = f"""(prompt) => {{
  const n = [...(prompt || "")].length;
  const over = n > {PROMPT_MAX_CHARS} ? " over" : "";
  return `<div class="char-count${{over}}">${{n}} / {PROMPT_MAX_CHARS}</div>`;
}}"""

RANDOM_SEED_JS = f"() => Math.floor(Math.random() * {SEED_MAX})"

CSS = """
.gradio-container { max-width: 1320px !important; margin: 0 auto; }
#studio-header { display: flex; align-items: center; justify-content: space-between; gap: 12px;
  flex-wrap: wrap; padding: 6px 2px 2px; }
#studio-header h1 { font-size: 1.6rem; margin: 0; letter-spacing: -0.01em; display: flex;
  align-items: center; gap: 10px; }
#studio-header .tagline { color: var(--body-text-color-subdued); font-size: 0.92rem; margin-top: 2px; }
#studio-header .pill { font-size: 0.78rem; padding: 3px 10px; border-radius: 999px;
  border: 1px solid var(--border-color-primary); color: var(--body-text-color-subdued); white-space: nowrap; }
.banner { border-radius: 10px; padding: 10px 14px; font-size: 0.92rem; line-height: 1.45; }
.banner.sim { background: #eef2ff; border: 1px solid #c7d2fe; color: #3730a3; }
.banner.credits { background: #fff7ed; border: 1px solid #fed7aa; color: #9a3412; }
.dark .banner.sim { background: #1e1b4b; border-color: #3730a3; color: #c7d2fe; }
.dark .banner.credits { background: #431407; border-color: #9a3412; color: #fed7aa; }
.char-count { text-align: right; font-size: 0.8rem; color: var(--body-text-color-subdued);
  margin-top: -6px; font-variant-numeric: tabular-nums; }
.char-count.over { color: #dc2626; font-weight: 600; }
.model-facts { font-size: 0.86rem; color: var(--body-text-color-subdued); }
.model-notes { font-size: 0.82rem; color: var(--body-text-color-subdued); margin-top: 4px; }
.notice { font-size: 0.84rem; border-radius: 8px; padding: 6px 10px; margin-top: 6px;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
.notice.warn { background: #fef3c7; border-color: #fcd34d; color: #92400e; }
.notice.sim { background: #eef2ff; border-color: #c7d2fe; color: #3730a3; }
.dark .notice.warn { background: #451a03; color: #fde68a; }
.dark .notice.sim { background: #1e1b4b; color: #c7d2fe; }
.preflight { font-size: 0.86rem; border-radius: 8px; padding: 8px 10px;
  border: 1px solid var(--border-color-primary); }
.preflight.ok { background: #ecfdf5; border-color: #a7f3d0; color: #065f46; }
.preflight.fixable { background: #fffbeb; border-color: #fcd34d; color: #92400e; }
.preflight.bad { background: #fef2f2; border-color: #fecaca; color: #991b1b; }
.dark .preflight.ok { background: #022c22; color: #a7f3d0; }
.dark .preflight.fixable { background: #451a03; color: #fde68a; }
.dark .preflight.bad { background: #450a0a; color: #fecaca; }
.status-card { border-radius: 10px; padding: 10px 12px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-secondary); font-size: 0.9rem; }
.status-card.idle { color: var(--body-text-color-subdued); }
.status-card.state-succeeded { background: #ecfdf5; border-color: #a7f3d0; }
.status-card.state-failed { background: #fef2f2; border-color: #fecaca; }
.dark .status-card.state-succeeded { background: #022c22; border-color: #065f46; }
.dark .status-card.state-failed { background: #450a0a; border-color: #991b1b; }
.status-head { display: flex; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
.status-detail { color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums; }
.status-message { margin-top: 6px; }
.status-note { margin-top: 6px; font-style: italic; }
.status-meta { margin-top: 6px; font-size: 0.78rem; color: var(--body-text-color-subdued); word-break: break-all; }
.status-meta code { font-size: 0.76rem; }
.badge { display: inline-block; font-size: 0.72rem; padding: 0 6px; border-radius: 999px;
  background: #e0e7ff; color: #3730a3; }
.progress { height: 4px; border-radius: 2px; background: var(--border-color-primary); margin-top: 8px;
  overflow: hidden; }
.progress > div { height: 100%; background: var(--color-accent); transition: width 0.8s linear; }
.progress.indeterminate > div { width: 30%; animation: slide 1.4s ease-in-out infinite; }
@keyframes slide { 0% { margin-left: -30%; } 100% { margin-left: 100%; } }
.empty-state { text-align: center; padding: 28px 12px; color: var(--body-text-color-subdued);
  border: 1px dashed var(--border-color-primary); border-radius: 12px; }
.empty-state .big { font-size: 1.8rem; }
.job-row { align-items: center !important; border: 1px solid var(--border-color-primary);
  border-radius: 10px; padding: 6px 10px !important; }
.job-row .job-text { font-size: 0.88rem; }
.job-row .job-text .sub { color: var(--body-text-color-subdued); font-size: 0.8rem; }
.job-row button { max-width: 110px; }
.seed-buttons { gap: 6px !important; justify-content: flex-end; }
.section-title { font-weight: 600; font-size: 1.02rem; margin: 4px 0 0; }
.pager-text { text-align: center; color: var(--body-text-color-subdued); font-size: 0.86rem; padding-top: 8px; }
.details-table { width: 100%; font-size: 0.86rem; border-collapse: collapse; border: none !important; }
.details-table th { text-align: left; white-space: nowrap; width: 1%; padding: 5px 14px 5px 2px;
  color: var(--body-text-color-subdued); font-weight: 500; vertical-align: top; }
.details-table td { padding: 5px 2px; word-break: break-word; }
.details-table, .details-table tr, .details-table th, .details-table td { border: 0 !important;
  background: none !important; }
.details-table tr + tr > * { border-top: 1px solid var(--border-color-primary) !important; }
#history-gallery .grid-wrap.fixed-height { min-height: 0; max-height: none; }
.keys-status { font-size: 0.88rem; }
@media (max-width: 720px) {
  #studio-header h1 { font-size: 1.3rem; }
  .gradio-container { padding: 6px !important; }
}
"""
