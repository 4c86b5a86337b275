"""Who may mint a segment now, and how: the one check the Minter tab, the job
API and `movieminter mint` share. It is made before anything is rendered, so
no GPU time is spent on a segment the wallet could not mint.

Allowlist movies: the director pins the allowlist (OpenZeppelin's
StandardMerkleTree dump) and names its CID in the manifest (`allowlist.cid`).
The proof is computed here from that tree, after checking that the tree's root
is the one the movie records on chain, so the user never handles a proof.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time

from movieminter.errors import MovieMinterError
from movieminter.ipfs.cid import digest_to_cid


class NoRight(MovieMinterError, status=403):
    """The wallet may not mint this segment now; the message says why and what to do."""


@dataclasses.dataclass
class Right:
    verdict: str  # "mint" | "minted" (already minted by this wallet)
    segment: dict  # the chain's segment view
    proof: list[str] | None = None  # the Merkle proof, for allowlist movies


_trees: dict[tuple[str, str], object] = {}
_trees_lock = threading.Lock()


def allowlist_tree(store, manifest: dict, root: str):
    """The movie's allowlist tree, or None when its manifest names none. Refused if its root
    is not the one on chain (a manifest cannot hand out rights the movie did not grant)."""
    from movieminter.chain.merkle import StandardMerkleTree  # eth_utils: seconds, only for allowlist movies

    cid = (manifest.get("allowlist") or {}).get("cid")
    if not cid:
        return None
    key = (cid, root.lower())
    with _trees_lock:
        if key in _trees:
            return _trees[key]
    try:
        tree = StandardMerkleTree.load(json.loads(store.cat(cid)))
    except (ValueError, KeyError, TypeError) as exc:
        raise MovieMinterError(
            f"the movie's allowlist ({cid}) is not a Merkle tree dump",
            hint="ask the director to republish the allowlist",
        ) from exc
    if "0x" + tree.root.hex() != root.lower():
        raise MovieMinterError(
            f"the allowlist {cid} the manifest names has root 0x{tree.root.hex()}, but the movie "
            f"on chain was created with {root}",
            hint="the manifest's allowlist is not this movie's: ask the director",
        )
    with _trees_lock:
        _trees[key] = tree
    return tree


def allowlist_proof(store, manifest: dict, root: str, wallet: str, segment: int) -> list[str] | None:
    """The wallet's proof for the segment, or None when it is not on the allowlist."""
    tree = allowlist_tree(store, manifest, root)
    if tree is None or not wallet:
        return None
    try:
        proof = tree.get_proof([wallet, int(segment)])
    except MovieMinterError:
        return None
    return ["0x" + p.hex() for p in proof]


def right_to_mint(
    chain,
    movie_id: int,
    segment: int,
    wallet: str,
    *,
    store=None,
    manifest: dict | None = None,
    open_needs_claim: bool = False,
) -> Right:
    """Right("mint" | "minted") when the contract would let this wallet mint now; otherwise
    NoRight saying what to do. Reads the same segment view the timeline draws. An open
    segment may be minted without a claim; `open_needs_claim` asks for the claim first
    (a claim keeps another GPU from rendering the same segment meanwhile)."""
    info = chain.movie(movie_id)
    count = int(info.get("segmentCount") or 0)
    if not 0 <= segment < count:
        raise NoRight(
            f"movie {movie_id} has segments 0..{count - 1}, not {segment}",
            hint="pick a segment shown on the movie's timeline",
        )
    seg = chain.segments(movie_id, segment, 1)[0]
    status, account = seg["status"], seg["account"]
    mine = bool(account) and account.lower() == wallet.lower()
    where = f"segment {segment} of movie {movie_id}"
    if status == "minted":
        if mine:
            return Right("minted", seg)
        raise NoRight(
            f"{where} was already minted by {account}",
            hint="each segment is minted once; pick another segment you may mint",
        )
    if status in ("claimed", "won") and mine:
        return Right("mint", seg)
    if status == "allowlisted":
        if manifest is None or store is None:
            raise NoRight(f"{where} is reserved for the allowlist", hint="open the movie in the Minter tab")
        if not (manifest.get("allowlist") or {}).get("cid"):
            raise NoRight(
                f"{where} is reserved for the allowlist, and this movie's manifest does not say where the allowlist is",
                hint="ask the director for a manifest that names its allowlist",
            )
        proof = allowlist_proof(store, manifest, info.get("allowlistRoot") or "", wallet, segment)
        if proof is not None:
            return Right("mint", seg, proof)
        deadline = seg.get("deadline")
        until = f" until {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(deadline))}" if deadline else ""
        raise NoRight(
            f"{where} is reserved for other wallets on the allowlist{until}, not for {wallet}",
            hint="pick a segment the allowlist gives your wallet; unminted ones open to anyone after the claim window",
        )
    if status == "open" and not open_needs_claim:
        return Right("mint", seg)
    if status == "open":
        raise NoRight(
            f"claim it first: {where} is open, and nobody holds it yet",
            hint="click Claim on the segment in the Minter tab (or call claim(movieId, segment) "
            "from this wallet), then Render & Mint",
        )
    if status == "pending":
        mode = info.get("mintMode")
        hint = (
            "enter the lottery from the Minter tab before entries close, and wait for the draw"
            if mode == "lottery"
            else "wait until the segment opens; the Minter tab shows when"
        )
        raise NoRight(f"{where} is not open yet ({mode} mode)", hint=hint)
    deadline = seg.get("deadline")
    until = f" until {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(deadline))}" if deadline else ""
    kind = {"claimed": "claimed", "won": "won in the lottery"}.get(status, status)
    raise NoRight(
        f"{where} is {kind} by {account}{until}, not by your wallet {wallet}",
        hint="pick a segment that is yours or open; if the reservation lapses it opens again",
    )


