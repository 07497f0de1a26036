"""Dreamina Studio: wiring only. Settings from the environment (and .env), the job studio,
the Gradio page, launch.

    python app.py        # http://127.0.0.1:7860 — no API key needed: the simulator stands in
"""

from __future__ import annotations

import logging

from ui.gradio_internals import quiet_idle_queue
from ui.layout import build_demo, launch_options

__all__ = ["build_demo", "main"]


def main() -> None:
    from dotenv import load_dotenv

    from jobs.service import Studio, build_providers
    from jobs.settings import Settings

    load_dotenv()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The studio's own lines (studio.jobs: one per job state change, studio.retry: one per
    # retry) are the news; libraries log every request or connection at INFO: noise.
    for noisy in ("httpx", "httpcore", "uvicorn.access", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings.from_env()
    studio = Studio(settings, build_providers(settings))
    studio.start()
    demo = build_demo(settings, studio)
    try:
        demo.queue(default_concurrency_limit=None)
        quiet_idle_queue(demo)
        _, url, _ = demo.launch(prevent_thread_lock=True, **launch_options(settings))
        print(f"Dreamina Studio is running at {url}", flush=True)
        demo.block_thread()
    finally:
        studio.stop()


if __name__ == "__main__":
    main()
