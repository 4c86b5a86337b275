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
import time

PER_PAGE = 10
MAX_PER_PAGE = 50
TITLE_RETRY = 60.0

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
        self._scan_lock = threading.Lock()  # one scan at a time (it talks to the node)
        self._db_lock = threading.RLock()  # one statement sequence at a time on the shared connection
        self._first: dict[str, int] = {}  # contract -> the block of its first movie (no logs before it)
        self._title_misses: dict[tuple[str, int], float] = {}  # manifests IPFS did not serve, and when
        db = sqlite3.connect(
            str(ctx.settings.path() / "movies.sqlite3"), check_same_thread=False, isolation_level=None, timeout=30
        )
        for statement in SCHEMA:
            db.execute(statement)
        self._db = db

    def _rows(self, sql: str, args: tuple = ()) -> list:
        with self._db_lock:
            return self._db.execute(sql, args).fetchall()

    @property
    def chain(self):
        return self.ctx.movies.chain()  # says what to configure when there is no chain

    def contract(self) -> str:
        return str(self.chain.contract_address or "").lower()

    def first_block(self) -> int | None:
        """The block of the contract's first movie (its logs start there); None while it has none."""
        contract = self.contract()
        if contract not in self._first:
            if not int(self.chain.call("movieCount")):
                return None
            self._first[contract] = int(self.chain.movie(1)["createdBlock"])
        return self._first[contract]

    # ------------------------------------------------------------ the scan
    def sync(self) -> None:
        """Read the MovieCreated and SegmentMinted logs of the blocks not scanned yet."""
        chain = self.chain
        contract = self.contract()
        with self._scan_lock:
            row = self._rows("SELECT block, hash FROM catalog_scan WHERE contract = ?", (contract,))
            start = None
            if row:
                try:
                    known = chain.w3.eth.get_block(row[0][0])
                except Exception:  # the chain is shorter now (reverted)
                    known = None
                if known is not None and "0x" + bytes(known["hash"]).hex() == row[0][1]:
                    start = row[0][0] + 1
                else:
                    self._forget(contract)
            latest = chain.w3.eth.get_block("latest")
            end = int(latest["number"])
            if start is None:
                first = self.first_block()
                start = end + 1 if first is None else first  # no movie yet: no log to read
            created = chain._logs(chain.contract.events.MovieCreated, {}, start, end)
            minted = chain._logs(chain.contract.events.SegmentMinted, {}, start, end)
            self._store(contract, created, minted, end, "0x" + bytes(latest["hash"]).hex())

    def _store(self, contract: str, created: list, minted: list, block: int, block_hash: str) -> None:
        from movieminter.chain.client import MINT_MODES

        with self._db_lock:
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
                self._db.execute("INSERT OR REPLACE INTO catalog_scan VALUES (?, ?, ?)", (contract, block, block_hash))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _forget(self, contract: str) -> None:
        self._first.pop(contract, None)
        with self._db_lock:
            for table in ("catalog_movies", "catalog_minted", "catalog_scan"):
                self._db.execute(f"DELETE FROM {table} WHERE contract = ?", (contract,))

    # ------------------------------------------------------------ reads
    def minted_by(self, minter: str) -> list[tuple[int, int]]:
        """(movie id, segment) of every segment `minter` minted, newest movie first."""
        rows = self._rows(
            "SELECT movie_id, segment FROM catalog_minted WHERE contract = ? AND minter = ?"
            " ORDER BY movie_id DESC, segment",
            (self.contract(), minter.lower()),
        )
        return [(int(m), int(s)) for m, s in rows]

    def unfinished(self, mode: str) -> list[int]:
        """Ids of the movies of one mint mode with segments left to mint."""
        rows = self._rows(
            "SELECT m.movie_id FROM catalog_movies m LEFT JOIN catalog_minted x ON x.contract = m.contract"
            " AND x.movie_id = m.movie_id WHERE m.contract = ? AND m.mode = ? GROUP BY m.movie_id"
            " HAVING COUNT(x.segment) < m.segment_count ORDER BY m.movie_id DESC",
            (self.contract(), mode),
        )
        return [int(r[0]) for r in rows]

    def titles(self, movie_ids) -> dict[int, str]:
        """Each movie's title from its manifest (read from IPFS once, then remembered; a manifest IPFS
        did not serve is asked for again after TITLE_RETRY seconds, so a store that is down costs one
        timeout a minute, not one per movie per page)."""
        from movieminter.ipfs.cid import digest_to_cid

        contract = self.contract()
        out: dict[int, str] = {}
        for movie_id in sorted({int(i) for i in movie_ids}):
            row = self._rows(
                "SELECT title, manifest_digest FROM catalog_movies WHERE contract = ? AND movie_id = ?",
                (contract, movie_id),
            )
            title, digest = row[0] if row else (None, None)
            missed = self._title_misses.get((contract, movie_id), 0.0)
            if title is None and digest and int(digest, 16) and time.monotonic() - missed > TITLE_RETRY:
                try:
                    title = str(json.loads(self.ctx.store.cat(digest_to_cid(digest)))["movie"]["title"])
                except Exception:  # not on this store (yet), or not a manifest: the id stands in
                    self._title_misses[(contract, movie_id)] = time.monotonic()
                else:
                    self._rows(
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
        results = chain.call_many("movie", [(movie_id,) for movie_id in movie_ids])
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
        total = self._rows(f"SELECT COUNT(*) FROM ({query})", (contract,))[0][0]
        rows = self._rows(
            query + " ORDER BY m.movie_id DESC LIMIT ? OFFSET ?", (contract, per_page, (page - 1) * per_page)
        )
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
