"""Movies as the minter tab sees them: the on-chain record, the manifest it names,
and every segment's timeline cell (from ONE eth_call, plus this app's own jobs).

The chain is the truth for who may mint what; the journal adds what only this
app knows (a segment rendering here right now). Movies a browser opened are
remembered in the data dir's movies.sqlite3.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from movieminter.app.errors import ManifestUnavailable, MovieError, MovieNotFound, NoChain
from movieminter.errors import MovieMinterError

RECENT_LIMIT = 12
CID_RE = re.compile(r"^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,})$")


def nonzero(value: str | None) -> str | None:
    """A 0x hex value from the chain client, None when it is all zeros (unset)."""
    return value if value and int(value, 16) else None


def movie_info(movie_id: int, raw: dict) -> dict:
    """The chain's record of a movie (ChainClient.movie()) as the app shows it: snake_case, integers, and None
    for a digest or root that is unset. The movie page's summary and the studio's activity both start here."""
    return {
        "movie_id": movie_id,
        "segment_count": int(raw["segmentCount"]),
        "mint_mode": raw["mintMode"],
        "manifest_digest": nonzero(raw["manifestDigest"]),
        "director": raw["director"],
        "creator": raw["creator"],
        "entry_deadline": int(raw["entryDeadline"]),
        "drawn": bool(nonzero(raw["seed"])),
        "claim_window": int(raw["claimWindow"]),
        "allowlist_root": nonzero(raw["allowlistRoot"]) or "",
    }


def cell_of(raw: dict) -> dict:
    """One segment of ChainClient.segments() as a timeline cell's chain part."""
    return {
        "index": int(raw["segment"]),
        "chain_status": raw["status"],
        "holder": raw["account"],
        "deadline": int(raw["deadline"] or 0),
        "content_digest": raw["contentDigest"],
        "metadata_digest": raw["metadataDigest"],
    }


