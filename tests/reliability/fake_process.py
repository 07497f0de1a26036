"""The fake providers in their own process, with API keys the test chooses.

    python -m tests.reliability.fake_process --port 0 --runcomfy-key sk-canary-... \
        --wavespeed-key sk-canary-... [--output-video big.mp4] [--queue-seconds S] [--run-seconds S]

`python -m tests.fakes` only knows its fixed test keys; the secrets test needs the fake to
accept a canary key (so that a leak of a key that really worked can be searched for), and
the size-cap test a bigger output video. Everything else is tests.fakes as it is. The keys
are never printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.fakes.server import FakeProviders, serve_until_terminated


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.fake_process", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--queue-seconds", type=float, default=0.3)
    parser.add_argument("--run-seconds", type=float, default=0.6)
    parser.add_argument("--queue-length", type=int, default=2)
    parser.add_argument("--runcomfy-key", default=FakeProviders.RUNCOMFY_KEY)
    parser.add_argument("--wavespeed-key", default=FakeProviders.WAVESPEED_KEY)
    parser.add_argument("--runcomfy-other-key", default=FakeProviders.RUNCOMFY_OTHER_KEY)
    parser.add_argument("--wavespeed-other-key", default=FakeProviders.WAVESPEED_OTHER_KEY)
    parser.add_argument("--output-video", type=Path, default=None)
    args = parser.parse_args(argv)
    # The valid keys are class attributes read by FakeProviders.__init__: a subclass sets them.
    fake_class = type(
        "ChosenKeysFake",
        (FakeProviders,),
        {
            "RUNCOMFY_KEY": args.runcomfy_key,
            "WAVESPEED_KEY": args.wavespeed_key,
            "RUNCOMFY_OTHER_KEY": args.runcomfy_other_key,
            "WAVESPEED_OTHER_KEY": args.wavespeed_other_key,
        },
    )
    fake = fake_class(
        host=args.host,
        port=args.port,
        queue_seconds=args.queue_seconds,
        run_seconds=args.run_seconds,
        queue_length=args.queue_length,
        output_video=args.output_video,
    ).start()
    print(f"Fake providers at {fake.base_url}", flush=True)
    serve_until_terminated(fake)


if __name__ == "__main__":
    main()
