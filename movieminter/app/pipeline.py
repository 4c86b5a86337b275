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


CHAIN_POLL_SECONDS = 10.0  # how often a waiting mint re-checks the chain
DROPPED_AFTER_SECONDS = 120.0  # a hash the node has not seen for this long was dropped (or never sent)


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
    from movieminter.manifest import canonical_json, load_manifest

    if job.params.get("manifest"):
        manifest = load_manifest(job.params["manifest"])
        # The director pins the canonical JSON; adding it again yields the same CID.
        cid = job.params.get("manifest_cid") or job.saved("manifest_cid")
        if not cid:
            cid = ctx.store.add_bytes(canonical_json(manifest))
            job.save("manifest_cid", cid)
    elif job.params.get("manifest_cid"):
        from movieminter.app.rights import check_segment_count

        cid = job.params["manifest_cid"]
        manifest = load_manifest(ctx.store.cat(cid))
        check_segment_count(job.movie_id, int(ctx.chain.movie(job.movie_id)["segmentCount"]), manifest)
    else:
        from movieminter.app.rights import movie_manifest

        manifest, cid = movie_manifest(ctx, job.movie_id)
    cache[job.id] = (manifest, cid)
    return cache[job.id]


def segment_minter(ctx, job) -> str | None:
    """Who minted this segment on-chain (None while unminted): the check made
    before every signature request, so nothing is ever minted twice."""
    seg = ctx.chain.segments(job.movie_id, job.segment, 1)[0]
    return seg["account"] if seg["status"] == "minted" else None


def _check_chain_identity(ctx, job) -> None:
    chain_id, contract = ctx.chain_identity()
    if (int(chain_id), contract.lower()) != (job.chain_id, job.contract.lower()):
        raise MovieMinterError(
            f"this job is for chain {job.chain_id} contract {job.contract}, but the app is now set to "
            f"chain {chain_id} contract {contract}",
            hint="switch the Movie Minter settings back to that chain and contract, then retry the job",
        )


def _settle_if_minted(ctx, job) -> Goto | None:
    minter = segment_minter(ctx, job)
    if minter is None:
        return None
    if minter.lower() == job.wallet.lower():
        return Goto("minted", {"tx_hash": job.saved("tx_hash"), "minter": minter, "found_on_chain": True})
    raise MintConflict(
        f"segment {job.segment} of movie {job.movie_id} was already minted by {minter}",
        hint="each segment is minted once; pick another segment you may mint",
    )


# -- steps ---------------------------------------------------------------------
def check_models(ctx, job) -> dict | Goto:
    """queued -> models_ready: the wallet may mint this segment (checked before anything is
    rendered; an allowlist proof is found here), and the checkpoint and LoRAs it pins are in A1111."""
    from movieminter.app.rights import right_to_mint
    from movieminter.render.readiness import check_models as readiness

    manifest, _ = manifest_for(ctx, job)
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
    from movieminter.render.job import render_segment

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
    from movieminter.media.encode import encode_segment
    from movieminter.media.profile import soundtrack_of

    manifest, _ = manifest_for(ctx, job)
    frames = [Path(f) for f in job.data["rendered"]["frames"]]
    job.progress("encoding", frames=len(frames))
    out = job_dir(ctx, job) / f"segment-{job.segment:04d}.mp4"
    soundtrack = None
    if soundtrack_of(manifest):
        soundtrack = job_dir(ctx, job) / "soundtrack"
        if not soundtrack.exists():
            soundtrack.write_bytes(ctx.store.cat(soundtrack_of(manifest)["cid"]))
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
    from movieminter.ipfs import metadata as md
    from movieminter.ipfs.cid import cid_to_digest
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


def prepare_mint(ctx, job) -> dict | Goto:
    """pinned -> awaiting_signature: check the chain (already minted? by whom?),
    then prepare the unsigned mintSegment transaction for the wallet."""
    _check_chain_identity(ctx, job)
    settled = _settle_if_minted(ctx, job)
    if settled:
        return settled
    pinned = job.data["pinned"]
    args = [
        job.movie_id,
        job.segment,
        bytes.fromhex(pinned["content_digest"][2:]),
        bytes.fromhex(pinned["metadata_digest"][2:]),
    ]
    proof = job.params.get("proof") or job.saved("proof")
    if proof is not None:  # allowlist movies: the wallet's Merkle proof for this segment
        function, args = "mintSegmentWithProof", args + [[bytes.fromhex(p.removeprefix("0x")) for p in proof]]
    else:
        function = "mintSegment"
    job.progress("preparing the mint transaction")
    return {"tx": ctx.chain.build_tx(function, args, job.wallet), "function": function}


