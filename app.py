"""Dreamina Studio: wiring only. Settings from the environment (and .env), the job studio,
the Gradio page, launch.

    python app.py        # http://127.0.0.1:7860 — no API key needed: the simulator stands in
"""

from __future__ import annotations

import logging
import os

from ui.absent_modules import remember_absent
from ui.gradio_internals import (
    lazy_session_state,
    pin_upload_folder,
    quiet_idle_queue,
    shared_api_info,
    skip_queue_analytics,
)
from ui.layout import build_demo, launch_options

__all__ = ["build_demo", "main"]


def main() -> None:
    from dotenv import load_dotenv

    from jobs.service import Studio, build_providers
    from jobs.settings import Settings
    from providers.scrub import ScrubbingFilter
    from ui.gate import Guard

    load_dotenv()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The studio's own lines (studio.jobs: one per job state change, studio.retry: one per
    # retry) are the news; libraries log every request or connection at INFO: noise.
    for noisy in ("httpx", "httpcore", "uvicorn.access", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings.from_env()
    # Uvicorn rewrites the client address from X-Forwarded-For when the peer is in
    # FORWARDED_ALLOW_IPS (by default loopback): it must trust exactly the proxies the
    # deployment names, or a local client could forge its address (ui/client_address.py).
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(settings.trusted_proxies)
    pin_upload_folder()  # before any component is built: each would resolve it again
    studio = Studio(settings, build_providers(settings))
    studio.start()
    guard = Guard(settings)
    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubbingFilter(studio.engine.scrubber))
    demo = build_demo(settings, studio, guard)
    remember_absent()  # no sys.path search for matplotlib on every event
    shared_api_info()  # no pydantic schema built again for every output update
    try:
        skip_queue_analytics()
        demo.queue(default_concurrency_limit=None)
        quiet_idle_queue(demo)
        _, url, _ = demo.launch(prevent_thread_lock=True, **launch_options(settings, guard))
        lazy_session_state(demo)
        print(f"Dreamina Studio is running at {url}", flush=True)
        demo.block_thread()
    finally:
        studio.stop()


if __name__ == "__main__":
    main()
