"""`movieminter render` against the bare Deforum job, on the same real A1111 in the same run.

    ./mm bench render [--frames 48] [--size 384] [--steps 20]   (or .venv/bin/python bench/render.py)

Starts a real A1111 1.10.1 + Deforum + ControlNet on CPU (movieminter.testing.real_a1111,
tiny random checkpoint) and renders the example's first segment (cadence 2), shrunk in
size and steps so one job takes about half a minute here, as a 48-frame segment
takes on a GPU. Baseline: the same settings
submitted straight to /deforum_api/batches and polled until SUCCEEDED (what a script
that knew Deforum's quirks would do). Ours: the whole `movieminter render` command in
its own process (start-up, model check, submit, follow, collect the frames into its
work folder). Goal: ours / bare <= 1.10. Also shown: the bare job with max_frames =
the segment's frame count, which writes fewer frames at cadence 2 (the cost of an
exact frame count is one more diffusion), and our fixed cost in seconds (start-up,
checks, collecting the frames, and A1111's /internal/sysinfo for the provenance,
about a second). One run of each, after a warm-up job.
Prints the table and writes bench/results/render.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import report

from movieminter.render.a1111 import A1111Client
from movieminter.render.deforum import DeforumClient
from movieminter.render.submission import plan_job
from movieminter.testing import real_a1111
from movieminter.testing.tiny_film import tiny_film


def bare_job(client: A1111Client, settings: dict, title: str) -> tuple[float, int]:
    """Submit, poll every 0.5 s until done; (wall seconds, frames written)."""
    deforum = DeforumClient(client)
    t = time.perf_counter()
    job_id = deforum.submit(settings, {"sd_model_checkpoint": title})
    while (job := deforum.job(job_id))["status"] == "ACCEPTED":
        time.sleep(0.5)
    wall = time.perf_counter() - t
    if job["status"] != "SUCCEEDED":
        raise SystemExit(f"the bare job ended {job['status']}: {job['message']}")
    written = len(list(Path(job["outdir"]).glob(f"{job['timestring']}_" + "[0-9]" * 9 + ".png")))
    return wall, written


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    prepared = real_a1111.prepare()
    with tempfile.TemporaryDirectory(prefix="mm-bench-render-") as tmp:
        tmp = Path(tmp)
        folder = real_a1111.make_instance(prepared, tmp / "webui")
        running = real_a1111.start(prepared, folder)
        try:
            client = A1111Client(running.url)
            film = tiny_film(
                folder / "models/Stable-diffusion/tiny-sd15.safetensors",
                None,
                frames=args.frames,
                size=args.size,
                steps=args.steps,
                segments=1,
            )
            (tmp / "film.json").write_text(json.dumps(film))
            title = next(m["title"] for m in client.sd_models() if m["model_name"] == "tiny-sd15")
            plan = plan_job(film, 0)
            warm = dict(plan.settings, max_frames=3, diffusion_cadence=1, batch_name="warmup_{timestring}")
            bare_job(client, warm, title)

            bare, written = bare_job(client, plan.settings, title)
            unpadded, short = bare_job(client, dict(plan.settings, max_frames=args.frames), title)
            t = time.perf_counter()
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "movieminter",
                    "render",
                    "--manifest",
                    str(tmp / "film.json"),
                    "--segment",
                    "0",
                    "--a1111-url",
                    running.url,
                    "--work-dir",
                    str(tmp / "work"),
                ],
                capture_output=True,
                text=True,
            )
            ours = time.perf_counter() - t
            if out.returncode != 0:
                raise SystemExit(f"movieminter render failed:\n{out.stdout}\n{out.stderr}")
            kept = len(list((tmp / "work" / "frames").glob("frame_*.png")))
        finally:
            running.stop()
    rows = [
        {"case": f"bare Deforum job, our settings ({written} frames)", "seconds": bare, "ratio": 1.0},
        {"case": f"movieminter render ({kept} frames kept)", "seconds": ours, "ratio": ours / bare, "goal": 1.10},
        {"case": f"bare job, max_frames={args.frames} ({short} frames)", "seconds": unpadded, "ratio": unpadded / bare},
        {"case": "render - bare (one run each: noise included)", "seconds": ours - bare, "ratio": None},
    ]
    report(
        "render",
        rows,
        {
            "frames": args.frames,
            "cadence": plan.cadence,
            "size": args.size,
            "steps": args.steps,
            "max_frames_sent": plan.settings["max_frames"],
            "a1111": "1.10.1 (CPU, tiny checkpoint)",
            "runs": 1,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
