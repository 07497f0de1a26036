"""Run the fake providers by hand: python -m tests.fakes [--port N] [--queue-seconds S] [--run-seconds S]"""

from __future__ import annotations

import argparse

from tests.fakes.server import FakeProviders, serve_until_terminated


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--queue-seconds", type=float, default=3.0)
    parser.add_argument("--run-seconds", type=float, default=6.0)
    parser.add_argument("--queue-length", type=int, default=3)
    args = parser.parse_args(argv)
    fake = FakeProviders(
        host=args.host,
        port=args.port,
        queue_seconds=args.queue_seconds,
        run_seconds=args.run_seconds,
        queue_length=args.queue_length,
    ).start()
    print(f"Fake providers at {fake.base_url}", flush=True)
    print(f"  RUNCOMFY_BASE_URL={fake.base_url}  RUNCOMFY_API_TOKEN={fake.RUNCOMFY_KEY}", flush=True)
    print(f"  WAVESPEED_BASE_URL={fake.base_url}  WAVESPEED_API_KEY={fake.WAVESPEED_KEY}", flush=True)
    print(
        "  control: POST /__fake__/config|faults|outcome|expire|reset, GET /__fake__/requests|jobs",
        flush=True,
    )
    serve_until_terminated(fake)


if __name__ == "__main__":
    main()
