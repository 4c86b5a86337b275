"""One contract, two backends: every case runs against the stand-in and against
a real AUTOMATIC1111 1.10.1 + Deforum 32242685 + ControlNet on CPU. What the
real one does is the truth; the stand-in passes the same assertions."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import time
import uuid

import httpx
import pytest
from PIL import Image

from movieminter.render.deforum import DeforumClient, is_active, server_time
from movieminter.render.readiness import check_lora, file_sha256
from movieminter.render.submission import frames_written, plan_job
from movieminter.testing.a1111_double import DEFORUM_DEFAULTS, NO_DEFAULT
from tests.fixtures_a1111 import BACKENDS

both = pytest.mark.parametrize("a1111_backend", BACKENDS, indirect=True)
STATUS_KEYS = {
    "id",
    "status",
    "phase",
    "error_type",
    "phase_progress",
    "started_at",
    "last_updated",
    "execution_time",
    "update_interval_time",
    "updates",
    "message",
    "outdir",
    "timestring",
    "deforum_settings",
    "options_overrides",
}
PHASES = ["QUEUED", "PREPARING", "GENERATING", "POST_PROCESSING", "DONE"]


def settings(backend, frames: int = 6, cadence: int = 1, steps: int = 2, **over) -> dict:
    """Deforum settings as the tiny film's segment 0 exports them, with max_frames and cadence as given."""
    s = dict(plan_job(backend.film(), 0).settings)
    s.update(max_frames=frames, diffusion_cadence=cadence, steps=steps, **over)
    return s


