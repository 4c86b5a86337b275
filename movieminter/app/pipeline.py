"""The render-and-mint pipeline: one plain function per job state.

Each step is `step(ctx, job) -> dict` (see steps.py); the mint steps live in
mint_steps.py. Each talks to the other subsystems only through their
documented interfaces (docs/architecture.md).
The dict it returns is journaled as the data of the next state before the
following step runs, so these functions read everything earlier steps
produced from `job.data[<state>]`.

Repeated work is avoided at two levels: the journal (a finished step never
runs again) and inside steps that do several things (each pin and the render
state are saved as they complete, in `job.save(...)`).
"""

from __future__ import annotations

import time
from pathlib import Path

from movieminter.app.mint_steps import (  # noqa: F401 - re-exported: the pipeline's public names
    CHAIN_POLL_SECONDS,
    DROPPED_AFTER_SECONDS,
    MintConflict,
    confirm_mint,
    mints_this_segment,
    prepare_mint,
    segment_minter,
    settle_if_minted,
    tx_state,
)
from movieminter.app.rights import check_segment_count, movie_manifest, right_to_mint
from movieminter.app.steps import Goto, Step
from movieminter.app.take_steps import check_take, confirm, on_start, prepare, winner_from_chain
from movieminter.errors import MovieMinterError
from movieminter.ipfs.cid import cid_to_digest
from movieminter.media.profile import soundtrack_of

# _HEAVY: the render, media, manifest and chain libraries (numpy, PIL, jsonschema, web3) take
# seconds to import; the runner (and so this module) is loaded at app start, so each step
# imports them when it first runs.


# -- helpers -------------------------------------------------------------------
def job_dir(ctx, job) -> Path:
    return ctx.settings.path("jobs", str(job.id))


def manifest_for(ctx, job) -> tuple[dict, str]:
    """(manifest, manifest CID) of the job's movie: the manifest given with the
    job, else read from IPFS by its CID (given, else the movie's on-chain
    digest) and validated. Cached per job."""
    cache = ctx.caches.setdefault("_manifests", {})
    if job.id in cache:
        return cache[job.id]
    from movieminter.manifest import canonical_json, load_manifest  # heavy: see _HEAVY

    if job.params.get("manifest"):
        manifest = load_manifest(job.params["manifest"])
        # The director pins the canonical JSON; adding it again yields the same CID.
        cid = job.params.get("manifest_cid") or job.saved("manifest_cid")
        if not cid:
            cid = ctx.store.add_bytes(canonical_json(manifest))
            job.save("manifest_cid", cid)
    elif job.params.get("manifest_cid"):
        cid = job.params["manifest_cid"]
        manifest = load_manifest(ctx.store.cat(cid))
        check_segment_count(job.movie_id, int(ctx.chain.movie(job.movie_id)["segmentCount"]), manifest)
    else:
        manifest, cid = movie_manifest(ctx, job.movie_id)
    cache[job.id] = (manifest, cid)
    return cache[job.id]


# -- steps ---------------------------------------------------------------------
def check_models(ctx, job) -> dict | Goto:
    """queued -> models_ready: the wallet may mint this segment (checked before anything is
    rendered; an allowlist proof is found here), and the checkpoint and LoRAs it pins are in A1111."""
    from movieminter.render.readiness import check_models as readiness  # heavy: see _HEAVY

    if job.params.get("take_from_chain"):  # a winning take recorded elsewhere: its files are on IPFS already
        return winner_from_chain(ctx, job)
    manifest, _ = manifest_for(ctx, job)
    if job.params.get("take_ballot"):  # a take: the ballot must still take takes (take_steps.py)
        job.progress("checking the ballot")
        check_take(ctx, job)
    else:
        job.progress("checking the right to mint")
        right = right_to_mint(ctx.chain, job.movie_id, job.segment, job.wallet, store=ctx.store, manifest=manifest)
        if right.verdict == "minted":
            return Goto("minted", {"tx_hash": job.saved("tx_hash"), "minter": job.wallet, "found_on_chain": True})
        if right.proof:
            job.save("proof", right.proof)
    job.progress("checking models")
    statuses = readiness(ctx.a1111, manifest, job.segment, allow_pickle=ctx.settings.allow_pickle)
    missing = [s for s in statuses if s.state != "ready"]
    if missing:
        first = missing[0]
        raise MovieMinterError(
            "models not ready: " + "; ".join(f"{s.name} ({s.kind}) is {s.state}" for s in missing),
            hint=first.hint or first.message,
        )
    return {"models": [{"name": s.name, "kind": s.kind, "sha256": s.sha256, "title": s.title} for s in statuses]}


def begin_render(ctx, job) -> dict:
    """models_ready -> rendering: journal that the render starts (and where)."""
    return {"started_at": time.time(), "dir": str(job_dir(ctx, job))}