class MovieMismatch(MovieMinterError, status=409):
    """The movie's on-chain record disagrees with its manifest: shown and minted by nobody."""


def check_segment_count(movie_id: int, onchain_count: int, manifest: dict) -> None:
    """A movie published with more segments than its manifest has would let its
    director mint phantom segments and dilute every minter's share of the pool."""
    have = len(manifest.get("segments") or [])
    if int(onchain_count) != have:
        raise MovieMismatch(
            f"movie {movie_id} was published with {onchain_count} segments, but its manifest has {have}: "
            "Movie Minter will not show or mint it",
            hint="its revenue would be split over segments that do not exist; ask the director to publish it again "
            "with the manifest's segment count",
        )


def movie_manifest(ctx, movie_id: int) -> tuple[dict, str]:
    """(manifest, CID) of a movie: fetched by the digest its on-chain record holds,
    validated, and checked against that record's segment count. Cached per CID."""
    from movieminter.manifest import load_manifest  # numpy, jsonschema: loaded when a job is vetted

    movie = ctx.chain.movie(movie_id)
    cid = digest_to_cid(movie["manifestDigest"])
    cache = ctx.caches.setdefault("onchain_manifests", {})
    if cid not in cache:
        try:
            raw = ctx.store.cat(cid)
        except MovieMinterError as exc:
            raise MovieMinterError(
                f"the manifest of movie {movie_id} ({cid}) is not available from IPFS",
                hint=exc.hint or "configure the IPFS backend the director pinned it to",
            ) from exc
        cache[cid] = load_manifest(raw)
    check_segment_count(movie_id, int(movie["segmentCount"]), cache[cid])
    return cache[cid], cid


def admit(ctx, movie_id: int, segment: int, wallet: str, params: dict) -> dict:
    """Before a job is created: may this wallet mint this segment now? Raises NoRight
    (403), a 409 for a movie whose record is not its manifest's, or a clear 4xx for a
    segment the movie does not have; returns the params with the allowlist proof added. A take job
    (`take_ballot` in its params) is vetted by takes.admit_take instead: it records a take, not a mint."""
    if params.get("take_ballot"):
        from movieminter.app.takes import admit_take

        return admit_take(ctx, movie_id, segment, wallet, params)
    from movieminter.manifest import load_manifest  # numpy, jsonschema: loaded when a job is vetted

    manifest = load_manifest(params["manifest"]) if params.get("manifest") else movie_manifest(ctx, movie_id)[0]
    right = right_to_mint(ctx.chain, movie_id, segment, wallet, store=ctx.store, manifest=manifest)
    if right.verdict == "mint" and ctx.settings.community_address:
        from movieminter.app.takes import segment_ballot

        ballot = segment_ballot(ctx.community, movie_id, segment)
        if ballot is not None:  # only the ballot's winning take mints it (from the take's own job)
            raise NoRight(
                f"segment {segment} of movie {movie_id} is up for takes in ballot {ballot}: only its winning take "
                "is minted",
                hint="holders of the collective's season pass render a take from the Minter tab; or pick another "
                "segment",
            )
    return {**params, "proof": right.proof} if right.proof else params
