"""The Minter tab's movie list: every movie on the contract that still has segments to mint, newest
first, a page at a time (no FastAPI here).

The chain is the source: `MovieCreated` logs name each movie (mode, segment count, manifest) and
`SegmentMinted` logs count what is minted. Both are scanned once into the app's movies.sqlite3, then
only the new blocks (a changed block hash, i.e. a reorg or a test chain's revert, starts over). A page
then costs one JSON-RPC batch of `movie()` calls for its lottery and allowlist deadlines, not one
round trip per movie, and each manifest is read from IPFS once for its title.
"""

from __future__ import annotations

import json
import sqlite3
import threading

from movieminter.errors import MovieMinterError

PER_PAGE = 10
MAX_PER_PAGE = 50

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS catalog_movies (contract TEXT, movie_id INTEGER, mode TEXT, segment_count INTEGER,"
    " manifest_digest TEXT, created_block INTEGER, title TEXT, PRIMARY KEY (contract, movie_id))",
    "CREATE TABLE IF NOT EXISTS catalog_minted (contract TEXT, movie_id INTEGER, segment INTEGER, minter TEXT,"
    " PRIMARY KEY (contract, movie_id, segment))",
    "CREATE TABLE IF NOT EXISTS catalog_scan (contract TEXT PRIMARY KEY, block INTEGER, hash TEXT)",
)


def catalog_of(ctx) -> Catalog:
    """The context's one Catalog (its sqlite connection and scan lock are shared by every request)."""
    found = ctx.caches.get("catalog")
    if found is None:
        found = ctx.caches.setdefault("catalog", Catalog(ctx))
    return found


def phase_of(info: dict, now: int) -> tuple[str, int | None]:
    """Where a movie stands for someone who wants to mint in it, and until when (chain time)."""
    mode = info["mintMode"]
    if mode == "lottery":
        if int(info["seed"], 16):
            deadline = int(info["claimDeadline"])
            return ("drawn", deadline) if deadline > now else ("drawn, leftovers open", None)
        if int(info["commitBlock"]):
            return "drawing", None
        deadline = int(info["entryDeadline"])
        return ("entries open", deadline) if now <= deadline else ("entries closed", None)
    if mode == "allowlist":
        deadline = int(info["claimDeadline"])
        return ("allowlist reserved", deadline) if deadline > now else ("open", None)
    return "open", None


