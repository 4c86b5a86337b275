"""The two A1111 backends one contract suite runs against: the stand-in
(`movieminter.testing.a1111_double`, in a thread) and a real A1111 1.10.1 +
Deforum + ControlNet on CPU (`movieminter.testing.real_a1111`, a process).

Real-A1111 tests carry `xdist_group("real-a1111")` (./mm test runs pytest
with `--dist loadgroup`), so one worker starts the real A1111 once and runs
them all; the stand-in's cases spread over every worker.

Without the real A1111's sources the real tests fail with what to set; a
developer may opt out with MOVIEMINTER_SKIP_REAL_A1111=1, never CI (CI=true).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from movieminter.render.a1111 import A1111Client

REAL = "real-a1111"
real_marks = [pytest.mark.xdist_group(REAL), pytest.mark.real_a1111]
BACKENDS = ["double", pytest.param("real", marks=real_marks)]


@dataclasses.dataclass
class A1111Backend:
    kind: str  # "double" | "real"
    url: str
    root: Path  # the A1111 folder (models/, outputs/)
    checkpoint: Path  # what the tiny film pins (loadable on the real one)
    alt_checkpoint: Path
    lora: Path
    double: object | None = None
    running: object | None = None  # real_a1111.RunningA1111

    def client(self, **kw) -> A1111Client:
        kw.setdefault("backoff", 0.05)
        return A1111Client(self.url, **kw)

    @property
    def models(self) -> Path:
        return self.root / "models"

    def film(self, **kw) -> dict:
        from movieminter.testing.tiny_film import tiny_film

        return tiny_film(self.checkpoint, self.lora, **kw)


def _real_prepared():
    skip = os.environ.get("MOVIEMINTER_SKIP_REAL_A1111", "").lower() in ("1", "true", "yes")
    if skip and os.environ.get("CI", "").lower() != "true":
        pytest.skip("MOVIEMINTER_SKIP_REAL_A1111=1: the real-A1111 suite was opted out")
    from movieminter.testing import real_a1111

    try:
        return real_a1111.prepare()
    except real_a1111.HarnessError as exc:
        pytest.fail(
            f"the real A1111 cannot be prepared: {exc}\n  set MOVIEMINTER_REAL_A1111_SRC to the "
            "A1111 v1.10.1 + Deforum + ControlNet source tarball (see movieminter/testing/real_a1111.py)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def real_prepared():
    return _real_prepared()


@pytest.fixture
def real_a1111(real_a1111_session):
    """The session's real A1111, with no earlier test's Deforum job still running on it."""
    settle(real_a1111_session)
    return real_a1111_session


def settle(backend: A1111Backend, quiet: float = 5.0, timeout: float = 300.0) -> None:
    """Wait until no Deforum job runs. A job an earlier test interrupted never finishes (Deforum
    leaves it mid-run for ever) and the app counts it busy for a minute; here, where nothing
    else renders, one silent for `quiet` s is dead, and is marked so, as the app marks its own."""
    from movieminter.render.deforum import DeforumClient, is_active, mark_interrupted

    deforum = DeforumClient(backend.client())
    deadline = time.monotonic() + timeout
    while True:
        jobs, now = deforum.jobs_at()
        busy = [jid for jid, st in jobs.items() if is_active(st, now, stuck_after=quiet)]
        for jid, st in jobs.items():
            if jid not in busy and is_active(st, now):
                mark_interrupted(backend.url, jid)
        if not busy:
            return
        assert time.monotonic() < deadline, f"Deforum jobs of earlier tests still run: {busy}"
        time.sleep(0.5)


@pytest.fixture(scope="session")
def real_a1111_session(real_prepared, tmp_path_factory):
    """One real A1111 (with ControlNet) for the whole session."""
    from movieminter.testing import real_a1111

    folder = real_a1111.make_instance(real_prepared, tmp_path_factory.mktemp("real-a1111") / "webui")
    running = real_a1111.start(real_prepared, folder)
    yield A1111Backend(
        "real",
        running.url,
        folder,
        folder / "models" / "Stable-diffusion" / "tiny-sd15.safetensors",
        real_prepared.alt_checkpoint,
        folder / "models" / "Lora" / "tiny-lora.safetensors",
        running=running,
    )
    running.stop()


@pytest.fixture
def start_real_a1111(real_prepared, tmp_path):
    """start(controlnet=True, **start_kwargs) -> A1111Backend: an A1111 of one's own, stopped at teardown."""
    from movieminter.testing import real_a1111

    started = []

    def start(controlnet: bool = True, extensions: dict | None = None, **kw) -> A1111Backend:
        folder = real_a1111.make_instance(
            real_prepared, tmp_path / f"webui-{len(started)}", controlnet=controlnet, extensions=extensions
        )
        running = real_a1111.start(real_prepared, folder, **kw)
        started.append(running)
        return A1111Backend(
            "real",
            running.url,
            folder,
            folder / "models" / "Stable-diffusion" / "tiny-sd15.safetensors",
            real_prepared.alt_checkpoint,
            folder / "models" / "Lora" / "tiny-lora.safetensors",
            running=running,
        )

    yield start
    for running in started:
        running.stop()


def _double_backend(tmp_path: Path, **double_kwargs):
    from movieminter.testing.a1111_double import start_double
    from movieminter.testing.fake_models import _payload, lora_with_modelspec_bytes

    root = tmp_path / "a1111"
    ckpts, loras = root / "models" / "Stable-diffusion", root / "models" / "Lora"
    ckpts.mkdir(parents=True)
    loras.mkdir(parents=True)
    for name in ("tiny-sd15", "tiny-sd15-alt"):
        (ckpts / f"{name}.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + _payload(name, 4096))
    alt = tmp_path / "tiny-sd15-alt.safetensors"
    (ckpts / "tiny-sd15-alt.safetensors").rename(alt)  # kept outside, like the harness's spare
    (loras / "tiny-lora.safetensors").write_bytes(lora_with_modelspec_bytes("tiny-lora"))
    double_kwargs.setdefault("frame_delay", 0.02)
    double, url, stop = start_double(root, **double_kwargs)
    return A1111Backend(
        "double", url, double.root, ckpts / "tiny-sd15.safetensors", alt, loras / "tiny-lora.safetensors", double=double
    ), stop


@pytest.fixture
def a1111_backend(request, tmp_path):
    """The backend named by the test's `backend` parameter: a fresh stand-in, or the session's real A1111."""
    if request.param == "real":
        return request.getfixturevalue("real_a1111")
    backend, stop = _double_backend(tmp_path)
    request.addfinalizer(stop)
    return backend


@pytest.fixture
def start_double_backend(tmp_path):
    stops = []

    def start(**double_kwargs) -> A1111Backend:
        backend, stop = _double_backend(tmp_path / f"d{len(stops)}", **double_kwargs)
        stops.append(stop)
        return backend

    yield start
    for stop in stops:
        stop()
