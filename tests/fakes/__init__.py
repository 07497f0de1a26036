"""Local fakes of the RunComfy and WaveSpeedAI APIs: `FakeProviders` (see server.py)."""

from tests.fakes.jobs import FakeJob
from tests.fakes.server import FakeProviders
from tests.fakes.state import RecordedRequest

__all__ = ["FakeJob", "FakeProviders", "RecordedRequest"]
