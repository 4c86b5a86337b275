"""The render-and-mint pipeline: one plain function per job state.

Each step is `step(ctx, job) -> dict` (see runner.py); it talks to the other
subsystems only through their documented interfaces (docs/architecture.md).
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

from movieminter.app.runner import Goto, Step
from movieminter.errors import MovieMinterError


class MintConflict(MovieMinterError):
    status = 409


# -- helpers -------------------------------------------------------------------
def job_dir(ctx, job) -> Path:
    return ctx.settings.path("jobs", str(job.id))


def manifest_for(ctx, job) -> dict:
    """The movie's manifest: given with the job, else fetched by CID (from the
    job, else the movie's on-chain digest) and validated. Cached per job."""
    cache = ctx.extras.setdefault("_manifests", {})
    if job.id in cache:
        return cache[job.id]
    from movieminter.manifest import load_manifest
    if job.params.get("manifest"):
        manifest = load_manifest(job.params["manifest"])
    else:
        cid = job.params.get("manifest_cid")
        if not cid:
            from movieminter.ipfs.cid import digest_to_cid
            movie = ctx.chain.movie(job.movie_id)
            digest = movie["manifest_digest"] if isinstance(movie, dict) else movie.manifest_digest
            cid = digest_to_cid(digest)
        manifest = load_manifest(ctx.store.cat(cid))
    cache[job.id] = manifest
    return manifest


def segment_minter(ctx, job) -> str | None:
    """Who minted this segment on-chain (None while unminted): the check made
    before every signature request, so nothing is ever minted twice."""
    seg = ctx.chain.segments(job.movie_id, job.segment, 1)[0]
    get = seg.get if isinstance(seg, dict) else (lambda k, d=None: getattr(seg, k, d))
    if not get("minted", bool(get("minter"))):
        return None
    return get("minter")


def _check_chain_identity(ctx, job) -> None:
    chain_id, contract = ctx.chain_identity()
    if (int(chain_id), contract.lower()) != (job.chain_id, job.contract.lower()):
        raise MovieMinterError(
            f"this job is for chain {job.chain_id} contract {job.contract}, but the app is now set to "
            f"chain {chain_id} contract {contract}",
            hint="switch the Movie Minter settings back to that chain and contract, then retry the job")


def _settle_if_minted(ctx, job) -> Goto | None:
    minter = segment_minter(ctx, job)
    if minter is None:
        return None
    if minter.lower() == job.wallet.lower():
        return Goto("minted", {"tx_hash": job.saved("tx_hash"), "minter": minter, "found_on_chain": True})
    raise MintConflict(f"segment {job.segment} of movie {job.movie_id} was already minted by {minter}",
                       hint="each segment is minted once; pick another segment you may mint")


# -- steps ---------------------------------------------------------------------
def check_models(ctx, job) -> dict:
    """queued -> models_ready: the checkpoint and LoRAs the segment pins are in A1111."""
    from movieminter.render.readiness import check_models as readiness
    manifest = manifest_for(ctx, job)
    job.progress("checking models")
    statuses = readiness(ctx.a1111, manifest, job.segment)
    missing = [s for s in statuses if s.state != "ready"]
    if missing:
        first = missing[0]
        raise MovieMinterError(
            "models not ready: " + "; ".join(f"{s.name} ({s.kind}) is {s.state}" for s in missing),
            hint=first.hint or first.message)
    return {"models": [{"name": s.name, "kind": s.kind, "state": s.state} for s in statuses]}


def begin_render(ctx, job) -> dict:
    """models_ready -> rendering: journal that the render starts (and where)."""
    return {"started_at": time.time(), "dir": str(job_dir(ctx, job))}


def render(ctx, job) -> dict:
    """rendering -> rendered. The render state (Deforum job id, outdir...) is
    saved as soon as render_segment knows it, so a restart resumes the same
    Deforum job or reuses its frames instead of rendering again."""
    from movieminter.render.job import render_segment
    manifest = manifest_for(ctx, job)
    started = time.time()

    def on_progress(p):
        fields = {k: getattr(p, k) for k in ("frame", "frames", "phase", "message", "eta")
                  if getattr(p, k, None) is not None}
        if "eta" not in fields and fields.get("frame") and fields.get("frames"):
            rate = fields["frame"] / max(time.time() - started, 1e-6)
            fields["eta"] = round((fields["frames"] - fields["frame"]) / rate, 1) if rate else None
        job.progress("rendering", **fields)
        job.check()

    result = render_segment(ctx.a1111, manifest, job.segment, state=dict(job.saved("render", {}) or {}),
                            save_state=lambda s: job.save("render", s), on_progress=on_progress,
                            cancel=job.cancel_event)
    return {"frames_dir": str(result.frames_dir), "frames": [str(f) for f in result.frames],
            "versions": getattr(result, "versions", None)}


