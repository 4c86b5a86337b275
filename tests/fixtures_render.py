"""Fixtures for the render bridge: an A1111 double (with the example's fake
models) served in a thread, and a Civitai double."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLE_MANIFEST


@pytest.fixture
def lighthouse() -> dict:
    return json.loads(EXAMPLE_MANIFEST.read_text())


@pytest.fixture
def a1111_factory(tmp_path):
    """start(models=True, root=None, **double_kwargs) -> (double, base_url, stop); all stopped at teardown."""
    from movieminter.testing.a1111_double import install_fake_models, start_double

    stops = []

    def start(models=True, root=None, **kwargs):
        root = root or tmp_path / f"a1111-{len(stops)}"
        root.mkdir(parents=True, exist_ok=True)
        if models:
            install_fake_models(root)
        kwargs.setdefault("frame_delay", 0.0)
        double, url, stop = start_double(root, **kwargs)
        stops.append(stop)
        return double, url, stop

    yield start
    for stop in stops:
        stop()


@pytest.fixture
def a1111(a1111_factory):
    """(double, base_url) with the example's models installed."""
    double, url, _ = a1111_factory()
    return double, url
