import time

import pytest


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """Log timestamps in snapshots must not depend on the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.delenv("TZ", raising=False)
    time.tzset()


@pytest.fixture(autouse=True)
def no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
