"""Shared pytest setup: the fake provider server fixtures live in tests/fakes/fixture.py."""

pytest_plugins = ["tests.fakes.fixture"]