def encode(ctx, job) -> dict:
    """rendered -> encoded: frames to the movie's encoding profile."""
    from movieminter.media.encode import encode_segment
    manifest = manifest_for(ctx, job)
    frames = [Path(f) for f in job.data["rendered"]["frames"]]
    job.progress("encoding", frames=len(frames))
    out = job_dir(ctx, job) / f"segment-{job.segment:04d}.mp4"
    media = encode_segment(frames, manifest, job.segment, out)
    return {"video": str(media.video), "poster": str(media.poster),
            "preview": str(media.preview) if getattr(media, "preview", None) else None,
            "frame_count": media.frame_count, "duration": media.duration}


def pin(ctx, job) -> dict:
    """encoded -> pinned: video, poster and metadata to IPFS. Each CID is saved
    as soon as it is added, so a restart never adds or pins a file twice."""
    from movieminter.ipfs import metadata as md
    from movieminter.ipfs.cid import cid_to_digest
    from movieminter.manifest import canonical_json
    manifest = manifest_for(ctx, job)
    enc = job.data["encoded"]
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
    meta = md.build_metadata(manifest=manifest, index=job.segment, video_cid=video, poster_cid=poster,
                             minter=job.wallet, movie_id=job.movie_id, duration=enc.get("duration"))
    metadata = add("metadata", lambda: ctx.store.add_bytes(canonical_json(meta)))
    return {"video_cid": video, "poster_cid": poster, "metadata_cid": metadata,
            "content_digest": "0x" + cid_to_digest(video).hex(),
            "metadata_digest": "0x" + cid_to_digest(metadata).hex()}


def prepare_mint(ctx, job) -> dict | Goto:
    """pinned -> awaiting_signature: check the chain (already minted? by whom?),
    then prepare the unsigned mintSegment transaction for the wallet."""
    _check_chain_identity(ctx, job)
    settled = _settle_if_minted(ctx, job)
    if settled:
        return settled
    pinned = job.data["pinned"]
    tx = ctx.chain.build_tx("mintSegment", [job.movie_id, job.segment, pinned["content_digest"],
                                            pinned["metadata_digest"]], job.wallet)
    return {"tx": tx}


def confirm_mint(ctx, job) -> dict | Goto:
    """awaiting_signature -> minted: wait for the wallet's transaction (the
    browser POSTs its hash; headless runs use the runner's signer), then its
    receipt. On every (re)entry the chain is checked first."""
    tx_hash = job.saved("tx_hash")
    if not tx_hash:
        settled = _settle_if_minted(ctx, job)
        if settled:
            return settled
        tx = job.data["awaiting_signature"]["tx"]
        if job.signer is not None:
            job.check()
            tx_hash = job.signer(tx)
            job.save("tx_hash", tx_hash)
        else:
            job.progress("awaiting signature", tx=tx)
            tx_hash = job.wait_for_tx()
    job.progress("confirming", tx_hash=tx_hash)
    receipt = ctx.chain.wait(tx_hash)
    status = receipt["status"] if isinstance(receipt, dict) else receipt.status
    if not status:
        settled = _settle_if_minted(ctx, job)
        if settled:
            return settled
        tried = list(job.saved("reverted", []) or []) + [tx_hash]
        job.save("reverted", tried)
        job.save("tx_hash", None)  # a retry asks the wallet for a fresh transaction
        raise MovieMinterError(f"the mint transaction {tx_hash} reverted",
                               hint="retry the job to sign a new transaction; check the wallet may still mint")
    block = receipt["blockNumber"] if isinstance(receipt, dict) else receipt.blockNumber
    return {"tx_hash": tx_hash, "block": int(block), "minter": job.wallet}


STEPS = [
    Step("queued", "models_ready", check_models),
    Step("models_ready", "rendering", begin_render),
    Step("rendering", "rendered", render, exclusive=True),
    Step("rendered", "encoded", encode),
    Step("encoded", "pinned", pin),
    Step("pinned", "awaiting_signature", prepare_mint),
    Step("awaiting_signature", "minted", confirm_mint),
]
