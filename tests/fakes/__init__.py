"""Local fakes of the RunComfy and WaveSpeedAI APIs, on one real HTTP server.

    fake = FakeProviders(queue_seconds=0.1, run_seconds=0.1).start()   # or the fake_providers fixture
    fake.base_url                     # RunComfy under /v1/, WaveSpeed under /api/v3/
    fake.RUNCOMFY_KEY, fake.WAVESPEED_KEY
    fake.add_fault("status", "status", status=503, times=2)     # faults.py: status, slow, hang,
    fake.add_fault("submit", "reset_after_submit")              #   reset, malformed_json, error_in_200,
    fake.add_fault("download", "reset", after_bytes=1000)       #   reset_after_submit, slow_after_submit
    fake.next_outcome("moderation")   # or a prompt marker: "[fake:moderation]", "[fake:slow=5]", ...
    fake.serve_file(path) -> url      # Range, HEAD; usable as an input image URL
    fake.expire_outputs(); fake.set_timing(...); fake.reset()
    fake.requests, fake.submits("runcomfy"), fake.jobs[request_id]

Out of process: `python -m tests.fakes --port N` and the /__fake__/ control API (control.py).
"""

from tests.fakes.jobs import FakeJob
from tests.fakes.server import FakeProviders
from tests.fakes.state import RecordedRequest

__all__ = ["FakeJob", "FakeProviders", "RecordedRequest"]
