"""A stand-in for AUTOMATIC1111 1.10.1 (`--api`) with Deforum 32242685
(`--deforum-api`) and ControlNet, faithful to what the real ones do on the
wire (checked by tests/test_a1111_contract.py against the real thing),
quirks included:

- `/sdapi/v1/*` behind optional HTTP Basic (`--api-auth`), 404 without `--api`;
  sd-models report `hash`/`sha256` as null until a checkpoint is hashed
  (A1111 hashes on load), titles gain ` [shorthash]` once it is; an unknown
  checkpoint in a job's options silently falls back to the first one.
  Unhandled errors answer 500 with A1111's JSON body
  `{"error", "detail", "body", "errors"}`; `cmd-flags` carries Deforum's
  flag as the string "True"; `/sdapi/v1/progress` answers 500 after a
  Deforum job until a txt2img runs (Deforum sets job_count, never time_start).
- `/deforum_api/*`: submit answers 202 `{batch_id: "batch(N)", job_ids}`; one
  worker runs batches in order; a job is ACCEPTED while queued or running,
  phases QUEUED → PREPARING → GENERATING (outdir/timestring appear here) →
  POST_PROCESSING → DONE, `phase_progress` an integer 0 at each phase start;
  an unknown batch id is a 500, an unknown job a 404
  `{"id", "status": "NOT FOUND"}`; invalid JSON is a 422.
- Frames: `{outdir}/{timestring}_{frame:09d}.png`. With diffusion cadence
  c > 1 Deforum never writes the last cadence block: c·⌊(max_frames−1)/c⌋
  frames (cadence 2, 48 frames → 46).
- Every exception while rendering is FAILED/RETRYABLE "Generation error.";
  bad arguments are TERMINAL "Invalid arguments.". An Interrupt early in a
  frame (before A1111 starts sampling) leaves no image: FAILED "Generation
  error.". Later in a frame, or between frames, it ends the loop and the job
  stays ACCEPTED in POST_PROCESSING for ever (Deforum marks a job complete
  only when not interrupted).
- Cancelling a running job interrupts it; cancelling a QUEUED job only marks
  it CANCELLED: it still runs later and ends SUCCEEDED (Deforum looks the
  future up by job id but stored it by batch id).
- Without the ControlNet extension (or with cn_* keys missing from the
  settings) every job fails "Generation error."; a 3D job with depth warping
  fails when the depth model is not in models/Deforum (Deforum would
  download it), and every later 3D job fails until A1111 restarts.
- gradio 3.41's `/file=` route serves files inside the A1111 folder (and
  `--gradio-allowed-path`), 403 elsewhere, 404 when missing.

Fault injection (constructor or CLI): failing jobs, the server dying mid-job,
slow responses, API or Deforum API off, no ControlNet.

    python -m movieminter.testing.a1111_double --port 7860 --root /tmp/a1111
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import io
import json
import os
import random
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from movieminter.manifest.schedules import evaluate_schedule
from movieminter.testing import a1111_scene
from movieminter.testing.fake_models import FAKE_MODELS, safetensors_bytes
from movieminter.testing.server_thread import serve_in_thread

A1111_VERSION = "1.10.1"
A1111_COMMIT = "82a973c04367123ae98bd9abdf80d9eda9b910e2"
DEFORUM_COMMIT = "322426851408ebca2cd49492bfeb1ec86e1dc869"
CONTROLNET_COMMIT = "56cec5b2958edf3b1807b7e7b2b1b5186dbd2f81"
CHECKPOINT_EXTS = (".safetensors", ".ckpt")
LORA_EXTS = (".safetensors", ".pt")
# Deforum's depth models (depth_midas.py, depth_adabins.py, depth_leres.py), by depth_algorithm.
DEPTH_MODEL_FILES = {
    "midas-3-hybrid": ["dpt_large-midas-2f21e586.pt"],
    "midas-3.1-beitlarge": ["dpt_beit_large_512.pt"],
    "midas+adabins (old)": ["dpt_large-midas-2f21e586.pt", "AdaBins_nyu.pt"],
    "adabins": ["AdaBins_nyu.pt"],
    "leres": ["res101.pth"],
}
_DEFAULTS_FILE = json.loads((Path(__file__).with_name("a1111_deforum_defaults.json")).read_text())
DEFORUM_DEFAULTS: dict = _DEFAULTS_FILE["defaults"]
NO_DEFAULT: list[str] = _DEFAULTS_FILE["no_default"]  # ControlNet's keys: None unless the settings carry them


@dataclasses.dataclass
class Faults:
    """What goes wrong, on purpose (and what is installed)."""

    api: bool = True  # False: started without --api
    deforum_api: bool = True  # False: without --deforum-api
    api_auth: str | None = None  # "user:pass" like --api-auth
    # Per job: ("retryable", at_frame) raises while rendering (Deforum: RETRYABLE "Generation error.");
    # ("terminal", _) is a settings file Deforum cannot process (TERMINAL "Invalid arguments.").
    fail_jobs: list = dataclasses.field(default_factory=list)
    die_at_frame: int | None = None  # the process dies after writing this many frames
    slow: float = 0.0  # seconds added to every response (after the work is done)
    slow_only: str | None = None  # ...or only to paths starting with this
    hashed: str = "all"  # all | none (hash on load) | short (hash set, sha256 null)
    controlnet: bool = True  # the ControlNet extension is installed (Deforum needs it)
    git_extensions: bool = True  # extensions are git clones (/sdapi/v1/extensions lists only those)


class _Interrupted(Exception):
    """A1111's sampler stopped by state.interrupted (process_images then returns no image)."""


