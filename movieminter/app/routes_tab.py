"""The Minter tab's lists and revenue share (mounted under /api/v1); the logic is in the FastAPI-free
modules movieminter.app.catalog (movies to mint in) and movieminter.app.my_work (the wallet's work).

GET  /ux/catalog?page=&per_page=&all=    movies with segments left to mint (all=1: every movie), newest first
GET  /ux/my-work?page=                   the signed-in wallet's segments and jobs, what needs its action first
GET  /ux/revenue                         its withdrawable balance and its segment tokens' claimable share (wei)
POST /ux/revenue/claim/tx                the unsigned claimSegmentRevenue of its tokens with a share
POST /ux/revenue/withdraw/tx             the unsigned withdraw of its balance (409 at 0)
POST /ux/revenue/passes/{action}/tx      the same for its season-pass share (Community): collect, claim, withdraw
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from movieminter.app import my_work as work
from movieminter.app import pass_revenue
from movieminter.app.catalog import MAX_PER_PAGE, PER_PAGE, catalog_of
from movieminter.app.deps import Ctx, Wallet

router = APIRouter(prefix="/ux", tags=["minter tab"])


@router.get("/catalog")
def catalog(
    ctx: Ctx,
    page: int = Query(1, ge=1, le=10**6),
    per_page: int = Query(PER_PAGE, ge=1, le=MAX_PER_PAGE),
    all: bool = False,  # noqa: A002 - the query parameter's name
):
    return catalog_of(ctx).page(page, per_page, include_finished=all)


@router.get("/my-work")
def my_work(
    ctx: Ctx, wallet: Wallet, page: int = Query(1, ge=1, le=10**6), per_page: int = Query(work.PER_PAGE, ge=1, le=100)
):
    return work.my_work(ctx, wallet, page, per_page)


@router.get("/revenue")
def revenue(ctx: Ctx, wallet: Wallet):
    return pass_revenue.tab_revenue(ctx, wallet)


@router.post("/revenue/claim/tx")
def claim(ctx: Ctx, wallet: Wallet):
    return work.claim_tx(ctx, wallet)


@router.post("/revenue/withdraw/tx")
def withdraw(ctx: Ctx, wallet: Wallet):
    return work.withdraw_tx(ctx, wallet)


PASS_ACTIONS = {
    "collect": pass_revenue.collect_tx,
    "claim": pass_revenue.claim_tx,
    "withdraw": pass_revenue.withdraw_tx,
}


@router.post("/revenue/passes/{action}/tx")
def pass_share(action: Literal["collect", "claim", "withdraw"], ctx: Ctx, wallet: Wallet):
    return PASS_ACTIONS[action](ctx, wallet)
