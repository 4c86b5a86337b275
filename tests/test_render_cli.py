"""`movieminter doctor | models ensure | render` as a user runs them, against the doubles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from PIL import Image

from movieminter.render.a1111 import A1111Client
from movieminter.render.previews import keyframe_previews
from movieminter.testing.a1111_double import Faults
from movieminter.testing.civitai_double import start_civitai
from tests.conftest import EXAMPLE_MANIFEST, ROOT, free_port

ENV = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEMINTER_")}


def mm(*args, timeout=120):
    proc = subprocess.run(
        [sys.executable, "-m", "movieminter", *args], capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=timeout
    )
    return proc.returncode, proc.stdout + proc.stderr


def doctor(url, *extra):
    return mm("doctor", "--a1111-url", url, "--manifest", str(EXAMPLE_MANIFEST), "--segment", "0", *extra)


@pytest.fixture
def double_process(tmp_path):
    """The double as its own process, the way the demo runs it."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "movieminter.testing.a1111_double",
            "--port",
            str(port),
            "--root",
            str(tmp_path / "a1111"),
            "--with-fake-models",
            "--frame-delay",
            "0",
        ],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/internal/ping", timeout=0.5)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_doctor_all_good_against_the_double_process(double_process):
    code, out = doctor(double_process)
    assert code == 0, out
    assert "[ok  ] reachable" in out and "[ok  ] deforum_api" in out and "A1111 1.10.1" in out
    assert "[ok  ] checkpoint:dreamshaper_8: dreamshaper_8.safetensors [05c4eab871]: matched by sha256" in out
    assert "[ok  ] lora:ghibli_style_v2" in out and "ready to render" in out


def test_doctor_unreachable():
    code, out = doctor(f"http://127.0.0.1:{free_port()}")
    assert code == 2 and "is A1111 running at" in out and "--api" in out


@pytest.mark.parametrize(
    "faults,expect",
    [
        (Faults(deforum_api=False), "start A1111 with --api --deforum-api"),
        (Faults(api=False), "start A1111 with --api"),
        (Faults(api_auth="u:p"), "set --a1111-auth user:pass"),
    ],
)
def test_doctor_faults_are_actionable(a1111_factory, faults, expect):
    _, url, _ = a1111_factory(faults=faults)
    code, out = doctor(url)
    assert code == 2 and expect in out and "FAIL" in out


def test_doctor_with_auth_and_short_hash(a1111_factory):
    _, url, _ = a1111_factory(faults=Faults(api_auth="u:p", hashed="short"))
    code, out = doctor(url, "--a1111-auth", "u:p")
    assert code == 0, out
    assert "A1111 has not hashed it yet — matched by short hash" in out


def test_doctor_unhashed_checkpoint_is_hashed_here(a1111_factory):
    _, url, _ = a1111_factory(faults=Faults(hashed="none"))
    code, out = doctor(url)
    assert code == 0 and "matched by hashing the file here" in out


def test_models_ensure_then_doctor_then_render(a1111_factory, tmp_path, small_film):
    double, url, _ = a1111_factory(models=False)
    code, out = doctor(url)
    assert code == 2 and "models ensure" in out
    _, civ_url, stop = start_civitai()
    try:
        code, out = mm(
            "models",
            "ensure",
            "--manifest",
            str(EXAMPLE_MANIFEST),
            "--segment",
            "0",
            "--models-dir",
            str(double.root / "models"),
            "--civitai-url",
            civ_url,
            "--a1111-url",
            url,
        )
        assert code == 0, out
        assert out.count("[downloaded]") == 2
        code, out = mm(
            "models", "ensure", "--manifest", str(EXAMPLE_MANIFEST), "--segment", "0", "--civitai-url", civ_url
        )
        assert code == 2 and "[manual]" in out and "sha256: " in out and "models/Lora" in out
    finally:
        stop()
    code, out = doctor(url)  # the example is 3D: Deforum's depth model is not a Civitai model
    assert code == 2 and "[FAIL] depth_model" in out and "dpt_large-midas-2f21e586.pt" in out
    (double.root / "models" / "Deforum" / "dpt_large-midas-2f21e586.pt").write_bytes(b"weights")
    assert doctor(url)[0] == 0
    film = tmp_path / "film.json"
    film.write_text(json.dumps(small_film))
    code, out = mm(
        "render", "--manifest", str(film), "--segment", "0", "--a1111-url", url, "--work-dir", str(tmp_path / "w")
    )
    assert code == 0, out
    assert "12 frames" in out and len(list((tmp_path / "w/frames").glob("frame_*.png"))) == 12
    code, out = mm(
        "render", "--manifest", str(film), "--segment", "0", "--a1111-url", url, "--work-dir", str(tmp_path / "w")
    )
    assert code == 0 and "(reused)" in out and double.jobs_submitted == 1


def test_keyframe_previews(a1111, lighthouse, tmp_path):
    double, url = a1111
    paths = keyframe_previews(A1111Client(url), lighthouse, 3, tmp_path / "pv", steps=4)
    assert [p.name for p in paths] == ["seg3_kf00000.png", "seg3_kf00016.png", "seg3_kf00032.png"]
    for p in paths:
        with Image.open(p) as im:
            assert im.size == (384, 216)
    assert double.txt2img_calls == 3 and not double.fallback_warnings


def test_models_ensure_finds_a_local_a1111s_models_folder(a1111_factory):
    from movieminter.testing.a1111_double import install_fake_models

    double, url, _ = a1111_factory(models=False)
    install_fake_models(double.root, ["dreamshaper_8"])
    double.refresh_checkpoints()
    _, civ_url, stop = start_civitai()
    try:
        code, out = mm(
            "models",
            "ensure",
            "--manifest",
            str(EXAMPLE_MANIFEST),
            "--segment",
            "2",
            "--civitai-url",
            civ_url,
            "--a1111-url",
            url,
        )
    finally:
        stop()
    assert code == 0, out
    assert "[present] checkpoint dreamshaper_8" in out and "[downloaded] lora film_grain_35mm" in out
    assert (double.root / "models/Lora/film_grain_35mm.safetensors").exists()
