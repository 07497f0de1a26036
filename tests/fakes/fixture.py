"""pytest fixtures for the fake provider server (filled in by the fake-server work)."""
