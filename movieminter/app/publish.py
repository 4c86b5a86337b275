"""Publishing a movie: everything before the director signs createMovie, shared by the studio's route
(routes_director) and `movieminter director create` (director_cli). The steps are in movieminter.app.director."""

from __future__ import annotations

from movieminter.app.director import (
    MovieTerms,
    build_allowlist,
    chain_now,
    create_movie_call,
    parse_allowlist_csv,
    pin_manifest,
)


def prepare_create(store, chain, manifest: dict, terms: MovieTerms, allowlist_csv: str = "") -> dict:
    """Pins the manifest and returns the createMovie call for it. In allowlist mode the allowlist comes first,
    from `allowlist_csv` (address,segment rows): its proofs are pinned and named in the manifest (where the
    minters' apps find them) and its root goes into `terms`.
    {"pinned": {cid, digest}, "allowlist": build_allowlist's answer or None, "call": (function, args)}"""
    allow = None
    if terms.mode == "allowlist":
        allow = build_allowlist(store, parse_allowlist_csv(allowlist_csv, len(manifest["segments"])))
        terms.merkle_root = allow["root"]
        manifest = {**manifest, "allowlist": {"cid": allow["proofs_cid"]}}
    pinned = pin_manifest(store, manifest)
    call = create_movie_call(manifest, pinned["digest"], terms, now=chain_now(chain))
    return {"pinned": pinned, "allowlist": allow, "call": call}
