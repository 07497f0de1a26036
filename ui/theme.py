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
    ).set(
        # Text contrast of at least 4.5:1 (WCAG AA; tests/e2e checks with axe-core): the Soft
        # theme's violet-500 on white and its slate-400 hints are too faint.
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_300",
        color_accent="*primary_700",
        color_accent_soft="*primary_100",
        block_label_text_color="*primary_800",
        block_title_text_color="*primary_800",
        block_info_text_color="*neutral_600",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        checkbox_label_background_fill_selected="*primary_700",
        checkbox_background_color_selected="*primary_700",
    )


# The character count runs in the browser on every keystroke (no server round trip).
# [...text] counts code points, as the server's len() does.
COUNTER_JS = f"""(prompt) => {{
  const n = [...(prompt || "")].length;
  const over = n > {PROMPT_MAX_CHARS} ? " over" : "";
  return `<div class="char-count${{over}}">${{n}} / {PROMPT_MAX_CHARS}</div>`;
}}"""

RANDOM_SEED_JS = f"() => Math.floor(Math.random() * {SEED_MAX})"

# Ctrl+Enter (Cmd+Enter on a Mac) presses the visible tab's Generate button, from anywhere
# on the page, the prompt box included; history tiles get one accessible name each. Runs
# once when the page loads.
SHORTCUTS_JS = """() => {
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.repeat) return;
    const button = [...document.querySelectorAll("#t2v-generate, #i2v-generate")]
      .find((b) => b.offsetParent !== null && !b.disabled);
    if (!button) return;
    event.preventDefault();
    button.click();
  });
  // History tiles: Gradio names each "Thumbnail n of m" and gives its picture the caption
  // as alt text, so a screen reader said the caption twice and never what the tile is.
  // The tile is named by its caption once; the picture is decorative beside it.
  const nameTiles = () => {
    for (const tile of document.querySelectorAll("#history-gallery .thumbnail-item")) {
      const caption = tile.querySelector(".caption-label");
      const image = tile.querySelector("img");
      if (image && image.getAttribute("alt") !== "") image.setAttribute("alt", "");
      const name = caption ? caption.textContent.trim() : null;
      if (name && tile.getAttribute("aria-label") !== name) tile.setAttribute("aria-label", name);
    }
  };
  new MutationObserver(nameTiles).observe(document.body, { childList: true, subtree: true });
}"""



def page_js(*snippets: str) -> str:
    """One function for launch(js=...) that runs the shortcuts and each of `snippets` (each
    a JS function taking no argument), so each stays a small function of its own."""
    calls = "\n".join(f"  ({snippet})();" for snippet in (SHORTCUTS_JS, *snippets))
    return f"() => {{\n{calls}\n}}"


# The form controls a refusal can name (ValidationError.field): while a status line shows
# a refusal naming one (ui.format.error_html), that control is outlined.
FIELDS = ("prompt", "model", "image", "aspect_ratio", "frames", "resolution", "duration", "seed")


def field_error_css() -> str:
    rules = []
    for kind in ("t2v", "i2v"):
        for field in FIELDS:
            rules.append(
                f'#studio-main:has(#{kind}-status [data-field="{field}"]) #{kind}-{field}'
            )
    return ",\n".join(rules) + (
        # Inset: a form group clips what is drawn outside its blocks.
        " { box-shadow: inset 0 0 0 2px #dc2626 !important; border-radius: 8px; }\n"
    )