def render(ctx, job) -> dict:
    """rendering -> rendered. render_segment hands its state (Deforum job id,
    outdir...) to save_state the moment it has it; it is journaled at once, so
    a restart follows the same Deforum job or reuses its finished frames."""
    from movieminter.render.job import render_segment  # heavy: see _HEAVY

    manifest, _ = manifest_for(ctx, job)

    def on_progress(p):
        job.progress(
            "rendering",
            frame=p.frames_done,
            frames=p.frames_total,
            eta=p.eta_seconds,
            phase=p.phase,
            message=p.message or None,
        )
        job.check()

    result = render_segment(
        ctx.a1111,
        manifest,
        job.segment,
        state=dict(job.saved("render", {}) or {}),
        save_state=lambda s: job.save("render", s),
        on_progress=on_progress,
        cancel=job.cancel_event,
        work_dir=job_dir(ctx, job) / "render",
        allow_pickle=ctx.settings.allow_pickle,
    )
    started = job.data.get("rendering", {}).get("started_at") or time.time()
    return {
        "frames_dir": str(result.frames_dir),
        "frames": [str(f) for f in result.frames],
        "versions": result.versions,
        "deforum_job": result.job_id,
        "checkpoint": result.checkpoint_title,
        "reused": result.reused,
        "render_seconds": round(time.time() - started, 3),
        "rendered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def encode(ctx, job) -> dict:
    """rendered -> encoded: frames to the movie's encoding profile."""
    from movieminter.media.encode import encode_segment  # heavy: see _HEAVY

    manifest, _ = manifest_for(ctx, job)
    frames = [Path(f) for f in job.data["rendered"]["frames"]]
    job.progress("encoding", frames=len(frames))
    out = job_dir(ctx, job) / f"segment-{job.segment:04d}.mp4"
    soundtrack = None
    track = soundtrack_of(manifest)
    if track:
        soundtrack = job_dir(ctx, job) / "soundtrack"
        if not soundtrack.exists():
            soundtrack.write_bytes(ctx.store.cat(track["cid"]))
    media = encode_segment(frames, manifest, job.segment, out, soundtrack=soundtrack)
    return {
        "video": str(media.video),
        "poster": str(media.poster),
        "preview": str(media.preview) if getattr(media, "preview", None) else None,
        "frame_count": media.frame_count,
        "duration": media.duration,
    }


def pin(ctx, job) -> dict:
    """encoded -> pinned: video, poster and metadata to IPFS. Each CID is saved
    as soon as it is added, so a restart never adds or pins a file twice."""
    from movieminter.ipfs import metadata as md  # heavy: see _HEAVY
    from movieminter.manifest import get_segment, segment_settings_digest

    manifest, manifest_cid = manifest_for(ctx, job)
    enc, rendered = job.data["encoded"], job.data["rendered"]
    cids = dict(job.saved("pins", {}) or {})

    def add(name, make):
        if name not in cids:
            job.progress("pinning", item=name)
            cid = make()
            ctx.store.pin(cid)
            cids[name] = cid
            job.save("pins", cids)
        return cids[name]

    video = add("video", lambda: ctx.store.add_file(Path(enc["video"])))
    poster = add("poster", lambda: ctx.store.add_file(Path(enc["poster"])))
    versions = rendered.get("versions") or {}
    meta = md.build_metadata(
        movie_title=manifest["movie"]["title"],
        segment_index=job.segment,
        video_cid=video,
        poster_cid=poster,
        frames=enc["frame_count"],
        duration=enc["duration"],
        checkpoint=manifest["models"]["checkpoint"]["name"],
        manifest_cid=manifest_cid,
        segment_settings_digest=segment_settings_digest(manifest, job.segment),
        models=[
            {"name": m["name"], "sha256": m["sha256"], "kind": m["kind"]} for m in job.data["models_ready"]["models"]
        ],
        seed=int(get_segment(manifest, job.segment).get("seed", 0)),
        a1111_version=versions.get("a1111") or "unknown",
        deforum_version=versions.get("deforum") or "unknown",
        render_seconds=rendered.get("render_seconds", 0),
        minter=job.wallet,
        movie_id=job.movie_id,
        rendered_at=rendered.get("rendered_at"),
    )
    metadata = add("metadata", lambda: ctx.store.add_bytes(md.metadata_bytes(meta)))
    return {
        "video_cid": video,
        "poster_cid": poster,
        "metadata_cid": metadata,
        "content_digest": "0x" + cid_to_digest(video).hex(),
        "metadata_digest": "0x" + cid_to_digest(metadata).hex(),
    }


STEPS = [
    Step("queued", "models_ready", check_models),
    Step("models_ready", "rendering", begin_render),
    Step("rendering", "rendered", render, exclusive=True),
    Step("rendered", "encoded", encode),
    Step("encoded", "pinned", pin),
    # A take job signs recordTake here and rests in take_recorded; mint jobs (and a winning take) mint.
    Step("pinned", "awaiting_signature", prepare),
    Step("awaiting_signature", "minted", confirm, on_start=on_start),
]
