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


@pytest.fixture
def small_film(lighthouse) -> dict:
    """The example cut down to one 12-frame 128x72 segment: cheap renders for fault tests."""
    m = lighthouse
    m["movie"]["width"], m["movie"]["height"] = 128, 72
    seg = m["segments"][0]
    seg["frame_count"] = 12
    seg["camera"]["zoom"] = "0: (1.0), 11: (1.04)"
    seg["prompts"] = {"0": seg["prompts"]["0"], "6": seg["prompts"]["24"]}
    m["segments"] = [seg]
    from movieminter.manifest import load_manifest

    return load_manifest(m)


@pytest.fixture(scope="module")
def a1111_double_url(tmp_path_factory):
    """An A1111 double (the example's models installed) for a whole test module: its URL."""
    from movieminter.testing.a1111_double import install_fake_models, start_double

    root = tmp_path_factory.mktemp("a1111-double")
    install_fake_models(root)
    double, url, stop = start_double(root, frame_delay=0.04)
    yield url
    stop()