class Movies:
    """Movie lookups with small caches (manifests never change for a movie id)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._manifests: dict[str, tuple[dict, Future]] = {}  # CID -> (parsed, its validation)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        db = sqlite3.connect(str(ctx.settings.path() / "movies.sqlite3"), check_same_thread=False, isolation_level=None)
        db.execute(
            "CREATE TABLE IF NOT EXISTS recent (browser TEXT, movie_id INTEGER, title TEXT,"
            " manifest_cid TEXT, opened REAL, PRIMARY KEY (browser, movie_id))"
        )
        self._db = db

    def chain(self):
        try:
            return self.ctx.chain
        except MovieMinterError:
            raise
        except Exception as exc:
            raise NoChain(
                "No blockchain is configured, so movies cannot be read.",
                hint="Set a chain preset (or RPC URL) and the contract address in the settings.",
            ) from exc

    def info(self, movie_id: int) -> dict:
        from movieminter.chain.client import ChainUnavailable

        try:
            raw = self.chain().movie(movie_id)
        except ChainUnavailable:
            raise  # not a missing movie: the chain itself is down or not configured (503)
        except MovieMinterError as exc:
            raise MovieNotFound(
                f"Movie {movie_id} was not found on this chain.",
                hint=exc.hint or "Check the movie id; the director's page shows it.",
            ) from exc
        info = movie_info(movie_id, raw)
        if info["segment_count"] == 0:
            raise MovieNotFound(
                f"Movie {movie_id} does not exist on this chain.",
                hint="Check the movie id, or open the movie by its manifest CID.",
            )
        return info

    def manifest(self, movie_id: int, info: dict) -> tuple[dict, str]:
        """The movie's manifest, validated, and checked against the on-chain record (`info`)."""
        _, cid = self.outline(movie_id, info)
        with self._lock:
            check = self._manifests[cid][1]
        return check.result(), cid  # raises the ManifestError of an invalid manifest

    def outline(self, movie_id: int, info: dict) -> tuple[dict, str]:
        """The movie's manifest as parsed, before its full validation has finished: enough for the timeline
        (titles, segment count). Validating a feature film (1,080 segments: every schedule evaluated) takes
        about a second, so it runs in the background from the first look; `manifest()` waits for it, and once
        it failed this raises its ManifestError too. A manifest is immutable (its CID), so both are cached."""
        from movieminter.app.rights import check_segment_count
        from movieminter.ipfs.cid import digest_to_cid

        digest = info["manifest_digest"]
        if not digest:
            raise MovieError(f"Movie {movie_id} records no manifest.", hint="Ask the director to republish it.")
        cid = digest_to_cid(digest)
        with self._lock:
            entry = self._manifests.get(cid)
        if entry is None:
            entry = self._first_look(movie_id, cid)
        parsed, check = entry
        if check.done() and check.exception() is not None:
            raise check.exception()  # type: ignore[misc]
        check_segment_count(movie_id, info["segment_count"], parsed)
        return parsed, cid

    def _first_look(self, movie_id: int, cid: str) -> tuple[dict, Future]:
        from movieminter.manifest import load_manifest
        from movieminter.manifest.validate import parse_json_text

        try:
            data = self.ctx.store.cat(cid)
        except MovieMinterError as exc:
            raise ManifestUnavailable(
                f"The manifest of movie {movie_id} ({cid}) is not available from IPFS.",
                hint=exc.hint or "Check the IPFS settings, or pin the manifest on this store.",
            ) from exc
        parsed = parse_json_text(data)  # not JSON at all: its ManifestError now
        if not isinstance(parsed, dict) or not isinstance(parsed.get("segments"), list):
            load_manifest(parsed)  # a document of another shape: every problem now (cheap, nothing to iterate)
        with self._lock:
            if cid not in self._manifests:
                self._manifests[cid] = (parsed, self._checker().submit(self._validate, cid, data))
            return self._manifests[cid]

    def _validate(self, cid: str, data: bytes) -> dict:
        from movieminter.manifest import load_manifest

        manifest = load_manifest(data)
        # the jobs' own check (rights.movie_manifest) shares it: a Render & Mint does not validate again
        self.ctx.caches.setdefault("onchain_manifests", {}).setdefault(cid, manifest)
        return manifest

    def _checker(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="manifest-check")
        return self._pool

    def summary(self, movie_id: int) -> dict:
        info = self.info(movie_id)
        manifest, cid = self.outline(movie_id, info)
        movie = manifest.get("movie", {})
        movie = movie if isinstance(movie, dict) else {}  # (not validated yet: see outline)
        title, description = movie.get("title"), movie.get("description")
        return {
            **info,
            "manifest_cid": cid,
            "title": title if isinstance(title, str) else f"Movie {movie_id}",
            "description": description if isinstance(description, str) else "",
            "fps": movie.get("fps"),
            "width": movie.get("width"),
            "height": movie.get("height"),
        }

    def resolve(self, ref: str) -> int:
        """The movie id an on-chain id or a manifest CID (ipfs:// or bare) names."""
        ref = ref.strip().removeprefix("ipfs://")
        if ref.isdigit():
            return int(ref)
        if CID_RE.match(ref):
            return self.find_by_cid(ref)
        raise MovieError(
            f"{ref!r} is neither a movie id nor a manifest CID.",
            hint="Enter a number such as 1, or a CID such as bafy...",
        )

    def find_by_cid(self, cid: str) -> int:
        """The movie whose manifest digest matches a CID (scans the contract's movies)."""
        from movieminter.ipfs.cid import cid_to_digest

        try:
            digest = "0x" + cid_to_digest(cid).hex()
        except Exception as exc:
            raise MovieError(
                f"{cid!r} is not a valid IPFS CID.", hint="Paste the manifest CID the director published."
            ) from exc
        count = int(self.chain().call("movieCount"))
        for movie_id in range(count, -1, -1):  # newest first
            try:
                info = self.info(movie_id)
            except MovieError:
                continue
            if (info["manifest_digest"] or "").lower() == digest.lower():
                return movie_id
        raise MovieNotFound(
            f"No movie on this chain was published with manifest {cid}.",
            hint="Check the CID, or ask the director for the movie id.",
        )

    def remember(self, browser: str, movie_id: int, title: str, cid: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO recent VALUES (?, ?, ?, ?, ?)", (browser, movie_id, title, cid, time.time())
        )
        self._db.execute(
            "DELETE FROM recent WHERE browser = ? AND movie_id NOT IN (SELECT movie_id FROM recent"
            " WHERE browser = ? ORDER BY opened DESC LIMIT ?)",
            (browser, browser, RECENT_LIMIT),
        )

    def recent(self, browser: str) -> list[dict]:
        rows = self._db.execute(
            "SELECT movie_id, title, manifest_cid, opened FROM recent WHERE browser = ? ORDER BY opened DESC",
            (browser,),
        ).fetchall()
        return [{"movie_id": r[0], "title": r[1], "manifest_cid": r[2], "opened": r[3]} for r in rows]

    # timeline
    def timeline(self, movie_id: int, viewer: str | None) -> dict:
        info = self.info(movie_id)
        manifest, _ = self.outline(movie_id, info)
        titles = {i: s.get("title", "") if isinstance(s, dict) else "" for i, s in enumerate(manifest["segments"])}
        cells = self.segments(movie_id, info, viewer, manifest)
        for c in cells:
            c["title"] = titles.get(c["index"], "")
        return {
            "movie_id": movie_id,
            "viewer": viewer,
            "mint_mode": info["mint_mode"],
            "now": int(time.time()),
            "segments": cells,
        }

    def segments(self, movie_id: int, info: dict, viewer: str | None, manifest: dict | None = None) -> list[dict]:
        """Every segment's cell from ONE eth_call, plus local job state and thumbnails."""
        from movieminter.app.rights import allowlist_tree

        raw = self.chain().segments(movie_id, 0, info["segment_count"])
        allowed: set[int] = set()
        if viewer and manifest is not None and info["mint_mode"] == "allowlist":
            manifest, _ = self.manifest(movie_id, info)  # rights come from a validated manifest only
            tree = allowlist_tree(self.ctx.store, manifest, info["allowlist_root"])
            if tree is not None:  # the viewer's segments on the allowlist (no proof shown to anyone)
                allowed = {int(v["value"][1]) for v in tree.values if str(v["value"][0]).lower() == viewer.lower()}
        cells = [cell_of(r) for r in raw]
        jobs = self.jobs_by_segment(movie_id)
        previews = self.ctx.settings.data_dir / "previews" / str(movie_id)
        for cell in cells:
            job = jobs.get(cell["index"])
            status = cell["chain_status"]
            mine = viewer is not None and (cell["holder"] or "").lower() == viewer.lower()
            if status == "minted":
                state = "minted"
            elif job is not None and not job["terminal"]:
                state = "rendering"
            elif status in ("claimed", "won"):  # the contract already reopens expired reservations
                state = "yours" if mine else "assigned"
            elif status == "allowlisted":  # reserved for the allowlist's wallets until the deadline
                mine = cell["index"] in allowed
                state = "yours" if mine else "assigned"
                cell["allowlisted"] = True
            else:
                state = "open"  # open, or pending (lottery not drawn yet: enter it)
            cell.update(state=state, mine=mine, job=job)
            cell["thumb"] = status == "minted" or (previews / str(cell["index"]) / "0.png").exists()
        return cells

    def jobs_by_segment(self, movie_id: int) -> dict[int, dict]:
        out: dict[int, dict] = {}
        try:
            jobs = self.ctx.journal.list(limit=5000)
        except Exception:  # journal not available: only the chain's view
            return out
        for job in reversed(jobs):  # oldest first, so the newest job of a segment wins
            if job.movie_id == movie_id:
                out[job.segment] = {"id": job.id, "state": job.state, "terminal": job.terminal, "wallet": job.wallet}
        return out
