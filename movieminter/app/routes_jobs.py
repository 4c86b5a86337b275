"""REST API for render-and-mint jobs (mounted under /api/v1).

GET  /jobs                      list (newest first)
POST /jobs                      queue Render & Mint for one segment (idempotent per segment+wallet)
GET  /jobs/{id}                 one job, with its journaled transitions
GET  /jobs/{id}/events          text/event-stream: `state` and `progress` events, heartbeats
POST /jobs/{id}/cancel          cancel (not once the mint tx was sent)
POST /jobs/{id}/retry           resume a failed/cancelled job from the step it stopped in
POST /jobs/{id}/submitted       {tx_hash}: the browser wallet sent the prepared mint tx
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from movieminter.app.deps import Ctx
from movieminter.app.journal import TERMINAL
from movieminter.app.params import INT64_MAX, UINT32_MAX, EthAddress, JobId
from movieminter.app.sse import HEARTBEAT_SECONDS, job_events_response


class JobIn(BaseModel):
    movie_id: int = Field(ge=0, le=INT64_MAX)
    segment: int = Field(ge=0, le=UINT32_MAX)
    wallet: EthAddress = Field(description="the minting wallet (0x...), which signs the mint in the browser")
    chain_id: int | None = Field(default=None, ge=1, le=INT64_MAX, description="defaults to the configured chain")
    contract: EthAddress | None = Field(default=None, description="defaults to the configured contract")
    manifest: dict | None = Field(default=None, description="the movie manifest; else read from IPFS")
    manifest_cid: str | None = None


class TxIn(BaseModel):
    tx_hash: str = Field(description="hash of the mint transaction the wallet sent (0x + 64 hex)")


router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("")
def list_jobs(ctx: Ctx, limit: int = Query(200, ge=1, le=5000)):
    return {"jobs": [j.public() for j in ctx.journal.list(limit=limit)]}


@router.post("")
def create_job(body: JobIn, ctx: Ctx):
    chain_id, contract = body.chain_id, body.contract
    if chain_id is None or not contract:
        default_id, default_contract = ctx.chain_identity()
        chain_id = default_id if chain_id is None else chain_id
        contract = contract or default_contract
    params = {k: v for k, v in (("manifest", body.manifest), ("manifest_cid", body.manifest_cid)) if v}
    job, created = ctx.runner.submit(
        chain_id=chain_id,
        contract=contract,
        movie_id=body.movie_id,
        segment=body.segment,
        wallet=body.wallet,
        params=params,
    )
    return JSONResponse({"created": created, "job": job.public()}, status_code=201 if created else 200)


@router.get("/{job_id}")
def get_job(job_id: JobId, ctx: Ctx):
    job = ctx.journal.get(job_id)
    return {
        **job.public(),
        "transitions": ctx.journal.transitions(job_id),
        "progress": ctx.events.last_progress(job_id),
    }


@router.get("/{job_id}/events", responses={200: {"content": {"text/event-stream": {}}}})
async def job_events(job_id: JobId, ctx: Ctx):
    ctx.journal.get(job_id)  # 404 before the stream starts
    return job_events_response(
        ctx.events,
        job_id,
        lambda: ctx.journal.get(job_id).public(),
        heartbeat=float(ctx.sse_heartbeat or HEARTBEAT_SECONDS),
        terminal=lambda item: item["event"] == "state" and item["data"].get("state") in TERMINAL,
    )


@router.post("/{job_id}/cancel")
def cancel_job(job_id: JobId, ctx: Ctx):
    return ctx.runner.cancel(job_id).public()


@router.post("/{job_id}/retry")
def retry_job(job_id: JobId, ctx: Ctx):
    return ctx.runner.retry(job_id).public()


@router.post("/{job_id}/submitted")
def tx_submitted(job_id: JobId, body: TxIn, ctx: Ctx):
    return ctx.runner.submit_tx(job_id, body.tx_hash).public()
