"""A minted segment as a token: id, owner, video and metadata CIDs with gateway links, the explorer
link (public chains only: a local chain has no explorer) and where to watch and share it."""

from __future__ import annotations

import json

from movieminter.app.errors import NotFound


def token_view(ctx, movie_id: int, segment: int, gateway: str) -> dict:
    """What the tab shows for a minted segment; `gateway` ends with "/" and is prefixed to CIDs
    (the configured public gateway, else this app's /ipfs/)."""
    from movieminter.app.wallet import expected_chain_id
    from movieminter.chain.presets import preset_for_chain_id
    from movieminter.ipfs.cid import digest_to_cid

    segs = ctx.chain.segments(movie_id, segment, 1)
    if not segs or segs[0]["status"] != "minted":
        raise NotFound(f"Segment {segment} of movie {movie_id} is not minted.", hint="Mint it first.")
    seg = segs[0]
    token_id = ctx.chain.token_id(movie_id, segment)
    owner = ctx.chain.call("ownerOf", token_id)  # the holder now (tokens can change hands), not the minter
    video_cid, metadata_cid = digest_to_cid(seg["contentDigest"]), digest_to_cid(seg["metadataDigest"])
    name = image_cid = None
    try:
        meta = json.loads(ctx.store.cat(metadata_cid))
        name = meta.get("name")
        image_cid = str(meta.get("image") or "").removeprefix("ipfs://") or None
    except Exception:  # the metadata is not reachable from here: the CIDs still identify it
        pass
    preset = preset_for_chain_id(expected_chain_id(ctx))
    contract = ctx.chain.contract_address
    link = lambda cid: gateway + cid if cid else None  # noqa: E731
    return {
        "movie_id": movie_id,
        "segment": segment,
        "token_id": str(token_id),  # beyond 2**53: a string in JSON
        "contract": contract,
        "owner": owner,
        "minter": seg["account"],
        "name": name,
        "video_cid": video_cid,
        "metadata_cid": metadata_cid,
        "poster_cid": image_cid,
        "video_url": link(video_cid),
        "metadata_url": link(metadata_cid),
        "poster_url": link(image_cid),
        "explorer_url": preset.token_url(contract, token_id) if preset else None,
        "watch_path": f"watch/?movie={movie_id}",
        "share_path": f"#movie={movie_id}&segment={segment}",
    }