def wait(deforum: DeforumClient, job_id: str, until, timeout: float = 120, poll: float = 0.05) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = deforum.job(job_id)
        if until(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(
                f"job {job_id} never reached the expected state; last: "
                f"{ {k: job[k] for k in ('status', 'phase', 'phase_progress', 'message')} }"
            )
        time.sleep(poll)


def finished(job: dict) -> bool:
    return job["status"] != "ACCEPTED"


def slow_frames(backend, seconds: float = 0.4) -> dict:
    """Settings whose every frame takes about a second or more (bigger frames on the real one)."""
    if backend.double is not None:
        backend.double.frame_delay = seconds
        return {}
    return {"steps": 1, "W": 256, "H": 256}


def interrupt_within_a_frame(backend, at: float, **real) -> tuple:
    """Interrupt `at` (0..1) of the way through a frame; the job's outcome. On the real one,
    `real` shapes the frame: few steps on big frames make A1111's preparation (before
    sampling) most of it, many steps make sampling most of it."""
    client = backend.client()
    deforum = DeforumClient(client)
    job_id = deforum.submit(settings(backend, frames=12, **(slow_frames(backend, 1.0) if backend.double else real)), {})
    wait(deforum, job_id, lambda j: j["phase_progress"] > 0, poll=0.005)
    start, before = time.monotonic(), deforum.job(job_id)["phase_progress"]
    wait(deforum, job_id, lambda j: j["phase_progress"] != before, poll=0.005)  # one whole frame, timed
    time.sleep(at * (time.monotonic() - start))
    client.interrupt()
    job = wait(deforum, job_id, lambda j: finished(j) or j["phase"] == "POST_PROCESSING")
    return job["status"], job["phase"], job["error_type"], job["message"], job_id


def frames_on_disk(job: dict) -> list[str]:
    ts = job["timestring"]
    return sorted(f for f in os.listdir(job["outdir"]) if f.startswith(ts + "_") and f[len(ts) + 1 : -4].isdigit())


@both
def test_submit_poll_phases_and_status_fields(a1111_backend):
    deforum = DeforumClient(a1111_backend.client())
    sub = deforum.submit_batch(settings(a1111_backend, frames=6), {})
    assert sub["batch_id"].startswith("batch(") and sub["job_ids"] == [sub["batch_id"] + "-0"]
    job_id = sub["job_ids"][0]
    seen: list[dict] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = deforum.job(job_id)
        if not seen or (job["phase"], job["phase_progress"], job["status"]) != (
            seen[-1]["phase"],
            seen[-1]["phase_progress"],
            seen[-1]["status"],
        ):
            seen.append(job)
        if finished(job):
            break
        time.sleep(0.01)
    assert set(job) == STATUS_KEYS
    assert (job["status"], job["phase"], job["phase_progress"], job["error_type"]) == ("SUCCEEDED", "DONE", 1.0, "NONE")
    phases = [j["phase"] for j in seen]
    assert phases == sorted(phases, key=PHASES.index), phases
    for j in seen:
        # outdir and timestring appear once the job is GENERATING
        assert (j["outdir"] is None) == (j["phase"] in ("QUEUED", "PREPARING")), j
        if j["phase"] in ("PREPARING", "POST_PROCESSING") or (j["phase"] == "GENERATING" and not j["phase_progress"]):
            assert j["phase_progress"] == 0
    assert job["deforum_settings"]["max_frames"] == 6 and job["options_overrides"] == {}
    assert deforum.batch(sub["batch_id"]) == [deforum.job(job_id)]
    assert len(frames_on_disk(job)) == 6


@both
@pytest.mark.parametrize("max_frames,cadence", [(7, 1), (8, 2), (9, 3), (10, 3), (4, 2)])
def test_frames_written_at_each_cadence(a1111_backend, max_frames, cadence):
    """Deforum never writes the last cadence block: c·⌊(max_frames−1)/c⌋ frames."""
    deforum = DeforumClient(a1111_backend.client())
    job_id = deforum.submit(settings(a1111_backend, frames=max_frames, cadence=cadence), {})
    job = wait(deforum, job_id, finished)
    assert job["status"] == "SUCCEEDED"
    names = frames_on_disk(job)
    assert len(names) == frames_written(max_frames, cadence)
    assert names == [f"{job['timestring']}_{i:09d}.png" for i in range(len(names))]


@both
@pytest.mark.parametrize("cadence", [1, 2, 3])
def test_the_segment_renders_its_exact_frame_count_at_any_cadence(a1111_backend, cadence, tmp_path):
    from movieminter.render.job import render_segment

    film = a1111_backend.film(frames=10, cadences={0: cadence})
    states = []
    result = render_segment(
        a1111_backend.client(), film, 0, state={}, save_state=states.append, work_dir=tmp_path, poll_interval=0.05
    )
    assert len(result.frames) == 10
    for f in result.frames:
        assert Image.open(f).size == (64, 64)
    job = DeforumClient(a1111_backend.client()).job(result.job_id)
    assert job["deforum_settings"]["max_frames"] == (10 if cadence == 1 else cadence * -(-10 // cadence) + 1)


@both
def test_interrupt_early_in_a_frame_fails_with_generation_error(a1111_backend):
    """Before A1111 starts sampling, an Interrupt leaves Deforum without an image."""
    outcomes = []
    # The Interrupt must land after Deforum's next frame began A1111's processing (earlier, Deforum's own
    # check ends the job quietly, ACCEPTED for ever) and before sampling (later, the frame is kept): that is
    # while A1111 encodes the previous frame into latents, long on a 512x512 frame with one step: between
    # 0.1 and 0.3 of the frame, varying with the machine's load. Each try lands elsewhere in that stretch.
    for at in (0.15, 0.2, 0.1, 0.25, 0.3):
        outcomes.append(interrupt_within_a_frame(a1111_backend, at, steps=1, W=512, H=512))
        if outcomes[-1][0] == "FAILED":
            break
    assert outcomes[-1][:4] == ("FAILED", "GENERATING", "RETRYABLE", "Generation error."), outcomes


@both
def test_interrupt_late_in_a_frame_leaves_the_job_accepted_for_ever(a1111_backend):
    """During sampling the frame ends early; the next frame sees the Interrupt and
    Deforum stops without ever completing the job."""
    outcomes = []
    for _ in range(4):
        outcomes.append(interrupt_within_a_frame(a1111_backend, 0.75, steps=30, W=128, H=128))
        if outcomes[-1][0] == "ACCEPTED":
            break
    assert outcomes[-1][:4] == ("ACCEPTED", "POST_PROCESSING", "NONE", None), outcomes
    job_id = outcomes[-1][4]
    deforum = DeforumClient(a1111_backend.client())
    time.sleep(3)
    jobs, now = deforum.jobs_at()
    job = jobs[job_id]
    assert (job["status"], job["phase"]) == ("ACCEPTED", "POST_PROCESSING")  # still, never completed
    # uvicorn's Date header counts whole seconds and is refreshed once a second: up to 2 s behind
    assert now is not None and now - job["last_updated"] >= 0.5
    assert len(frames_on_disk(job)) < 12
    assert is_active(job, now) and not is_active(job, now, stuck_after=0.5)


@both
def test_interrupt_while_queued_stops_the_running_job_not_the_queued_one(a1111_backend):
    client = a1111_backend.client()
    deforum = DeforumClient(client)
    slow = slow_frames(a1111_backend)
    first = deforum.submit(settings(a1111_backend, frames=8, **slow), {})
    second = deforum.submit(
        settings(a1111_backend, frames=3, steps=2, W=64, H=64, batch_name="second_{timestring}"), {}
    )
    wait(deforum, first, lambda j: j["phase"] == "GENERATING")
    assert deforum.job(second)["phase"] == "QUEUED"
    client.interrupt()
    a = wait(deforum, first, lambda j: finished(j) or j["phase"] == "POST_PROCESSING")
    if a1111_backend.double is not None:
        a1111_backend.double.frame_delay = 0.0
    b = wait(deforum, second, finished)
    assert a["status"] != "SUCCEEDED"
    assert b["status"] == "SUCCEEDED" and len(frames_on_disk(b)) == 3


@both
def test_cancelling_a_queued_job_does_not_stop_it(a1111_backend):
    """Deforum looks the future up by job id but stores it by batch id: it still runs."""
    deforum = DeforumClient(a1111_backend.client())
    slow = slow_frames(a1111_backend)
    first = deforum.submit(settings(a1111_backend, frames=6, **slow), {})
    second = deforum.submit(settings(a1111_backend, frames=3, batch_name="second_{timestring}"), {})
    wait(deforum, first, lambda j: j["phase"] == "GENERATING")
    assert deforum.cancel(second) is True
    job = deforum.job(second)
    assert (job["status"], job["phase"], job["message"]) == ("CANCELLED", "QUEUED", "Cancelled due to user request.")
    assert deforum.cancel(second) is False  # 400: no longer ACCEPTED
    if a1111_backend.double is not None:
        a1111_backend.double.frame_delay = 0.0
    job = wait(deforum, second, lambda j: j["status"] == "SUCCEEDED")
    assert job["phase"] == "DONE" and job["message"] == "Cancelled due to user request."
    assert len(frames_on_disk(job)) == 3
    assert wait(deforum, first, finished)["status"] == "SUCCEEDED"


@both
def test_cancelling_a_running_job_interrupts_it(a1111_backend):
    client = a1111_backend.client()
    deforum = DeforumClient(client)
    job_id = deforum.submit(settings(a1111_backend, frames=8, **slow_frames(a1111_backend)), {})
    wait(deforum, job_id, lambda j: j["phase_progress"] > 0)
    assert deforum.cancel(job_id) is True
    time.sleep(2)
    job = deforum.job(job_id)
    # Interrupted during sampling it fails; between frames it stays CANCELLED, never completed.
    assert (job["status"], job["phase"]) in {
        ("CANCELLED", "POST_PROCESSING"),
        ("CANCELLED", "GENERATING"),
        ("FAILED", "GENERATING"),
    }, job
    assert len(frames_on_disk(job)) < 8
    # It never finishes: busy while it may still be winding down, not once it has been silent a minute.
    if job["status"] == "CANCELLED":
        assert is_active(job, job["last_updated"] + 1) and not is_active(job, job["last_updated"] + 61)
    resp = client.request("DELETE", "/deforum_api/jobs/no-such-job")
    assert resp.status_code == 404 and resp.json() == {
        "id": "no-such-job",
        "message": "Job with ID no-such-job not found.",
    }


@both
def test_unknown_ids_and_bad_requests(a1111_backend):
    client = a1111_backend.client()
    r = client.request("GET", "/deforum_api/jobs/nope")
    assert r.status_code == 404 and r.json() == {"id": "nope", "status": "NOT FOUND"}
    for method in ("GET", "DELETE"):
        r = client.request(method, "/deforum_api/batches/nope")
        assert r.status_code == 500 and r.json() == {"error": "KeyError", "detail": "", "body": "", "errors": "'nope'"}
    r = httpx.post(
        a1111_backend.url + "/deforum_api/batches", content=b"{bad", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "value_error.jsondecode"
    r = httpx.post(a1111_backend.url + "/deforum_api/batches", json={"deforum_settings": {}})
    assert r.status_code == 400 and "No settings files provided" in r.json()["message"]
    r = httpx.get(a1111_backend.url + "/deforum_api/batches")
    assert r.status_code == 422  # Deforum declares an unused required `id`
    s = settings(a1111_backend, frames=2)
    r = httpx.post(a1111_backend.url + "/deforum_api/batches", json={"deforum_settings": [s, s]})
    assert r.status_code == 202 and len(r.json()["job_ids"]) == 2
    deforum = DeforumClient(client)
    for job_id in r.json()["job_ids"]:
        assert wait(deforum, job_id, finished)["status"] == "SUCCEEDED"
    r = httpx.get(a1111_backend.url + "/sdapi/v1/no-such-route")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = httpx.post(a1111_backend.url + "/sdapi/v1/options", json={"sd_model_checkpoint": "no-such-model"})
    assert r.status_code == 500 and r.json()["error"] == "RuntimeError"


def _install_checkpoint(backend, source, name: str) -> str:
    folder = backend.models / "Stable-diffusion"
    shutil.copy2(source, folder / f"{name}.safetensors")
    if source.with_suffix(".yaml").exists():
        shutil.copy2(source.with_suffix(".yaml"), folder / f"{name}.yaml")
    return f"{name}.safetensors"


@both
def test_checkpoint_switch_through_options_overrides(a1111_backend):
    client = a1111_backend.client()
    deforum = DeforumClient(client)
    name = f"alt-{uuid.uuid4().hex[:6]}"
    _install_checkpoint(a1111_backend, a1111_backend.alt_checkpoint, name)
    client.refresh_checkpoints()
    alt = next(m for m in client.sd_models() if m["model_name"] == name)
    before = client.options()["sd_model_checkpoint"]
    firsts = []
    for title in (None, alt["title"]):
        job_id = deforum.submit(settings(a1111_backend, frames=1), {"sd_model_checkpoint": title} if title else {})
        job = wait(deforum, job_id, finished)
        assert job["status"] == "SUCCEEDED"
        # read at once: two jobs started in the same second share a timestring, and so a folder
        firsts.append(open(os.path.join(job["outdir"], frames_on_disk(job)[0]), "rb").read())
    assert firsts[0] != firsts[1]  # another model drew it
    assert client.options()["sd_model_checkpoint"] == before  # the override was for that job only


@both
def test_checkpoint_hashes_are_null_until_a1111_loads_the_file(a1111_backend):
    client = a1111_backend.client()
    name = f"unhashed-{uuid.uuid4().hex[:6]}"
    filename = _install_checkpoint(a1111_backend, a1111_backend.checkpoint, name)
    assert name not in [m["model_name"] for m in client.sd_models()]
    client.refresh_checkpoints()
    m = next(m for m in client.sd_models() if m["model_name"] == name)
    assert (m["sha256"], m["hash"], m["title"]) == (None, None, filename)
    deforum = DeforumClient(client)
    job_id = deforum.submit(settings(a1111_backend, frames=1), {"sd_model_checkpoint": m["title"]})
    assert wait(deforum, job_id, finished)["status"] == "SUCCEEDED"
    m = next(m for m in client.sd_models() if m["model_name"] == name)
    sha = file_sha256(a1111_backend.checkpoint)
    assert m["sha256"] == sha and m["hash"] == sha[:10] and m["title"] == f"{filename} [{sha[:10]}]"


@both
def test_lora_listing_refresh_and_a_modelspec_hash_is_not_the_file_hash(a1111_backend):
    client = a1111_backend.client()
    name = f"lora-{uuid.uuid4().hex[:6]}"
    shutil.copy2(a1111_backend.lora, a1111_backend.models / "Lora" / f"{name}.safetensors")
    assert name not in [entry["name"] for entry in client.loras()]
    client.refresh_loras()
    entry = next(e for e in client.loras() if e["name"] == name)
    sha = file_sha256(a1111_backend.lora)
    spec = entry["metadata"]["modelspec.hash_sha256"]
    assert spec.startswith("0x") and spec[2:] != sha  # a hash of the tensors, not of the file
    status = check_lora(client, {"name": name, "sha256": sha, "format": "safetensors"})
    assert status.state == "ready" and status.verified, status


@both
def test_frames_through_the_file_route(a1111_backend):
    """What a remote Movie Minter uses: gradio 3.41's /file= serves A1111's folder."""
    client = a1111_backend.client(local_files=False)
    deforum = DeforumClient(client)
    job = wait(deforum, deforum.submit(settings(a1111_backend, frames=2), {}), finished)
    path = os.path.join(job["outdir"], frames_on_disk(job)[0])
    assert client.fetch_file(path) == open(path, "rb").read()
    assert client.request("HEAD", client.file_url(path)).status_code == 200
    r = client.request("GET", client.file_url("/etc/passwd"))
    assert r.status_code == 403 and r.json()["detail"] == "File not allowed: /etc/passwd."
    missing = os.path.join(job["outdir"], "nope.png")
    r = client.request("GET", client.file_url(missing))
    assert r.status_code == 404 and r.json()["detail"] == f"File not found: {missing}."
    assert client.request("GET", client.file_url(job["outdir"])).status_code == 403  # a folder


@both
def test_omitted_keys_take_deforums_defaults(a1111_backend):
    """Keys a settings file leaves out take Deforum's UI defaults (not neutral ones)."""
    deforum = DeforumClient(a1111_backend.client())
    full = settings(a1111_backend)
    minimal = {k: v for k, v in full.items() if k.startswith("cn_")}  # without them every job fails
    minimal.update(W=64, H=64, max_frames=3, steps=1, diffusion_cadence=1)
    job = wait(deforum, deforum.submit(minimal, {}), finished)
    assert job["status"] == "SUCCEEDED"
    saved = json.loads(open(os.path.join(job["outdir"], f"{job['timestring']}_settings.txt")).read())
    run_specific = {"W", "H", "max_frames", "steps", "diffusion_cadence", "seed", "batch_name", "prompts"}
    assert all(saved[k] is not None for k in NO_DEFAULT)  # ControlNet's keys came from the file
    assert {k: saved.get(k) for k in DEFORUM_DEFAULTS if k not in run_specific} == {
        k: v for k, v in DEFORUM_DEFAULTS.items() if k not in run_specific
    }
    assert saved["zoom"] == "0: (1.0025+0.002*sin(1.25*3.14*t/30))" and saved["sampler"] == "Euler a"


@both
def test_cn_keys_missing_fail_every_job(a1111_backend):
    deforum = DeforumClient(a1111_backend.client())
    s = {k: v for k, v in settings(a1111_backend, frames=2).items() if not k.startswith("cn_")}
    job = wait(deforum, deforum.submit(s, {}), finished)
    assert (job["status"], job["error_type"], job["message"]) == ("FAILED", "RETRYABLE", "Generation error.")


@both
def test_txt2img_answers_pngs_and_info_as_a_json_string(a1111_backend):
    r = httpx.post(
        a1111_backend.url + "/sdapi/v1/txt2img",
        timeout=120,
        json={"prompt": "a lighthouse", "seed": 5, "steps": 2, "width": 64, "height": 96},
    )
    body = r.json()
    assert r.status_code == 200 and isinstance(body["info"], str)
    img = Image.open(io.BytesIO(base64.b64decode(body["images"][0])))
    assert img.size == (64, 96) and json.loads(body["info"])["seed"] == 5
    flags = a1111_backend.client().cmd_flags()
    assert flags["deforum_api"] == "True" and flags["api"] is True  # Deforum's flag is a string


@both
def test_server_clock_and_sysinfo(a1111_backend):
    client = a1111_backend.client()
    resp = client.request("GET", "/deforum_api/jobs")
    assert -5 < server_time(resp) - time.time() < 1
    exts = client.installed_extensions()
    assert {"sd-webui-deforum", "sd-webui-controlnet"} <= set(exts)
    assert client.request("GET", "/controlnet/version").json() == {"version": 3}
    assert client.sysinfo()["Version"] == "1.10.1"


@pytest.mark.parametrize("a1111_backend", BACKENDS, indirect=True)
def test_progress_answers_500_after_a_deforum_job_until_a_txt2img(a1111_backend, request):
    """Deforum sets A1111's job_count but never time_start: /sdapi/v1/progress divides by None
    (a TypeError, 500) on an A1111 that has not run a txt2img since it started."""
    backend = a1111_backend
    if backend.kind == "real":  # the session's A1111 has run txt2img already: a fresh one
        backend = request.getfixturevalue("start_real_a1111")()
    client = backend.client()
    deforum = DeforumClient(client)
    assert wait(deforum, deforum.submit(settings(backend, frames=2), {}), finished)["status"] == "SUCCEEDED"
    r = httpx.get(backend.url + "/sdapi/v1/progress")
    assert r.status_code == 500 and r.json()["error"] == "TypeError"
    client.txt2img({"prompt": "x", "steps": 1, "width": 64, "height": 64})
    r = httpx.get(backend.url + "/sdapi/v1/progress")
    assert r.status_code == 200 and r.json()["state"]["job_count"] == 0