class Catalog:
    def __init__(self, ctx):
        self.ctx = ctx
        self._lock = threading.Lock()
        db = sqlite3.connect(
            str(ctx.settings.path() / "movies.sqlite3"), check_same_thread=False, isolation_level=None, timeout=30
        )
        for statement in SCHEMA:
            db.execute(statement)
        self._db = db

    @property
    def chain(self):
        return self.ctx.movies.chain()  # says what to configure when there is no chain

    def contract(self) -> str:
        return str(self.chain.contract_address or "").lower()

    # ------------------------------------------------------------ the scan
    def sync(self) -> None:
        """Read the MovieCreated and SegmentMinted logs of the blocks not scanned yet."""
        from movieminter.chain.client import MINT_MODES

        chain = self.chain
        contract = self.contract()
        with self._lock:
            row = self._db.execute("SELECT block, hash FROM catalog_scan WHERE contract = ?", (contract,)).fetchone()
            start = 0
            if row is not None:
                try:
                    known = chain.w3.eth.get_block(row[0])
                except Exception:  # the chain is shorter now (reverted)
                    known = None
                if known is not None and "0x" + bytes(known["hash"]).hex() == row[1]:
                    start = row[0] + 1
                else:
                    self._forget(contract)
            latest = chain.w3.eth.get_block("latest")
            end = int(latest["number"])
            created = chain._logs(chain.contract.events.MovieCreated, {}, start, end)
            minted = chain._logs(chain.contract.events.SegmentMinted, {}, start, end)
            self._db.execute("BEGIN")
            try:
                for log in created:
                    a = log["args"]
                    self._db.execute(
                        "INSERT OR REPLACE INTO catalog_movies VALUES (?, ?, ?, ?, ?, ?, NULL)",
                        (
                            contract,
                            int(a["movieId"]),
                            MINT_MODES[int(a["mintMode"])],
                            int(a["segmentCount"]),
                            "0x" + bytes(a["manifestDigest"]).hex(),
                            int(log["blockNumber"]),
                        ),
                    )
                for log in minted:
                    a = log["args"]
                    self._db.execute(
                        "INSERT OR REPLACE INTO catalog_minted VALUES (?, ?, ?, ?)",
                        (contract, int(a["movieId"]), int(a["segment"]), str(a["minter"]).lower()),
                    )
                self._db.execute(
                    "INSERT OR REPLACE INTO catalog_scan VALUES (?, ?, ?)",
                    (contract, end, "0x" + bytes(latest["hash"]).hex()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _forget(self, contract: str) -> None:
        for table in ("catalog_movies", "catalog_minted", "catalog_scan"):
            self._db.execute(f"DELETE FROM {table} WHERE contract = ?", (contract,))

    # ------------------------------------------------------------ reads
    def minted_by(self, minter: str) -> list[tuple[int, int]]:
        """(movie id, segment) of every segment `minter` minted, newest movie first."""
        rows = self._db.execute(
            "SELECT movie_id, segment FROM catalog_minted WHERE contract = ? AND minter = ?"
            " ORDER BY movie_id DESC, segment",
            (self.contract(), minter.lower()),
        ).fetchall()
        return [(int(m), int(s)) for m, s in rows]

    def unfinished(self, mode: str) -> list[int]:
        """Ids of the movies of one mint mode with segments left to mint."""
        rows = self._db.execute(
            "SELECT m.movie_id FROM catalog_movies m LEFT JOIN catalog_minted x ON x.contract = m.contract"
            " AND x.movie_id = m.movie_id WHERE m.contract = ? AND m.mode = ? GROUP BY m.movie_id"
            " HAVING COUNT(x.segment) < m.segment_count ORDER BY m.movie_id DESC",
            (self.contract(), mode),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def segment_counts(self, movie_ids) -> dict[int, int]:
        ids = sorted({int(i) for i in movie_ids})
        if not ids:
            return {}
        rows = self._db.execute(
            f"SELECT movie_id, segment_count FROM catalog_movies WHERE contract = ? AND movie_id IN"
            f" ({','.join('?' * len(ids))})",
            (self.contract(), *ids),
        ).fetchall()
        return {int(m): int(n) for m, n in rows}

    def titles(self, movie_ids) -> dict[int, str]:
        """Each movie's title from its manifest (read from IPFS once, then remembered)."""
        from movieminter.ipfs.cid import digest_to_cid

        ids = sorted({int(i) for i in movie_ids})
        contract = self.contract()
        out: dict[int, str] = {}
        for movie_id in ids:
            row = self._db.execute(
                "SELECT title, manifest_digest FROM catalog_movies WHERE contract = ? AND movie_id = ?",
                (contract, movie_id),
            ).fetchone()
            if row is None:
                out[movie_id] = f"Movie {movie_id}"
                continue
            title, digest = row
            if title is None and digest and int(digest, 16):
                try:
                    title = str(json.loads(self.ctx.store.cat(digest_to_cid(digest)))["movie"]["title"])
                except Exception:  # not on this store (yet), or not a manifest: ask again next time
                    title = None
                if title is not None:
                    self._db.execute(
                        "UPDATE catalog_movies SET title = ? WHERE contract = ? AND movie_id = ?",
                        (title, contract, movie_id),
                    )
            out[movie_id] = title or f"Movie {movie_id}"
        return out

    def infos(self, movie_ids: list[int]) -> dict[int, dict]:
        """movie() of each id in ONE JSON-RPC batch (one round trip for the page)."""
        from movieminter.chain.client import MINT_MODES

        chain = self.chain
        if not movie_ids:
            return {}
        names = [c["name"] for c in chain._output_components("movie")]
        fn = chain.contract.functions.movie
        try:
            with chain.w3.batch_requests() as batch:
                for movie_id in movie_ids:
                    batch.add(fn(movie_id))
                results = batch.execute()
        except MovieMinterError:
            raise
        except Exception:  # a node without JSON-RPC batches: one call each
            results = [chain.call("movie", movie_id) for movie_id in movie_ids]
        out = {}
        for movie_id, raw in zip(movie_ids, results, strict=True):
            info = dict(zip(names, raw, strict=False))
            info["mintMode"] = MINT_MODES[info["mintMode"]]
            info["seed"] = "0x" + bytes(info["seed"]).hex()
            out[movie_id] = info
        return out

    def page(self, page: int = 1, per_page: int = PER_PAGE, include_finished: bool = False) -> dict:
        """One page of the movies with segments left to mint (all movies with `include_finished`)."""
        self.sync()
        per_page = max(1, min(MAX_PER_PAGE, int(per_page)))
        page = max(1, int(page))
        contract = self.contract()
        having = "" if include_finished else " HAVING minted < m.segment_count"
        query = (
            "SELECT m.movie_id, m.mode, m.segment_count, COUNT(x.segment) AS minted FROM catalog_movies m"
            " LEFT JOIN catalog_minted x ON x.contract = m.contract AND x.movie_id = m.movie_id"
            f" WHERE m.contract = ? GROUP BY m.movie_id{having}"
        )
        total = self._db.execute(f"SELECT COUNT(*) FROM ({query})", (contract,)).fetchone()[0]
        rows = self._db.execute(
            query + " ORDER BY m.movie_id DESC LIMIT ? OFFSET ?", (contract, per_page, (page - 1) * per_page)
        ).fetchall()
        ids = [int(r[0]) for r in rows]
        infos = self.infos(ids)
        titles = self.titles(ids)
        now = self.chain.timestamp()
        movies = []
        for movie_id, mode, count, minted in rows:
            phase, deadline = phase_of(infos[movie_id], now) if minted < count else ("finished", None)
            movies.append(
                {
                    "movie_id": movie_id,
                    "title": titles[movie_id],
                    "mint_mode": mode,
                    "segment_count": int(count),
                    "minted": int(minted),
                    "phase": phase,
                    "deadline": deadline,
                    "entrants": int(infos[movie_id]["entrantCount"]) if mode == "lottery" else None,
                }
            )
        return {
            "now": now,
            "page": page,
            "per_page": per_page,
            "total": int(total),
            "pages": max(1, -(-int(total) // per_page)),
            "movies": movies,
        }
