"""Counts thread hops in a running app, for bench/hops.py:

    STUDIO_HOPS_FILE=/tmp/hops.json python -m bench.hop_counter app.py
    STUDIO_HOPS_FILE=/tmp/hops.json python -m bench.hop_counter -m bench.floor_app

A hop is work handed from one thread to another: onto an event loop from another thread
(`call_soon_threadsafe`, which asyncio's to_thread, run_coroutine_threadsafe and anyio's
workers all use to come back), into a thread pool (`ThreadPoolExecutor.submit`: asyncio's
to_thread and run_in_executor) or into one of anyio's worker threads (`to_thread.run_sync`:
Gradio's sync handlers, pre/postprocessing and file routes). The counts are written to
STUDIO_HOPS_FILE every 0.2 s; the bench takes differences around the calls it makes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import runpy
import sys
import threading
import time
from typing import Any

COUNTS: dict[str, int] = {"onto_loop": 0, "to_pool": 0, "to_anyio": 0}
_lock = threading.Lock()


def _count(kind: str) -> None:
    with _lock:
        COUNTS[kind] += 1


def install() -> None:
    original_threadsafe = asyncio.BaseEventLoop.call_soon_threadsafe

    def call_soon_threadsafe(self: asyncio.BaseEventLoop, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "_thread_id", None) != threading.get_ident():  # from another thread
            _count("onto_loop")
        return original_threadsafe(self, *args, **kwargs)

    asyncio.BaseEventLoop.call_soon_threadsafe = call_soon_threadsafe  # type: ignore[method-assign]

    original_submit = concurrent.futures.ThreadPoolExecutor.submit

    def submit(self: concurrent.futures.ThreadPoolExecutor, *args: Any, **kwargs: Any) -> Any:
        _count("to_pool")
        return original_submit(self, *args, **kwargs)

    concurrent.futures.ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]

    import anyio.to_thread

    original_run_sync = anyio.to_thread.run_sync

    async def run_sync(*args: Any, **kwargs: Any) -> Any:
        _count("to_anyio")
        return await original_run_sync(*args, **kwargs)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]


def _writer(path: str) -> None:
    while True:
        with _lock:
            text = json.dumps(COUNTS)
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
        time.sleep(0.2)


def main() -> None:
    install()
    threading.Thread(target=_writer, args=(os.environ["STUDIO_HOPS_FILE"],), daemon=True).start()
    args = sys.argv[1:]
    if args[0] == "-m":
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = args
        runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