CSS = """
.gradio-container { max-width: 1320px !important; margin: 0 auto; --layout-gap: 10px; }
/* Gradio's overflow: hidden makes the container the scroller that sticky elements stick
   to (and it never scrolls): clip cuts the same overflow without that. */
.gradio-container { overflow: clip !important; }
/* Outside .contain: Gradio keeps only top-level rules unprefixed (none in @media) for these. */
.gradio-container > .main { padding-top: 6px; padding-left: min(32px, 3vw) !important;
  padding-right: min(32px, 3vw) !important; }
/* Gradio hides 'Use via API' on a phone and leaves its separator alone: keep the link. */
footer .show-api { display: flex !important; }
/* The tab bar takes the page's width and never sets it: its buttons (nowrap) would
   otherwise make the page's min-content as wide as every tab together (the clip above
   lets that reach .gradio-container), and Gradio, measuring a bar already that wide,
   would find every tab fits and never fold the extra ones into its "More tabs" menu. */
#studio-tabs .tab-container:not(.visually-hidden) { contain: inline-size; }
footer .divider:last-child { display: none; }
.gradio-container .html-container:has(#studio-header) { padding-top: 0; padding-bottom: 0; }
#studio-header { display: flex; align-items: baseline; gap: 6px 14px; flex-wrap: wrap; padding: 0 2px; }
#studio-header h1 { font-size: 1.35rem; margin: 0; letter-spacing: -0.01em; display: flex;
  align-items: center; gap: 8px; }
#studio-header .logo { width: 24px; height: 24px; align-self: center; }
#studio-header .tagline { color: var(--body-text-color-subdued); font-size: 0.85rem; flex: 1 1 280px; }
#studio-header .pill { font-size: 0.78rem; padding: 3px 10px; border-radius: 999px;
  border: 1px solid var(--border-color-primary); color: var(--body-text-color-subdued); white-space: nowrap; }
.banner { border-radius: 10px; padding: 6px 12px; font-size: 0.86rem; line-height: 1.4; }
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
#studio-side:has(.job-row) #no-running-jobs-box { display: none !important; }
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
.pager { flex-wrap: nowrap !important; align-items: center !important; }
.pager > * { min-width: 0 !important; }
.pager button { height: 36px; }
.pager-text { text-align: center; color: var(--body-text-color-subdued); font-size: 0.86rem; padding-top: 8px; }
.details-table { width: 100%; font-size: 0.86rem; border-collapse: collapse; border: none !important; }
.details-table th { text-align: left; white-space: nowrap; width: 1%; padding: 5px 14px 5px 2px;
  color: var(--body-text-color-subdued); font-weight: 500; vertical-align: top; }
.details-table td { padding: 5px 2px; word-break: break-word; }
.details-table, .details-table tr, .details-table th, .details-table td { border: 0 !important;
  background: none !important; }
.details-table tr + tr > * { border-top: 1px solid var(--border-color-primary) !important; }
/* The Spend tab's three totals: the details' quiet rules, the amounts in a column. */
.spend-table { width: auto; min-width: 16em; font-size: 0.95rem; margin-bottom: 6px; }
.spend-table td { text-align: right; font-variant-numeric: tabular-nums; padding-left: 24px; }
#history-gallery .grid-wrap.fixed-height, #compare-gallery .grid-wrap.fixed-height { min-height: 0;
  max-height: none; }
/* Past comparisons keep their label: the tiles start below it. */
#compare-gallery .grid-container { padding-top: 34px; }
.keys-status { font-size: 0.88rem; }
.key-links a { color: var(--link-text-color, var(--color-accent)); text-decoration: underline; }
/* A compact form: the whole form, Generate and its status fit a 900 px high window. */
#studio-main, #studio-history { --layout-gap: 8px; --form-gap-width: 1px; --block-padding: 6px 10px;
  --block-label-margin: 0 0 2px 0; --checkbox-label-padding: 4px 10px; --size-2: 6px;
  --input-padding: 6px 10px; --block-label-padding: 2px 8px; }
#studio-main .block-info { margin-bottom: 2px; }
.model-facts { margin-top: -2px; }
/* Result and running jobs stay in view beside the form while it scrolls. */
@media (min-width: 900px) {
  #studio-side { position: sticky; top: 8px; align-self: flex-start; }
}
@media (min-width: 900px) and (min-height: 560px) {
  .generate-dock { position: sticky; bottom: 0; z-index: 200; background: var(--body-background-fill);
    padding: 6px 0 4px; box-shadow: 0 -10px 12px -12px rgba(15, 23, 42, 0.35); }
  /* The form scrolls behind the dock: a row cut by its top edge fades out above it rather
     than showing a sliver of its controls (the seed row at 1440x900). */
  .generate-dock::before { content: ""; position: absolute; left: 0; right: 0; bottom: 100%;
    height: 28px; pointer-events: none;
    background: linear-gradient(to bottom, transparent, var(--body-background-fill) 55%); }
}
/* The player as tall as its video (a fixed 420 px left bands around a 16:9 clip). */
#result-video, #result-video > div, #result-video .wrap { height: auto !important; }
#result-video video { height: auto !important; max-height: min(420px, 70vh); }
.confirm-row { align-items: center !important; gap: 8px; }
/* The result's buttons keep their words on one line ('↓ Télécharger le MP4' broke in two at
   1440 px): a button takes the width its words need, and the row wraps when they do not fit. */
#result-actions { flex-wrap: wrap !important; }
#result-actions > * { flex: 1 1 auto !important; min-width: max-content !important; }
#result-actions button { white-space: nowrap; }
.confirm-text { font-size: 0.88rem; }
.generate-row { align-items: stretch; }
.status-line .status-card { margin-top: -4px; }
/* History tiles (and past comparisons): the poster whole in a 16:9 frame, the prompt in full
   lines below it. */
#history-gallery .thumbnail-item, #compare-gallery .thumbnail-item { aspect-ratio: auto; height: auto;
  display: flex; flex-direction: column; }
#history-gallery .thumbnail-item img, #compare-gallery .thumbnail-item img { aspect-ratio: 16 / 9;
  width: 100%; height: auto; object-fit: contain; background: #0f172a; }
#history-gallery .caption-label, #compare-gallery .caption-label { position: static; max-width: none; white-space: normal;
  text-overflow: clip; overflow: visible; border: 0; border-top: 1px solid var(--border-color-primary);
  border-radius: 0; padding: 4px 8px 6px; font-size: 0.8rem; line-height: 1.3; text-align: left; }
/* A file that is not an image: no broken-image icon, the preflight beside it explains. */
#studio-main:has(#i2v-preflight [data-not-image]) #i2v-image img { visibility: hidden; }
/* Visible focus for keyboard users on every control. */
button:focus-visible, [role="tab"]:focus-visible, a:focus-visible, input:focus-visible,
textarea:focus-visible, [role="option"]:focus-visible {
  outline: 3px solid var(--color-accent) !important; outline-offset: 2px; }
@media (max-width: 720px) {
  #studio-header h1 { font-size: 1.2rem; }
  .gradio-container { padding: 6px !important; }
  /* Two tiles a row: four (of at least 100 px each) made the page wider than a phone. */
  #history-gallery .grid-container { grid-template-columns: repeat(2, minmax(0, 1fr)) !important; }
}
""" + field_error_css()
