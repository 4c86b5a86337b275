"""Movies for the minter tab (filled in below)."""
from fastapi import APIRouter


def build_router(ctx) -> APIRouter:
    return APIRouter(prefix="/movies", tags=["movies"])
