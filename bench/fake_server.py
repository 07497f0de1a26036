"""The fake providers for benchmarks, in their own process (so their CPU is not the app's):

    python -m bench.fake_server --queue-seconds 1 --run-seconds 3 [--output-video F] [--serve F ...]

Prints `READY {"url": ..., "served": [...]}` once listening; stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tests.fakes.server import FakeProviders, serve_until_terminated


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--queue-seconds", type=float, default=1.0)
    parser.add_argument("--run-seconds", type=float, default=3.0)
    parser.add_argument("--queue-length", type=int, default=3)
    parser.add_argument("--output-video", type=Path, default=None)
    parser.add_argument("--serve", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    fake = FakeProviders(
        port=args.port,
        queue_seconds=args.queue_seconds,
        run_seconds=args.run_seconds,
        queue_length=args.queue_length,
        output_video=args.output_video,
    ).start()
    served = [fake.serve_file(path) for path in args.serve]
    print("READY " + json.dumps({"url": fake.base_url, "served": served}), flush=True)
    serve_until_terminated(fake)


if __name__ == "__main__":
    main()
