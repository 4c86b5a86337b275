"""Movie Minter end to end on a real AUTOMATIC1111 1.10.1 + Deforum + ControlNet
(CPU, tiny random checkpoint): doctor, render, previews, interrupt and cancel,
mint, and the demo with --a1111-url."""

from __future__ import annotations

import json
import threading
import time

import pytest
from PIL import Image

from movieminter.cli import main as cli_main
from movieminter.render.deforum import DeforumClient
from movieminter.render.doctor import run_doctor
from movieminter.render.errors import RenderCancelled, RenderFailed, RenderInterrupted
from movieminter.render.job import RenderLimits, render_segment
from movieminter.testing.tiny_film import shrink_example
from tests.fixtures_a1111 import real_marks

pytestmark = real_marks


def test_doctor_render_and_previews_from_the_command_line(real_a1111, tmp_path, capsys):
    film = tmp_path / "film.json"
    film.write_text(json.dumps(real_a1111.film(frames=10, cadences={0: 2})))
    url = ["--a1111-url", real_a1111.url]
    assert cli_main(["doctor", *url, "--manifest", str(film), "--segment", "0"]) == 0
    out = capsys.readouterr().out
    assert "ready to render" in out and "FAIL" not in out
    assert "[ok  ] controlnet" in out and "[ok  ] scheduler: scheduler Karras is available" in out
    assert "[ok  ] lora:tiny-lora: LoRA tiny-lora: matched by name and sha256" in out

    assert cli_main(["render", *url, "--manifest", str(film), "--segment", "0", "--work-dir", str(tmp_path / "w")]) == 0
    frames = sorted((tmp_path / "w" / "frames").glob("frame_*.png"))
    assert len(frames) == 10 and Image.open(frames[0]).size == (64, 64)
    # This Deforum sets only the sampler; the scheduler rode on its name, and A1111 took it.
    assert '"DPM++ 2M Karras" -> "DPM++ 2M", "None" -> "Karras"' in real_a1111.running.log()

    assert (
        cli_main(
            [
                "previews",
                *url,
                "--manifest",
                str(film),
                "--segment",
                "0",
                "--out-dir",
                str(tmp_path / "pv"),
                "--steps",
                "2",
            ]
        )
        == 0
    )
    stills = sorted((tmp_path / "pv").glob("*.png"))
    assert [p.name for p in stills] == ["seg0_kf00000.png", "seg0_kf00005.png"]


def test_a_3d_segment_without_the_depth_model_is_not_ready(real_a1111):
    manifest = real_a1111.film()
    manifest["defaults"]["animation_mode"] = "3D"
    checks = {c.name: c for c in run_doctor(real_a1111.client(), manifest, 0)}
    depth = checks["depth_model"]
    assert not depth.ok and "dpt_large-midas-2f21e586.pt" in depth.message and "restart A1111" in depth.hint
    assert str(real_a1111.root / "models" / "Deforum") in depth.message


def _render_in_thread(backend, tmp_path, **kw):
    box: dict = {}
    progress: list = []

    def go():
        try:
            box["result"] = render_segment(
                backend.client(),
                backend.film(frames=40, cadences={0: 1}),
                0,
                state={},
                save_state=lambda s: box.update(state=s),
                work_dir=tmp_path,
                on_progress=progress.append,
                poll_interval=0.05,
                **kw,
            )
        except Exception as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, box, progress


def _wait_frames(progress, n, timeout=120):
    deadline = time.monotonic() + timeout
    while not (progress and progress[-1].frames_done >= n):
        assert time.monotonic() < deadline, "the render did not start"
        time.sleep(0.05)


def test_interrupt_in_a1111_ends_our_render_clearly_and_leaves_a1111_usable(real_a1111, tmp_path):
    client = real_a1111.client()
    before = set(DeforumClient(client).jobs())  # the session's A1111 keeps other tests' jobs
    t, box, progress = _render_in_thread(real_a1111, tmp_path, limits=RenderLimits(post_processing=5))
    _wait_frames(progress, 3)
    client.interrupt()  # the user presses Interrupt in A1111
    t.join(120)
    assert not t.is_alive()
    err = box["error"]
    assert isinstance(err, (RenderInterrupted, RenderFailed)), err
    if isinstance(err, RenderInterrupted):
        assert "interrupted in A1111 after" in err.message
    else:
        assert 'Deforum stopped with "Generation error."' in err.message and "*START OF TRACEBACK*" in err.hint
    job_id = box["state"]["job_id"]
    jobs = {k: v for k, v in DeforumClient(client).jobs().items() if k not in before}
    assert list(jobs) == [job_id]  # no retry
    assert client.running_deforum_jobs() == []  # not believed busy
    out = client.txt2img({"prompt": "a lighthouse", "steps": 2, "width": 64, "height": 64})
    assert out["images"]