class A1111Double:
    def __init__(
        self,
        root: str | Path,
        *,
        faults: Faults | None = None,
        frame_delay: float = 0.01,
        allowed_paths: list[str] | None = None,
        file_route: str = "gradio3",
    ):
        self.root = Path(root).resolve()
        # gradio3 (A1111 1.10): /file= serves the app's own folder; gradio4 (Forge): only allowed paths.
        self.file_route = file_route
        self.faults = faults or Faults()
        self.frame_delay = frame_delay
        self.allowed_paths = [Path(p).resolve() for p in (allowed_paths or [])]
        self.models_dir = self.root / "models"
        for sub in ("Stable-diffusion", "Lora", "Deforum"):
            (self.models_dir / sub).mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.hashes: dict[str, str] = {}  # file path -> sha256 (A1111's cache.json)
        self.checkpoints: list[Path] = []
        self.lora_files: list[Path] = []
        self.statuses: dict[str, dict] = {}  # Deforum's JobStatusTracker
        self.batches: dict[str, list[str]] = {}
        self.queue: list[tuple[str, list[str], list[dict], dict]] = []  # batches, as Deforum's executor
        self.wakeup = threading.Condition(self.lock)
        # A1111's shared.state, as far as the API shows it.
        self.interrupted = False
        self.job_count = 0
        self.time_start: float | None = None
        self.running_job: str | None = None
        self.depth_poisoned = False  # a failed depth-model load sticks until restart
        self.progress_state = {"job": "", "job_no": 0, "job_count": 0, "frame": 0, "frames": 0}
        self.options_data = {
            "sd_model_checkpoint": None,
            "sd_checkpoint_hash": None,
            "samples_format": "png",
            "outdir_samples": "",
            "outdir_img2img_samples": "outputs/img2img-images",
            "CLIP_stop_at_last_layers": 1,
            "eta_noise_seed_delta": 0,
        }
        # Counters the tests read.
        self.jobs_submitted = 0
        self.txt2img_calls = 0
        self.txt2img_during_deforum = 0
        self.fallback_warnings: list[str] = []
        self.lora_warnings: list[str] = []
        self.dead = False
        self.on_die: Callable[[], None] = lambda: os._exit(1)
        self.refresh_checkpoints()
        self.refresh_loras()
        if self.faults.hashed == "all":  # hashed by an earlier session (A1111's cache.json)
            for p in self.checkpoints:
                self._hash(p)
        if self.checkpoints:
            first = self.checkpoints[0]
            if self.faults.hashed == "all":
                self._load_checkpoint(first)
            else:
                self.options_data["sd_model_checkpoint"] = self._title(first)
        self.worker = threading.Thread(target=self._work, name="deforum-double", daemon=True)
        self.worker.start()

    # -- models ------------------------------------------------------------

    def refresh_checkpoints(self) -> None:
        """A new file is listed unhashed: A1111 hashes a checkpoint when it loads it."""
        folder = self.models_dir / "Stable-diffusion"
        with self.lock:
            self.checkpoints = sorted(p for p in folder.rglob("*") if p.suffix in CHECKPOINT_EXTS)

    def refresh_loras(self) -> None:
        folder = self.models_dir / "Lora"
        with self.lock:
            self.lora_files = sorted(p for p in folder.rglob("*") if p.suffix in LORA_EXTS)

    def _hash(self, path: Path) -> str:
        key = str(path)
        if key not in self.hashes:
            self.hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self.hashes[key]

    def _name(self, path: Path) -> str:
        return path.relative_to(self.models_dir / "Stable-diffusion").as_posix()

    def _title(self, path: Path) -> str:
        sha = self.hashes.get(str(path))
        return f"{self._name(path)} [{sha[:10]}]" if sha else self._name(path)

    def _checkpoint_info(self, path: Path) -> dict:
        sha = self.hashes.get(str(path))
        if self.faults.hashed == "short":
            sha_full, short = None, self._hash(path)[:10]
            title = f"{self._name(path)} [{short}]"
        else:
            sha_full, short, title = sha, (sha[:10] if sha else None), self._title(path)
        return {
            "title": title,
            "model_name": Path(self._name(path)).with_suffix("").as_posix().replace("/", "_"),
            "hash": short,
            "sha256": sha_full,
            "filename": str(path),
            "config": None,
        }

    def _aliases(self, path: Path) -> set[str]:
        info = self._checkpoint_info(path)
        ids = {info["model_name"], self._name(path), info["title"], Path(self._name(path)).stem}
        sha = self.hashes.get(str(path))
        if sha:
            ids |= {sha, sha[:10], f"{self._name(path)} [{sha[:10]}]"}
        return ids

    def _find_checkpoint(self, name: str) -> Path | None:
        for p in self.checkpoints:
            if name in self._aliases(p):
                return p
        return None

    def _load_checkpoint(self, path: Path) -> None:
        """Loading a checkpoint hashes it (A1111 computes sha256 on load)."""
        self._hash(path)
        self.options_data["sd_model_checkpoint"] = self._title(path)
        self.options_data["sd_checkpoint_hash"] = self.hashes[str(path)]

    def _select_checkpoint(self, name: str | None) -> Path | None:
        """A1111's select_checkpoint: unknown names fall back to the first model."""
        with self.lock:
            if name:
                found = self._find_checkpoint(name)
                if found is None and self.checkpoints:
                    found = self.checkpoints[0]
                    self.fallback_warnings.append(f"Checkpoint {name} not found; loading fallback {self._title(found)}")
            else:
                current = self.options_data["sd_model_checkpoint"]
                found = self._find_checkpoint(current) if current else None
                found = found or (self.checkpoints[0] if self.checkpoints else None)
            if found is not None:
                self._load_checkpoint(found)
            return found

    # -- Deforum worker ------------------------------------------------------

    def submit(self, settings_list: list[dict], options_overrides: dict | None) -> dict:
        with self.lock:
            batch_id = f"batch({random.randint(0, int(1e9))})"
            job_ids = [f"{batch_id}-{i}" for i in range(len(settings_list))]
            now = time.time()
            self.batches[batch_id] = job_ids
            for job_id, settings in zip(job_ids, settings_list, strict=False):
                self.jobs_submitted += 1
                self.statuses[job_id] = {
                    "id": job_id,
                    "status": "ACCEPTED",
                    "phase": "QUEUED",
                    "error_type": "NONE",
                    "phase_progress": 0.0,
                    "started_at": now,
                    "last_updated": now,
                    "execution_time": 0,
                    "update_interval_time": 0,
                    "updates": 0,
                    "message": None,
                    "outdir": None,
                    "timestring": None,
                    "deforum_settings": settings,
                    "options_overrides": options_overrides,
                }
            self.queue.append((batch_id, job_ids, settings_list, options_overrides or {}))
            self.wakeup.notify_all()
            return {"message": "Job(s) accepted", "batch_id": batch_id, "job_ids": job_ids}

    def _update(self, job_id: str, **changes) -> None:
        """JobStatusTracker's update_phase/complete/fail/cancel: replace fields, count the update."""
        with self.lock:
            st = self.statuses[job_id]
            now = time.time()
            st.update(changes)
            st["update_interval_time"] = now - st["last_updated"]
            st["last_updated"] = now
            st["execution_time"] = now - st["started_at"]
            st["updates"] += 1

    def _work(self) -> None:
        while True:
            with self.lock:
                while not self.queue and not self.dead:
                    self.wakeup.wait()
                if self.dead:
                    return
                batch_id, job_ids, settings_list, overrides = self.queue.pop(0)
                # run_deforum_batch clears state left over from cancelled jobs.
                self.interrupted = False
            try:
                with self._options_overridden(overrides):
                    self._run_batch(job_ids, settings_list, overrides)
            except _Died:
                return
            except Exception as exc:  # run_deforum_batch: every job of the batch fails TERMINAL
                for job_id in job_ids:
                    self._update(job_id, status="FAILED", error_type="TERMINAL", message=str({exc}))
            finally:
                with self.lock:
                    self.running_job = None
                    self.progress_state.update(job="", frame=0, frames=0)

    def _run_batch(self, job_ids: list[str], settings_list: list[dict], overrides: dict) -> None:
        """run_deforum: the jobs of a batch in order; an invalid settings file ends the batch."""
        checkpoint = self._select_checkpoint(overrides.get("sd_model_checkpoint"))
        for job_id, settings in zip(job_ids, settings_list, strict=False):
            with self.lock:
                self.running_job = job_id
            self._update(job_id, phase="PREPARING", phase_progress=0)
            fault = self.faults.fail_jobs.pop(0) if self.faults.fail_jobs else None
            if fault and fault[0] == "terminal":
                self._update(job_id, status="FAILED", error_type="TERMINAL", message="Invalid arguments.")
                return
            s = {**DEFORUM_DEFAULTS, **settings}  # the quirk: omitted keys take UI defaults
            timestring = time.strftime("%Y%m%d%H%M%S")
            outdir = (
                self.root
                / self.options_data["outdir_img2img_samples"]
                / str(s["batch_name"]).replace("{timestring}", timestring)
            )
            self._update(job_id, phase="GENERATING", phase_progress=0)
            self._update(job_id, outdir=str(outdir), timestring=timestring)
            try:
                self._render(job_id, s, checkpoint, outdir, timestring, fault)
            except _Died:
                raise
            except Exception:
                self._update(job_id, status="FAILED", error_type="RETRYABLE", message="Generation error.")
                continue
            self._update(job_id, phase="POST_PROCESSING", phase_progress=0)
            if not self.interrupted:
                self._update(job_id, status="SUCCEEDED", phase="DONE", phase_progress=1.0)

    def _render(
        self, job_id: str, s: dict, checkpoint: Path | None, outdir: Path, timestring: str, fault: tuple | None
    ) -> None:
        """render_animation: raises for what Deforum reports as "Generation error."."""
        if not self.faults.controlnet:
            raise AttributeError("'types.SimpleNamespace' object has no attribute 'cn_1_weight'")
        if any(s.get(k) is None for k in NO_DEFAULT):
            raise AttributeError("'NoneType' object has no attribute 'split'")
        if s["animation_mode"] == "3D" and s.get("use_depth_warping", True):
            wanted = DEPTH_MODEL_FILES.get(str(s.get("depth_algorithm", "")).lower(), [])
            missing = [f for f in wanted if not (self.models_dir / "Deforum" / f).is_file()]
            if missing or self.depth_poisoned:
                self.depth_poisoned = True  # the half-made depth model stays until A1111 restarts
                raise RuntimeError(f"could not download {', '.join(missing) or 'the depth model'}")
        self._warn_missing_loras(" ".join(str(v) for v in dict(s["prompts"]).values()))
        ckpt_id = self.hashes.get(str(checkpoint), "no-model") if checkpoint else "no-model"
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / f"{timestring}_settings.txt").write_text(json.dumps(s, indent=2, default=str))
        frames = int(s["max_frames"])
        width, height = int(s["W"]) - int(s["W"]) % 8, int(s["H"]) - int(s["H"]) % 8
        seed = int(s["seed"]) if int(s["seed"]) != -1 else random.randint(0, 2**32 - 1)

        motion = {
            k: evaluate_schedule(str(s[k]), frames, seed=seed)
            for k in (
                "zoom",
                "angle",
                "translation_x",
                "translation_y",
                "translation_z",
                "rotation_3d_x",
                "rotation_3d_y",
                "rotation_3d_z",
            )
        }
        strengths = evaluate_schedule(str(s["strength_schedule"]), frames, seed=seed)
        noises = evaluate_schedule(str(s["noise_schedule"]), frames, seed=seed)
        iter_seeds = [seed + f if s["seed_behavior"] == "iter" else seed for f in range(frames)]
        images = a1111_scene.animate(
            _frame_prompts(s, frames),
            iter_seeds,
            strengths,
            noises,
            motion,
            str(s["animation_mode"]),
            ckpt_id,
            width,
            height,
        )
        cadence = max(1, int(s["diffusion_cadence"]))
        with self.lock:
            self.job_count, self.progress_state = (
                frames,
                {"job": f"Deforum {job_id}", "job_no": 0, "job_count": frames, "frame": 0, "frames": frames},
            )
        written = 0
        frame_idx = 0
        while frame_idx < frames:
            if cadence > 1:  # the frames between the last two diffusions are written now
                for f in range(max(0, frame_idx - cadence), frame_idx):
                    written = self._write_frame(outdir, timestring, f, next(images), written)
            if self.interrupted:
                break  # generate() returns None: the loop ends, and the job is never completed
            self._sample(job_id)
            if fault and fault[0] == "retryable" and frame_idx >= fault[1]:
                raise RuntimeError("a render error")
            if cadence > 1:
                frame_idx += cadence
            else:
                written = self._write_frame(outdir, timestring, frame_idx, next(images), written)
                frame_idx += 1
            self._update(job_id, phase="GENERATING", phase_progress=frame_idx / frames)

    @contextlib.contextmanager
    def _options_overridden(self, overrides: dict):
        """Deforum's A1111OptionsOverrider / txt2img's override_settings_restore_afterwards:
        options changed for one job come back afterwards (the model stays hashed)."""
        with self.lock:
            saved = dict(self.options_data)
        try:
            yield
        finally:
            with self.lock:
                self.options_data.update(
                    {k: saved.get(k) for k in set(overrides) | {"sd_model_checkpoint", "sd_checkpoint_hash"}}
                )

    def _sample(self, job_id: str) -> None:
        """One diffusion, frame_delay seconds, as A1111's process_images spends them:
        the first 30% preparing (an Interrupt there leaves no image: Deforum fails),
        then sampling (an Interrupt there ends the frame early, image kept)."""
        start = time.monotonic()
        setup_end, end = start + 0.3 * self.frame_delay, start + self.frame_delay
        while True:
            if self.dead:
                raise _Died()
            now = time.monotonic()
            if self.interrupted:
                if now < setup_end:
                    raise _Interrupted()
                return
            if now >= end:
                return
            time.sleep(min(end - now, 0.005))

    def _write_frame(self, outdir: Path, timestring: str, f: int, image, written: int) -> int:
        buf = io.BytesIO()
        image.save(buf, "PNG", compress_level=1)
        tmp = outdir / f".{timestring}_{f:09d}.png.tmp"
        tmp.write_bytes(buf.getvalue())
        tmp.replace(outdir / f"{timestring}_{f:09d}.png")
        written += 1
        self.progress_state.update(frame=written, job_no=written)
        if self.faults.die_at_frame is not None and written >= self.faults.die_at_frame:
            self.die()
            raise _Died()
        return written

    def _warn_missing_loras(self, text: str) -> None:
        """A1111 renders on without a LoRA it cannot find, only logging it."""
        names = {p.stem for p in self.lora_files}
        for name in re.findall(r"<lora:([^:>]+)", text):
            if name not in names:
                self.lora_warnings.append(f"Network not found: {name}")

    def cancel(self, job_id: str) -> bool | None:
        """Deforum's _cancel_job: None if unknown, False if not ACCEPTED. A running job
        is interrupted; a QUEUED one is only marked (its batch still runs later)."""
        with self.lock:
            st = self.statuses.get(job_id)
            if st is None:
                return None
            if st["status"] != "ACCEPTED":
                return False
            if st["phase"] not in ("QUEUED", "DONE"):
                self.interrupted = True
            self._update(job_id, status="CANCELLED", message="Cancelled due to user request.")
            return True

    def die(self) -> None:
        """The process goes away: state lost, connections refused."""
        with self.lock:
            self.dead = True
            self.wakeup.notify_all()
        self.on_die()

    # -- txt2img -------------------------------------------------------------

    def txt2img(self, payload: dict) -> dict:
        with self.lock:
            self.txt2img_calls += 1
            if self.running_job:
                self.txt2img_during_deforum += 1
            # The API's state.begin()/end(): what makes /sdapi/v1/progress answer again.
            self.time_start, self.job_count, self.interrupted = time.time(), -1, False
        overrides = payload.get("override_settings") or {}
        try:
            if payload.get("override_settings_restore_afterwards", True):
                with self._options_overridden(overrides):
                    return self._txt2img(payload, overrides)
            return self._txt2img(payload, overrides)
        finally:
            self.job_count = 0

    def _txt2img(self, payload: dict, overrides: dict) -> dict:
        checkpoint = self._select_checkpoint(overrides.get("sd_model_checkpoint"))
        self._warn_missing_loras(str(payload.get("prompt", "")))
        ckpt_id = self.hashes.get(str(checkpoint), "no-model") if checkpoint else "no-model"
        width, height = int(payload.get("width", 512)), int(payload.get("height", 512))
        seed = int(payload.get("seed", -1))
        seed = seed if seed != -1 else random.randint(0, 2**32 - 1)
        prompt = str(payload.get("prompt", ""))
        steps = int(payload.get("steps", 20))
        time.sleep(self.frame_delay * steps / 10)
        image = a1111_scene.scene(prompt, seed, ckpt_id, width, height)
        buf = io.BytesIO()
        image.save(buf, "PNG")
        info = {
            "prompt": prompt,
            "all_prompts": [prompt],
            "negative_prompt": payload.get("negative_prompt", ""),
            "seed": seed,
            "all_seeds": [seed],
            "subseed": -1,
            "width": width,
            "height": height,
            "sampler_name": payload.get("sampler_name", "DPM++ 2M"),
            "scheduler": payload.get("scheduler"),
            "cfg_scale": payload.get("cfg_scale", 7.0),
            "steps": steps,
            "sd_model_name": Path(str(checkpoint)).stem if checkpoint else None,
            "sd_model_hash": ckpt_id[:10] if checkpoint else None,
            "infotexts": [f"{prompt}\nSteps: {steps}, Seed: {seed}, Size: {width}x{height}"],
        }
        return {"images": [base64.b64encode(buf.getvalue()).decode()], "parameters": payload, "info": json.dumps(info)}


