"""Bounded types for route parameters: hostile values (1e400, 2**300, -1, non-hex hashes)
are a 422 that names the parameter, checked before any work or chain call."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import StringConstraints

INT64_MAX = 2**63 - 1  # what SQLite (the journal) stores; far beyond any real movie id or chain id
UINT32_MAX = 2**32 - 1

MovieId = Annotated[int, Path(ge=0, le=INT64_MAX, description="the movie's on-chain id")]
SegmentIndex = Annotated[int, Path(ge=0, le=UINT32_MAX, description="a segment's index (0-based)")]
JobId = Annotated[int, Path(ge=1, le=INT64_MAX, description="a job's id")]
ItemIndex = Annotated[int, Path(ge=0, le=10_000, description="an item's index (a preview, a still)")]
TxHash = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="a transaction hash: 0x + 64 hex")]
EthAddress = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]  # in bodies and queries
