"""One Chromium for the whole test process. Playwright's sync API cannot run
two `sync_playwright()` sessions in one thread, so every browser test shares
this session-scoped browser and opens its own context (own cookies, storage).
What a test opens is closed after it: an open page keeps its renderer and its
timers (countdowns, polling, event streams) running, and a full run's leftover
pages once loaded the machine to ~60 on 2 cores."""

from __future__ import annotations

import contextlib
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine has no network; without these Chromium floods refused connections.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Playback tests start <video> without a user gesture.
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def chromium_session():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("Debian's chromium is missing: run ./mm setup (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def chromium(chromium_session):
    """The session's browser; every context (and page) the test opened is closed when it ends, failed or not."""
    before = set(chromium_session.contexts)
    yield chromium_session
    for context in chromium_session.contexts:
        if context not in before:
            with contextlib.suppress(Exception):  # a context a crashed test left broken
                context.close()
