"""What a person sees when the login throttle refuses them.

Gradio's login page (6.31) posts the form with fetch and reacts only to 200 (reload) and
400 ("Incorrect Credentials"): to the gate's 429 it shows nothing, so a locked person kept
pressing Login under a stale "Incorrect Credentials", even with the right password. The
gate (ui/gate.py) adds this script to the login page's HTML: it watches the answers to the
page's own POST to `login` and, on a 429, shows the gate's message in an alert above the
form with a live countdown, and hides the stale line (Gradio's `p.creds`; if an upgrade
renames it, the alert still shows). tests/e2e/test_login_lock.py checks it in Chromium.
"""

from __future__ import annotations

ALERT_ID = "studio-login-lock"

SCRIPT = """<script>
(() => {
  const ALERT_ID = "ALERT_ID_HERE";
  const send = window.fetch.bind(window);
  let timer = null;
  function stale(hidden) {
    for (const line of document.querySelectorAll("p.creds")) line.style.display = hidden ? "none" : "";
  }
  function clear() {
    clearInterval(timer);
    document.getElementById(ALERT_ID)?.remove();
    stale(false);
  }
  function show(seconds) {
    clear();
    const password = document.querySelector("input[type=password]");
    let panel = password;
    while (panel && !panel.querySelector("h2")) panel = panel.parentElement;
    const heading = panel ? panel.querySelector("h2") : null;
    const box = document.createElement("div");
    box.id = ALERT_ID;
    box.setAttribute("role", "alert");
    box.style.cssText = "max-width:26rem;margin:12px 0;padding:10px 12px;border-radius:8px;border:1px solid #f59e0b;" +
      "background:#fffbeb;color:#78350f;font-weight:600;line-height:1.4";
    const until = Date.now() + seconds * 1000;
    const draw = () => {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      box.textContent = left > 0
        ? `Too many wrong passwords. Sign-in is paused for ${left} s, even with the right ` +
          "password. Wait, then try again."
        : "You can try again now.";
      if (left <= 0) clearInterval(timer);
    };
    draw();
    timer = setInterval(draw, 1000);
    if (heading) heading.after(box); else document.body.prepend(box);
    stale(true);
  }
  window.fetch = async (resource, options) => {
    const answer = await send(resource, options);
    try {
      const url = new URL(resource instanceof Request ? resource.url : String(resource), location.href);
      const method = ((options && options.method) || (resource instanceof Request ? resource.method : "GET"));
      if (method.toUpperCase() === "POST" && /\\/login\\/?$/.test(url.pathname)) {
        if (answer.status === 429) {
          const wait = Number(answer.headers.get("retry-after")) || 60;
          show(wait);
        } else {
          clear();
        }
      }
    } catch (error) {
      /* the login page must work even if this note cannot be shown */
    }
    return answer;
  };
})();
</script>""".replace("ALERT_ID_HERE", ALERT_ID)


def with_script(html: bytes) -> bytes:
    """The login page's HTML with SCRIPT just before </head> (unchanged if it has none)."""
    marker = b"</head>"
    at = html.find(marker)
    if at < 0:
        return html
    return html[:at] + SCRIPT.encode() + html[at:]
