"""render_segment through the A1111 double: a full segment, every fault, cancel, resume."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
from PIL import Image

from movieminter.render.a1111 import A1111Client
from movieminter.render.errors import A1111Unreachable, FramesError, ModelError, RenderCancelled, RenderFailed
from movieminter.render.job import render_segment
from movieminter.testing.a1111_double import Faults

N = 12  # frames of the small film


class Killed(Exception):
    """Stands in for the process dying at a chosen moment."""


def run(client, manifest, tmp_path, index=0, state=None, on_progress=None, **kw):
    saved = []
    progress = []

    order = []

    def save(s):
        saved.append(dict(s))
        order.append("save:job_id" if s.get("job_id") else "save")

    def prog(p):
        progress.append(p)
        order.append("progress")
        if on_progress:
            on_progress(p)

    result = None
    try:
        result = render_segment(
            client,
            manifest,
            index,
            state=dict(state or {}),
            save_state=save,
            on_progress=prog,
            work_dir=tmp_path / "work",
            poll_interval=0.02,
            **kw,
        )
    finally:
        run.saved, run.progress, run.order = saved, progress, order
    return result, saved, progress


def test_full_48_frame_segment(a1111, lighthouse, tmp_path):
    double, url = a1111
    result, saved, progress = run(A1111Client(url), lighthouse, tmp_path)
    assert len(result.frames) == 48 and result.frames_dir == tmp_path / "work/frames"
    arrays = []
    for p in result.frames:
        with Image.open(p) as im:
            assert im.size == (512, 288) and im.format == "PNG"
            arrays.append(np.asarray(im.convert("RGB"), dtype=np.int16))
    assert all(np.abs(a - b).mean() > 0.5 for a, b in zip(arrays, arrays[1:], strict=False))  # the camera moves
    # The intent to submit, then the job id, were saved before any progress was reported.
    assert saved[0]["submitting_since"] and saved[0]["job_id"] is None
    assert saved[1]["job_id"] == result.job_id and saved[1]["batch_id"] and saved[1]["submitted_at"]
    assert run.order.index("save:job_id") < run.order.index("progress")
    # The checkpoint went as A1111's title of the file matched by hash.
    job = double.statuses[result.job_id]
    assert job["options_overrides"]["sd_model_checkpoint"] == "dreamshaper_8.safetensors [05c4eab871]"
    assert job["deforum_settings"]["max_frames"] == 49  # cadence 2: Deforum skips the last block
    assert job["deforum_settings"]["sampler"] == "DPM++ 2M Karras"  # the scheduler rides on the name
    done = [p.frames_done for p in progress]
    assert done == sorted(done) and done[-1] == 48 and progress[-1].phase == "DONE"
    assert result.versions["a1111"] == "1.10.1"
    assert double.jobs_submitted == 1 and not double.fallback_warnings and not double.lora_warnings


def test_double_frames_depend_on_prompt_seed_checkpoint_and_camera():
    from movieminter.testing.a1111_scene import animate, scene

    def arr(img):
        return np.asarray(img, dtype=np.int16)

    base = arr(scene("a small_film at dusk", 1, "ckpt-a", 128, 72))
    assert np.array_equal(base, arr(scene("a small_film at dusk", 1, "ckpt-a", 128, 72)))
    for other in (
        scene("a green forest", 1, "ckpt-a", 128, 72),
        scene("a small_film at dusk", 2, "ckpt-a", 128, 72),
        scene("a small_film at dusk", 1, "ckpt-b", 128, 72),
    ):
        assert np.abs(base - arr(other)).mean() > 1

    def last_frame(**motion):
        m = {
            k: [0.0] * 8
            for k in (
                "angle",
                "translation_x",
                "translation_y",
                "translation_z",
                "rotation_3d_x",
                "rotation_3d_y",
                "rotation_3d_z",
            )
        }
        m["zoom"] = [1.0] * 8
        m.update({k: [v] * 8 for k, v in motion.items()})
        return arr(
            list(animate(["a small_film"] * 8, list(range(8)), [0.65] * 8, [0.0] * 8, m, "2D", "ckpt-a", 128, 72))[-1]
        )

    still = last_frame()
    assert np.abs(still - last_frame(zoom=1.05)).mean() > 1
    assert np.abs(still - last_frame(translation_x=3.0)).mean() > 1
    assert np.abs(still - last_frame(angle=2.0)).mean() > 1


def test_a_failed_job_is_reported_not_resubmitted(a1111_factory, small_film, tmp_path):
    """Real Deforum calls every render error RETRYABLE "Generation error." (an
    Interrupt too): resubmitting would override the user or repeat a deterministic failure."""
    double, url, _ = a1111_factory(faults=Faults(fail_jobs=[("retryable", 5)]))
    with pytest.raises(RenderFailed) as err:
        run(A1111Client(url), small_film, tmp_path)
    assert double.jobs_submitted == 1
    assert re.fullmatch(r'Deforum stopped with "Generation error\." after \d+ of 12 frames', err.value.message)
    assert "*START OF TRACEBACK*" in err.value.hint and "GPU memory" not in err.value.hint
    # The user's retry (a new call with the saved state) renders anew, once.
    result, _, _ = run(A1111Client(url), small_film, tmp_path, state=run.saved[-1])
    assert len(result.frames) == N and double.jobs_submitted == 2


def test_a_failure_seen_after_a_restart_is_reported_before_anything_is_rerendered(a1111_factory, small_film, tmp_path):
    double, url, _ = a1111_factory(faults=Faults(fail_jobs=[("retryable", 2)]))
    with pytest.raises(RenderFailed):
        run(A1111Client(url), small_film, tmp_path)
    state = {k: v for k, v in run.saved[-1].items() if k != "reported"}  # died before it could report
    with pytest.raises(RenderFailed):
        run(A1111Client(url), small_film, tmp_path, state=state)
    assert double.jobs_submitted == 1


def test_terminal_failure_reports_deforums_message(a1111_factory, small_film, tmp_path):
    double, url, _ = a1111_factory(faults=Faults(fail_jobs=[("terminal", 0)]))
    with pytest.raises(RenderFailed) as err:
        run(A1111Client(url), small_film, tmp_path)
    assert err.value.message == "Deforum refused the job: Invalid arguments." and double.jobs_submitted == 1
    assert "console" in err.value.hint


def test_without_controlnet_the_failure_names_it(a1111_factory, small_film, tmp_path):
    double, url, _ = a1111_factory(faults=Faults(controlnet=False))
    with pytest.raises(RenderFailed) as err:
        run(A1111Client(url), small_film, tmp_path)
    assert "ControlNet extension is missing" in err.value.hint and double.jobs_submitted == 1


def test_cancel_deletes_the_running_job_and_deforum_interrupts_it(a1111, small_film, tmp_path):
    double, url = a1111
    double.frame_delay = 0.1
    cancel = threading.Event()

    def on_progress(p):
        if p.frames_done >= 3:
            cancel.set()

    with pytest.raises(RenderCancelled):
        run(A1111Client(url), small_film, tmp_path, on_progress=on_progress, cancel=cancel)
    job_id = run.saved[-1]["job_id"]
    assert double.statuses[job_id]["status"] in ("CANCELLED", "FAILED") and double.interrupted
    # It stays CANCELLED mid-run for ever in Deforum; it must not keep previews refused.
    client = A1111Client(url)
    assert client.running_deforum_jobs() == []
    assert client.txt2img({"prompt": "a lighthouse", "steps": 2, "width": 64, "height": 64})["images"]


def test_interrupted_in_a1111_between_frames_ends_clearly_and_frees_deforum(a1111, small_film, tmp_path):
    """Deforum leaves such a job ACCEPTED in POST_PROCESSING for ever."""
    from movieminter.render.errors import RenderInterrupted
    from movieminter.render.job import RenderLimits

    double, url = a1111
    double.frame_delay = 0.05
    client = A1111Client(url)

    def on_progress(p):
        if p.frames_done >= 3 and not double.interrupted:
            double.interrupted = True  # A1111's Interrupt button, late in a frame

    with pytest.raises(RenderInterrupted) as err:
        run(client, small_film, tmp_path, on_progress=on_progress, limits=RenderLimits(post_processing=0.5))
    job = double.statuses[run.saved[-1]["job_id"]]
    assert (job["status"], job["phase"]) == ("ACCEPTED", "POST_PROCESSING")
    assert "interrupted in A1111 after" in err.value.message and double.jobs_submitted == 1
    # Not believed busy: previews may run at once (and another process's after a minute of silence).
    from movieminter.render.deforum import is_active

    assert client.running_deforum_jobs() == [] and not is_active(job, job["last_updated"] + 61)
    # Rendering again submits a new job.
    result, _, _ = run(client, small_film, tmp_path, state=run.saved[-1])
    assert len(result.frames) == N and double.jobs_submitted == 2


def test_server_dies_mid_job(a1111_factory, small_film, tmp_path):
    _, url, _ = a1111_factory(faults=Faults(die_at_frame=5))
    with pytest.raises(A1111Unreachable) as err:
        run(A1111Client(url, retries=1, backoff=0.01), small_film, tmp_path)
    assert "--api" in err.value.hint
    assert run.saved[-1]["job_id"]  # a restart can look for this job


def test_resume_after_a_kill_follows_the_same_job(a1111, small_film, tmp_path):
    double, url = a1111
    double.frame_delay = 0.1

    def die(p):
        if p.frames_done >= 2:
            raise Killed()

    with pytest.raises(Killed):
        run(A1111Client(url), small_film, tmp_path, on_progress=die)
    state = run.saved[-1]
    result, _, _ = run(A1111Client(url), small_film, tmp_path, state=state)
    assert result.job_id == state["job_id"] and len(result.frames) == N
    assert double.jobs_submitted == 1  # never rendered twice
    # A third call finds the collected frames and asks A1111 for nothing.
    again, _, _ = run(A1111Client(url), small_film, tmp_path, state=run.saved[-1])
    assert again.reused and double.jobs_submitted == 1


def test_a1111_restarted_finished_frames_are_reused(a1111_factory, small_film, tmp_path):
    first, url, stop = a1111_factory()

    def die_before_collecting(p):
        if p.status == "SUCCEEDED":
            raise Killed()

    with pytest.raises(Killed):
        run(A1111Client(url), small_film, tmp_path, on_progress=die_before_collecting)
    state = run.saved[-1]
    stop()
    second, url2, _ = a1111_factory(models=False, root=first.root)  # same disk, jobs forgotten
    result, _, _ = run(A1111Client(url2), small_film, tmp_path, state=state)
    assert result.reused and len(result.frames) == N and second.jobs_submitted == 0


def test_a1111_restarted_unfinished_job_renders_again(a1111_factory, small_film, tmp_path):
    first, url, _ = a1111_factory(faults=Faults(die_at_frame=5))
    with pytest.raises(A1111Unreachable):
        run(A1111Client(url, retries=0), small_film, tmp_path)
    state = run.saved[-1]
    second, url2, _ = a1111_factory(models=False, root=first.root)
    result, _, _ = run(A1111Client(url2), small_film, tmp_path, state=state)
    assert len(result.frames) == N and not result.reused and second.jobs_submitted == 1


def test_missing_model_stops_before_submitting(a1111_factory, small_film, tmp_path):
    double, url, _ = a1111_factory(models=False)
    with pytest.raises(ModelError) as err:
        run(A1111Client(url), small_film, tmp_path)
    assert "dreamshaper_8" in err.value.message and "models ensure" in err.value.hint
    assert double.jobs_submitted == 0


def test_remote_a1111_frames_over_http(a1111, small_film, tmp_path):
    _, url = a1111
    result, _, _ = run(A1111Client(url, local_files=False), small_film, tmp_path)
    assert len(result.frames) == N
    with Image.open(result.frames[-1]) as im:
        assert im.size == (128, 72)


def test_remote_forge_without_allowed_path_says_what_to_change(a1111_factory, small_film, tmp_path):
    _, url, _ = a1111_factory(file_route="gradio4")
    with pytest.raises(FramesError) as err:
        run(A1111Client(url, local_files=False), small_film, tmp_path)
    assert "--gradio-allowed-path" in err.value.hint and "movieminter serve" in err.value.hint


def test_slow_a1111_times_out_with_a_clear_error(a1111_factory):
    from movieminter.render.errors import A1111Timeout

    _, url, _ = a1111_factory(faults=Faults(slow=1.0))
    with pytest.raises(A1111Timeout) as err:
        A1111Client(url, timeout=0.2, retries=1, backoff=0.01).sd_models()
    assert "did not answer" in err.value.message and "busy" in err.value.hint


def test_lost_submit_answer_adopts_the_job_instead_of_rendering_twice(a1111_factory, small_film, tmp_path):
    double, url, _ = a1111_factory(faults=Faults(slow=1.0, slow_only="/deforum_api/batches"))
    result, saved, _ = run(A1111Client(url, timeout=0.3), small_film, tmp_path)
    assert len(result.frames) == N and double.jobs_submitted == 1
    assert saved[0]["submitting_since"] and saved[0]["job_id"] is None  # recorded before submitting


def test_resume_after_dying_while_submitting(a1111, small_film, tmp_path):
    """Killed between Deforum accepting the job and saving its id: the next run finds it."""
    double, url = a1111
    client = A1111Client(url)
    from movieminter.manifest import segment_settings_digest
    from movieminter.render.submission import plan_job

    since = __import__("time").time()
    from movieminter.render.deforum import DeforumClient

    DeforumClient(client).submit(
        plan_job(small_film, 0).settings, {"sd_model_checkpoint": "dreamshaper_8.safetensors [05c4eab871]"}
    )
    state = {"submitting_since": since, "job_id": None, "settings_digest": segment_settings_digest(small_film, 0)}
    result, _, _ = run(client, small_film, tmp_path, state=state)
    assert len(result.frames) == N and double.jobs_submitted == 1


def test_cancelling_our_queued_job_never_interrupts_the_job_ahead(a1111, small_film, tmp_path):
    """Deforum cannot dequeue a job: ours is marked CANCELLED, the running one is left alone,
    and ours is interrupted the moment it starts."""
    import time

    from movieminter.render.deforum import DeforumClient
    from movieminter.render.submission import plan_job

    double, url = a1111
    double.frame_delay = 0.2
    client = A1111Client(url)
    deforum = DeforumClient(client)
    ahead = deforum.submit(dict(plan_job(small_film, 0).settings, batch_name="ahead_{timestring}"))
    cancel = threading.Event()

    def on_progress(p):
        if p.phase == "QUEUED":
            cancel.set()

    with pytest.raises(RenderCancelled):
        run(client, small_film, tmp_path, on_progress=on_progress, cancel=cancel)
    ours = run.saved[-1]["job_id"]

    def settle(job_id, done):
        deadline = time.monotonic() + 30
        while not done(deforum.job(job_id)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return deforum.job(job_id)

    assert settle(ahead, lambda j: j["status"] != "ACCEPTED")["status"] == "SUCCEEDED"  # left alone
    job = settle(ours, lambda j: j["phase"] in ("POST_PROCESSING", "DONE") or j["status"] == "FAILED")
    assert job["status"] in ("CANCELLED", "FAILED") and job["phase"] != "DONE"  # stopped as soon as it ran