def tx_state(ctx, tx_hash: str) -> str:
    """ "mined", "pending" (the node has it, unmined) or "unknown" (never seen, or dropped)."""
    from web3.exceptions import TransactionNotFound

    try:
        tx = ctx.chain.w3.eth.get_transaction(tx_hash)
    except TransactionNotFound:
        return "unknown"
    return "mined" if tx.get("blockNumber") is not None else "pending"


def _replaced(ctx, tx_hash: str) -> bool:
    """A pending transaction whose nonce the wallet has already used in a mined one."""
    tx = ctx.chain.w3.eth.get_transaction(tx_hash)
    return ctx.chain.w3.eth.get_transaction_count(tx["from"], "latest") > tx["nonce"]


def mints_this_segment(ctx, job, receipt) -> bool:
    """The receipt's SegmentMinted names this movie, segment and wallet (from our contract)."""
    for event in ctx.chain.events(receipt):
        args = event["args"]
        if (
            event["event"] == "SegmentMinted"
            and int(args["movieId"]) == job.movie_id
            and int(args["segment"]) == job.segment
            and str(args["minter"]).lower() == job.wallet.lower()
        ):
            return True
    return False


def _forget_tx(job, tx_hash: str, why: str) -> None:
    """Back to awaiting a signature, with the rendered and pinned files kept."""
    job.save("ignored_txs", list(job.saved("ignored_txs", []) or []) + [tx_hash])
    job.save("tx_hash", None)
    job.save("tx_since", None)
    job.progress("awaiting signature", message=why)


def confirm_mint(ctx, job) -> dict | Goto:
    """awaiting_signature -> minted: wait for the wallet's transaction (the
    browser POSTs its hash; headless runs use the runner's signer), then its
    receipt. The mint is confirmed only by a receipt whose SegmentMinted event
    names this movie, segment and wallet, or by the chain's segment state: any
    other hash is ignored. A transaction the node drops (or that the wallet
    replaces) returns the job to awaiting a signature. The chain is checked on
    every (re)entry and while waiting, so nothing is signed twice for a minted
    segment."""
    from movieminter.chain.client import ChainError, ChainTimeout

    while True:
        tx_hash = job.saved("tx_hash")
        if not tx_hash:
            settled = _settle_if_minted(ctx, job)
            if settled:
                return settled
            tx = job.data["awaiting_signature"]["tx"]
            if job.signer is not None:
                job.check()
                tx_hash = str(job.signer(tx))
                tx_hash = tx_hash if tx_hash.startswith("0x") else "0x" + tx_hash
                job.save("tx_hash", tx_hash)
            else:
                job.progress("awaiting signature", tx=tx)
                tx_hash = job.wait_for_tx(timeout=CHAIN_POLL_SECONDS)
                if not tx_hash:
                    continue
        if not job.saved("tx_since"):
            job.save("tx_since", time.time())
        job.progress("confirming", tx_hash=tx_hash)
        try:
            receipt = ctx.chain.wait(tx_hash, timeout=CHAIN_POLL_SECONDS)
        except ChainError as exc:  # mined, but reverted
            settled = _settle_if_minted(ctx, job)
            if settled:
                return settled
            job.save("reverted", list(job.saved("reverted", []) or []) + [tx_hash])
            job.save("tx_hash", None)  # a retry asks the wallet for a fresh transaction
            job.save("tx_since", None)
            raise MovieMinterError(
                f"the mint transaction {tx_hash} reverted: {exc.message}",
                hint=exc.hint or "retry the job to sign a new transaction",
            ) from None
        except ChainTimeout:  # not mined yet: pending, replaced or dropped?
            job.check()
            settled = _settle_if_minted(ctx, job)
            if settled:
                return settled
            state = tx_state(ctx, tx_hash)
            silent = time.time() - float(job.saved("tx_since") or time.time())
            if (state == "unknown" and silent > DROPPED_AFTER_SECONDS) or (
                state == "pending" and _replaced(ctx, tx_hash)
            ):
                _forget_tx(job, tx_hash, f"the transaction {tx_hash} was dropped or replaced; sign the mint again")
            continue
        if not mints_this_segment(ctx, job, receipt):
            settled = _settle_if_minted(ctx, job)
            if settled:
                return settled
            _forget_tx(
                job, tx_hash, f"transaction {tx_hash} did not mint segment {job.segment}; sign the mint in your wallet"
            )
            continue
        return {"tx_hash": tx_hash, "block": int(receipt["blockNumber"]), "minter": job.wallet}


STEPS = [
    Step("queued", "models_ready", check_models),
    Step("models_ready", "rendering", begin_render),
    Step("rendering", "rendered", render, exclusive=True),
    Step("rendered", "encoded", encode),
    Step("encoded", "pinned", pin),
    Step("pinned", "awaiting_signature", prepare_mint),
    Step(
        "awaiting_signature",
        "minted",
        confirm_mint,
        on_start=lambda ctx, job: None if job.saved("tx_hash") else _settle_if_minted(ctx, job),
    ),
]