def test_cancel_stops_our_job_and_no_other(real_a1111, tmp_path):
    client = real_a1111.client()
    deforum = DeforumClient(client)
    cancel = threading.Event()
    t, box, progress = _render_in_thread(real_a1111, tmp_path, cancel=cancel)
    _wait_frames(progress, 2)
    cancel.set()
    t.join(60)
    assert isinstance(box.get("error"), RenderCancelled)
    job_id = box["state"]["job_id"]
    deadline = time.monotonic() + 30
    while deforum.job(job_id)["status"] == "ACCEPTED" and time.monotonic() < deadline:
        time.sleep(0.2)
    job = deforum.job(job_id)
    assert job["status"] in ("CANCELLED", "FAILED") and job["phase"] != "DONE"
    assert client.running_deforum_jobs() == []  # previews are not refused for it
    # A1111 renders the next job normally (no stray interrupt left behind).
    result = render_segment(
        client,
        real_a1111.film(frames=4, cadences={0: 1}),
        0,
        state={},
        save_state=lambda s: None,
        work_dir=tmp_path / "again",
        poll_interval=0.05,
    )
    assert len(result.frames) == 4


def test_without_controlnet_doctor_says_so_and_the_render_failure_names_it(start_real_a1111, tmp_path):
    backend = start_real_a1111(controlnet=False)
    film = backend.film(frames=4)
    checks = {c.name: c for c in run_doctor(backend.client(), film, 0)}
    assert not checks["controlnet"].ok and "Extensions tab" in checks["controlnet"].hint
    with pytest.raises(RenderFailed) as err:
        render_segment(
            backend.client(), film, 0, state={}, save_state=lambda s: None, work_dir=tmp_path, poll_interval=0.05
        )
    assert 'Deforum stopped with "Generation error."' in err.value.message
    assert "ControlNet extension is missing" in err.value.hint


def test_mint_from_the_command_line(real_a1111, deployed, tmp_path, monkeypatch, capsys):
    from movieminter.app.context import AppContext
    from movieminter.app.director import pin_manifest
    from movieminter.chain.client import MovieConfig
    from movieminter.chain.keystore import import_keystore
    from movieminter.config import Settings
    from tests.fixtures_ui import TEST_KEYS

    monkeypatch.setattr("movieminter.chain.keystore.SCRYPT_N", 2**10)
    data_dir = tmp_path / "data"
    manifest = real_a1111.film(frames=6)
    pinned = pin_manifest(AppContext(Settings(data_dir=data_dir, ipfs_backend="local")).store, manifest)
    acc = deployed.w3.eth.accounts
    receipt = deployed.transact(
        "createMovie",
        [
            MovieConfig(
                manifest_digest=pinned["digest"],
                segment_count=len(manifest["segments"]),
                creator=acc[8],
                director=acc[9],
                mint_mode="open",
                claim_window=3600,
            ).as_tuple()
        ],
        acc[0],
    )
    movie_id = deployed.movie_id_from_receipt(receipt)
    keyfile = tmp_path / "minter.json"
    wallet = import_keystore(keyfile, TEST_KEYS[1], "pw for the real a1111 test")
    deployed.transact("claim", [movie_id, 3], wallet)
    monkeypatch.setenv("MM_REAL_PW", "pw for the real a1111 test")
    argv = [
        "mint",
        "--movie",
        str(movie_id),
        "--segment",
        "3",
        "--keystore",
        str(keyfile),
        "--password-env",
        "MM_REAL_PW",
        "--rpc",
        deployed.rpc_url,
        "--contract",
        deployed.contract_address,
        "--a1111-url",
        real_a1111.url,
        "--data-dir",
        str(data_dir),
    ]
    assert cli_main(argv) == 0, capsys.readouterr()
    seg = deployed.segments(movie_id, 3, 1)[0]
    assert seg["status"] == "minted" and seg["account"] == wallet
    assert cli_main(argv) == 0 and "already minted by your wallet" in capsys.readouterr().out


def test_demo_binds_the_example_to_this_a1111(real_a1111, tmp_path):
    """The example pins Civitai models and 3D; a real A1111 has neither: the demo says so and renders."""
    import io
    from contextlib import ExitStack

    from movieminter.app.demo import run_flow

    example = tmp_path / "example.json"
    example.write_text(json.dumps(shrink_example(frames=8, mode=None)))  # the example's models, 3D kept
    out = io.StringIO()
    with ExitStack() as stack:
        result = run_flow(tmp_path / "demo", a1111_url=real_a1111.url, manifest_path=example, stack=stack, out=out)
    text = out.getvalue()
    assert "has not got the example's checkpoint dreamshaper_8" in text and "tiny-sd15.safetensors" in text
    assert "without the LoRAs this A1111 has not got: film_grain_35mm, ghibli_style_v2" in text
    assert "in 2D:" in text and "dpt_large-midas-2f21e586.pt" in text
    assert len(result["minted"]) == 2
