"""Fixtures of the reference tests."""

from tests.gateway.harness import gateway  # noqa: F401 - a fixture
