"""Jobs page (/jobs): every render-and-mint job, its state and progress,
with cancel and retry. Reads the journal directly; refreshes every 2 s."""

from __future__ import annotations

import time

import gradio as gr

from movieminter.errors import MovieMinterError

COLUMNS = ["id", "movie", "segment", "wallet", "state", "progress", "updated", "error"]


def _rows(ctx) -> list[list]:
    rows = []
    for job in ctx.journal.list(limit=200):
        p = ctx.events.last_progress(job.id) or {}
        progress = p.get("stage", "")
        if p.get("frames"):
            progress += f" {p.get('frame', 0)}/{p['frames']}"
        if p.get("eta") is not None and job.state == "rendering":
            progress += f" (ETA {int(p['eta'])} s)"
        error = (job.error or {}).get("message", "")
        rows.append(
            [
                job.id,
                job.movie_id,
                job.segment,
                job.wallet[:10] + "…",
                job.state,
                progress.strip(),
                time.strftime("%H:%M:%S", time.localtime(job.updated_at)),
                error,
            ]
        )
    return rows


def build(ctx) -> gr.Blocks:
    with gr.Blocks(title="Movie Minter · Jobs") as demo:
        gr.Markdown("## Render & Mint jobs")
        table = gr.Dataframe(headers=COLUMNS, value=lambda: _rows(ctx), interactive=False, elem_id="mm-jobs-table")
        with gr.Row():
            job_id = gr.Number(label="Job id", precision=0, minimum=1)
            cancel = gr.Button("Cancel job", variant="stop")
            retry = gr.Button("Retry job")
        status = gr.Markdown(elem_id="mm-jobs-status")

        def act(action, value):
            if not value:
                return "Enter a job id first.", _rows(ctx)
            try:
                job = getattr(ctx.runner, action)(int(value))
                return f"Job {job.id} is now **{job.state}**.", _rows(ctx)
            except MovieMinterError as exc:
                return f"**{exc.message}**" + (f"  \n{exc.hint}" if exc.hint else ""), _rows(ctx)

        cancel.click(lambda v: act("cancel", v), job_id, [status, table])
        retry.click(lambda v: act("retry", v), job_id, [status, table])
        gr.Timer(2.0).tick(lambda: _rows(ctx), None, table)
    return demo