class _Died(Exception):
    pass


def _frame_prompts(s: dict, frames: int) -> list[str]:
    """The positive prompt of every frame: the last keyframe at or before it,
    with `--neg` parts cut off and the global positive prompt appended."""
    keys = sorted((int(k), v) for k, v in dict(s["prompts"]).items())
    positive = str(s.get("animation_prompts_positive") or s.get("positive_prompts") or "")
    out, current = [], keys[0][1] if keys else ""
    for f in range(frames):
        for k, v in keys:
            if k <= f:
                current = v
        text = current.split("--neg")[0].strip()
        out.append(f"{text}, {positive}" if positive else text)
    return out


def _a1111_error(exc: Exception, status: int = 500) -> JSONResponse:
    """modules/api/api.py handle_exception: how A1111 answers any error its routes raise."""
    detail = getattr(exc, "detail", "") if isinstance(exc, HTTPException) else ""
    errors = f"({exc.status_code}, {exc.detail!r})" if isinstance(exc, HTTPException) else str(exc)
    return JSONResponse(
        {"error": type(exc).__name__, "detail": detail, "body": "", "errors": errors},
        status_code=getattr(exc, "status_code", status),
    )


def create_app(double: A1111Double) -> FastAPI:
    app = FastAPI(title="A1111 double", docs_url="/docs")
    faults = double.faults
    app.state.double = double

    @app.middleware("http")
    async def slow_and_dead(request: Request, call_next):
        if double.dead:  # a dead process accepts nothing
            return Response(status_code=503)
        try:
            response = await call_next(request)
        except Exception as exc:  # A1111's exception_handling middleware
            return _a1111_error(exc)
        if faults.slow and (faults.slow_only is None or request.url.path.startswith(faults.slow_only)):
            await asyncio.sleep(faults.slow)  # the work is done; only the answer is late
        return response

    @app.exception_handler(HTTPException)  # fastapi's, raised by routes; a missing route stays {"detail": "Not Found"}
    async def http_error(request: Request, exc: HTTPException):
        return _a1111_error(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": exc.errors()}, status_code=422)

    basic = HTTPBasic(auto_error=False)

    def api_auth(credentials: HTTPBasicCredentials | None = Depends(basic)):
        if not faults.api_auth:
            return
        user, _, password = faults.api_auth.partition(":")
        if credentials is None or not (
            secrets.compare_digest(credentials.username, user)
            and secrets.compare_digest(credentials.password, password)
        ):
            raise HTTPException(401, "Incorrect username or password", headers={"WWW-Authenticate": "Basic"})

    # gradio 3.41's internal routes (not behind --api-auth)
    @app.get("/internal/ping")
    def ping():
        return {}

    @app.get("/internal/sysinfo")
    def sysinfo():
        def ext(name: str, commit: str, remote: str) -> dict:
            git = faults.git_extensions
            return {
                "name": name,
                "path": str(double.root / "extensions" / name),
                "commit": commit if git else "",
                "branch": "main" if git else None,
                "remote": remote if git else None,
            }

        exts = [ext("sd-webui-deforum", DEFORUM_COMMIT, "https://github.com/deforum-art/sd-webui-deforum")]
        if faults.controlnet:
            exts.insert(
                0, ext("sd-webui-controlnet", CONTROLNET_COMMIT, "https://github.com/Mikubill/sd-webui-controlnet")
            )
        info = {
            "Platform": "Linux (double)",
            "Python": "3.10.13",
            "Version": A1111_VERSION,
            "Commit": A1111_COMMIT,
            "Script path": str(double.root),
            "Data path": str(double.root),
            "Commandline": ["launch.py"]
            + (["--api"] if faults.api else [])
            + (["--deforum-api"] if faults.deforum_api else [])
            + (["--api-auth", "<hidden>"] if faults.api_auth else []),
            "Extensions": exts,
        }
        return PlainTextResponse(json.dumps(info, indent=4))

    @app.get("/file={path:path}")
    @app.head("/file={path:path}")
    def file(path: str):
        abs_path = Path(path if os.path.isabs(path) else double.root / path).resolve()
        if any(part.startswith(".") for part in abs_path.parts) or abs_path.is_dir():
            raise HTTPException(403, f"File not allowed: {path}.")
        if not abs_path.exists():
            raise HTTPException(404, f"File not found: {path}.")
        allowed = [*([double.root] if double.file_route == "gradio3" else []), *double.allowed_paths]
        if not any(abs_path == a or a in abs_path.parents for a in allowed):
            raise HTTPException(403, f"File not allowed: {path}.")
        return FileResponse(abs_path, headers={"Accept-Ranges": "bytes"})

    if faults.controlnet:

        @app.get("/controlnet/version")
        def controlnet_version():  # ControlNet's API answers even when its UI script fails to load
            return {"version": 3}

    if faults.api:
        _add_sdapi(app, double, api_auth)
    if faults.deforum_api:
        _add_deforum_api(app, double)
    return app


def _add_sdapi(app: FastAPI, double: A1111Double, api_auth) -> None:
    deps = [Depends(api_auth)]

    @app.get("/sdapi/v1/options", dependencies=deps)
    def get_options():
        return double.options_data

    @app.post("/sdapi/v1/options", dependencies=deps)
    def set_options(body: dict[str, Any]):
        name = body.get("sd_model_checkpoint")
        if name is not None:
            path = double._find_checkpoint(name)
            if path is None:  # A1111's set_config raises RuntimeError -> 500
                raise RuntimeError(f"model {name!r} not found")
            double._load_checkpoint(path)
        double.options_data.update({k: v for k, v in body.items() if k != "sd_model_checkpoint"})
        return None

    @app.get("/sdapi/v1/cmd-flags", dependencies=deps)
    def cmd_flags():
        # Deforum declares --deforum-api with a string type: its value is "True", not true.
        return {
            "api": True,
            "deforum_api": "True" if double.faults.deforum_api else None,
            "api_auth": None,
            "gradio_allowed_path": [str(double.root), *map(str, double.allowed_paths)],
            "data_dir": str(double.root),
            "skip_install": False,
        }

    @app.get("/sdapi/v1/extensions", dependencies=deps)
    def extensions():
        if not double.faults.git_extensions:
            return []  # A1111 lists only extensions that are git repositories
        out = [
            {
                "name": "sd-webui-deforum",
                "remote": "https://github.com/deforum-art/sd-webui-deforum",
                "branch": "automatic1111-webui",
                "commit_hash": DEFORUM_COMMIT,
                "version": DEFORUM_COMMIT[:8],
                "commit_date": 1718000000,
                "enabled": True,
            }
        ]
        if double.faults.controlnet:
            out.append(
                {
                    "name": "sd-webui-controlnet",
                    "remote": "https://github.com/Mikubill/sd-webui-controlnet",
                    "branch": "main",
                    "commit_hash": CONTROLNET_COMMIT,
                    "version": CONTROLNET_COMMIT[:8],
                    "commit_date": 1718000000,
                    "enabled": True,
                }
            )
        return out

    @app.get("/sdapi/v1/sd-models", dependencies=deps)
    def sd_models():
        with double.lock:
            return [double._checkpoint_info(p) for p in double.checkpoints]

    @app.get("/sdapi/v1/loras", dependencies=deps)
    def loras():
        out = []
        for p in double.lora_files:
            out.append({"name": p.stem, "alias": p.stem, "path": str(p), "metadata": _safetensors_metadata(p)})
        return out

    @app.post("/sdapi/v1/refresh-checkpoints", dependencies=deps)
    def refresh_checkpoints():
        double.refresh_checkpoints()

    @app.post("/sdapi/v1/refresh-loras", dependencies=deps)
    def refresh_loras():
        double.refresh_loras()

    @app.get("/sdapi/v1/samplers", dependencies=deps)
    def samplers():
        names = [
            "DPM++ 2M",
            "DPM++ SDE",
            "DPM++ 2M SDE",
            "DPM++ 2M SDE Heun",
            "DPM++ 2S a",
            "DPM++ 3M SDE",
            "Euler a",
            "Euler",
            "LMS",
            "Heun",
            "DPM2",
            "DPM2 a",
            "DPM fast",
            "DPM adaptive",
            "Restart",
            "DDIM",
            "DDIM CFG++",
            "PLMS",
            "UniPC",
            "LCM",
        ]
        return [{"name": n, "aliases": [n.lower().replace(" ", "_").replace("++", "pp")], "options": {}} for n in names]

    @app.get("/sdapi/v1/schedulers", dependencies=deps)
    def schedulers():
        labels = [
            "Automatic",
            "Uniform",
            "Karras",
            "Exponential",
            "Polyexponential",
            "SGM Uniform",
            "KL Optimal",
            "Align Your Steps",
            "Simple",
            "Normal",
            "DDIM",
            "Beta",
        ]
        return [
            {
                "name": n.lower().replace(" ", "_"),
                "label": n,
                "aliases": None,
                "default_rho": -1.0,
                "need_inner_model": False,
            }
            for n in labels
        ]

    @app.get("/sdapi/v1/progress", dependencies=deps)
    def progress(skip_current_image: bool = False):
        ps = double.progress_state
        state = {
            "skipped": False,
            "interrupted": double.interrupted,
            "stopping_generation": False,
            "job": ps["job"],
            "job_count": double.job_count,
            "job_timestamp": time.strftime("%Y%m%d%H%M%S"),
            "job_no": ps["job_no"],
            "sampling_step": 0,
            "sampling_steps": 0,
        }
        if double.job_count == 0:
            return {
                "progress": 0,
                "eta_relative": 0,
                "state": state,
                "current_image": None,
                "textinfo": None,
                "current_task": None,
            }
        if double.time_start is None:  # Deforum set job_count without state.begin(): A1111's TypeError
            raise TypeError("unsupported operand type(s) for -: 'float' and 'NoneType'")
        done = ps["job_no"] / double.job_count if double.job_count > 0 else 0.0
        return {
            "progress": min(1.0, 0.01 + done),
            "eta_relative": 0.0,
            "state": state,
            "current_image": None,
            "textinfo": None,
            "current_task": None,
        }

    @app.post("/sdapi/v1/interrupt", dependencies=deps)
    def interrupt():
        double.interrupted = True
        return {}

    @app.post("/sdapi/v1/txt2img", dependencies=deps)
    def txt2img(body: dict[str, Any]):
        return double.txt2img(body)


def _add_deforum_api(app: FastAPI, double: A1111Double) -> None:
    @app.post("/deforum_api/batches")
    async def run_batch(request: Request, response: Response):
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError as exc:  # FastAPI's body parsing: a 422 naming the JSON error
            return JSONResponse(
                {"detail": [{"loc": ["body", 1], "msg": str(exc), "type": "value_error.jsondecode"}]}, status_code=422
            )
        data = body.get("deforum_settings") if isinstance(body, dict) else None
        if not data:
            response.status_code = 400
            return {
                "message": "No settings files provided. Please provide an element 'deforum_settings' "
                "of type list in the request JSON payload."
            }
        if not isinstance(data, list):
            data = [data]
        response.status_code = 202
        return double.submit(data, body.get("options_overrides"))

    @app.get("/deforum_api/batches")
    def list_batches(id: str):  # Deforum declares an (unused) required id query parameter
        return double.batches

    @app.get("/deforum_api/batches/{id}")
    def get_batch(id: str):
        jobs = double.batches[id]  # KeyError -> 500, as in Deforum
        return [double.statuses[j] for j in jobs]

    @app.delete("/deforum_api/batches/{id}")
    def cancel_batch(id: str):
        jobs = double.batches[id]
        cancelled = [j for j in jobs if double.cancel(j)]
        return {"ids": cancelled, "message:": f"{len(cancelled)} job(s) cancelled."}

    @app.get("/deforum_api/jobs")
    def list_jobs():
        with double.lock:
            return {k: dict(v) for k, v in double.statuses.items()}

    @app.get("/deforum_api/jobs/{id}")
    def get_job(id: str, response: Response):
        with double.lock:
            st = double.statuses.get(id)
            if st is None:
                response.status_code = 404
                return {"id": id, "status": "NOT FOUND"}
            return dict(st)

    @app.delete("/deforum_api/jobs/{id}")
    def cancel_job(id: str, response: Response):
        result = double.cancel(id)
        if result is None:
            response.status_code = 404
            return {"id": id, "message": f"Job with ID {id} not found."}
        if not result:
            response.status_code = 400
            return {"id": id, "message": f"Job with ID {id} not in a cancellable state. Has it already finished?"}
        return {"id": id, "message": "Job cancelled."}


def _safetensors_metadata(path: Path) -> dict:
    """A1111's /sdapi/v1/loras returns the safetensors header's __metadata__."""
    try:
        with open(path, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            if n > 10_000_000:
                return {}
            return json.loads(fh.read(n)).get("__metadata__", {}) or {}
    except (OSError, ValueError):
        return {}


# -- running it ------------------------------------------------------------


def start_double(root: str | Path, **kwargs) -> tuple[A1111Double, str, Callable[[], None]]:
    """A double served in a background thread: (double, base_url, stop).
    When a fault makes it die, the server stops like a killed process would."""
    double = A1111Double(root, **kwargs)
    base_url, stop_server = serve_in_thread(create_app(double))

    def die() -> None:
        threading.Thread(target=stop_server, daemon=True).start()

    def stop() -> None:
        with double.lock:
            double.dead = True
            double.wakeup.notify_all()
        stop_server()

    double.on_die = die
    return double, base_url, stop


def start_stand_in(root: str | Path, *, frame_delay: float = 0.0) -> tuple[str, Callable[[], None]]:
    """The stand-in the demo starts in place of a real A1111: the example manifest's (fake, valid) models
    installed under `root`, served in a thread. Returns (base URL, stop)."""
    Path(root).mkdir(parents=True, exist_ok=True)
    install_fake_models(root)
    _double, url, stop = start_double(root, frame_delay=frame_delay)
    return url, stop


def install_fake_models(root: str | Path, names: list[str] | None = None, depth_model: bool = True) -> None:
    """Put the fake models the example manifest pins into <root>/models/, and
    (unless told not to) a stand-in for the depth model Deforum's 3D mode loads."""

    root = Path(root)
    for name in names or list(FAKE_MODELS):
        kind = FAKE_MODELS[name][0]
        folder = root / "models" / ("Stable-diffusion" if kind == "checkpoint" else "Lora")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.safetensors").write_bytes(safetensors_bytes(name))
    if depth_model:
        folder = root / "models" / "Deforum"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DEPTH_MODEL_FILES["midas-3-hybrid"][0]).write_bytes(b"stand-in for MiDaS weights")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A1111 + Deforum API double")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--root", default="./a1111-double", help="A1111's folder: models/, outputs/")
    parser.add_argument("--with-fake-models", action="store_true", help="install the example's fake models")
    parser.add_argument("--api-auth", default=None, help="user:pass, like A1111's --api-auth")
    parser.add_argument("--no-api", action="store_true", help="as if started without --api")
    parser.add_argument("--no-deforum-api", action="store_true", help="as if started without --deforum-api")
    parser.add_argument(
        "--fail-job",
        action="append",
        default=[],
        metavar="KIND:FRAME",
        help="fail the next job (retryable|terminal) at FRAME; repeatable",
    )
    parser.add_argument("--die-at-frame", type=int, default=None, help="exit after writing this many frames")
    parser.add_argument("--slow", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument("--hashed", choices=["all", "none", "short"], default="all")
    parser.add_argument("--no-controlnet", action="store_true", help="as if the ControlNet extension were missing")
    parser.add_argument("--frame-delay", type=float, default=0.02)
    parser.add_argument("--gradio-allowed-path", action="append", default=[])
    parser.add_argument(
        "--file-route",
        choices=["gradio3", "gradio4"],
        default="gradio3",
        help="gradio3: /file= serves the A1111 folder (A1111 1.10); gradio4: allowed paths only (Forge)",
    )
    args = parser.parse_args(argv)
    if args.with_fake_models:
        install_fake_models(args.root)
    fails = [(k, int(f)) for k, _, f in (x.partition(":") for x in args.fail_job)]
    faults = Faults(
        api=not args.no_api,
        deforum_api=not args.no_deforum_api,
        api_auth=args.api_auth,
        fail_jobs=fails,
        die_at_frame=args.die_at_frame,
        slow=args.slow,
        hashed=args.hashed,
        controlnet=not args.no_controlnet,
    )
    double = A1111Double(
        args.root,
        faults=faults,
        frame_delay=args.frame_delay,
        allowed_paths=args.gradio_allowed_path,
        file_route=args.file_route,
    )
    import uvicorn

    print(f"A1111 double on http://{args.host}:{args.port} (root {double.root})", flush=True)
    uvicorn.run(create_app(double), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
