"""The demo's cast and props: narration, the demo wallets (encrypted keystores of anvil's test
accounts), local-chain controls, the A1111 stand-in, minting through the job runner, and the
revenue split. The story itself is movieminter.app.demo."""

from __future__ import annotations

import json
import logging
import secrets
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from eth_typing import HexStr

from movieminter.errors import MovieMinterError

ROLES = ("director", "creator", "minter-1", "minter-2", "minter-3", "viewer")
SEASON_ROLES = ("leader", "fan-1", "fan-2")  # `demo --season`: anvil accounts 6, 7, 8


# ---------------------------------------------------------------- narration
class Narrator:
    """Numbered steps that say what happened and what it proves."""

    def __init__(self, total: int, out=None):
        self.total, self.n, self.out = total, 0, out or sys.stdout
        self.t0 = time.monotonic()

    def step(self, title: str) -> None:
        self.n += 1
        self._print(f"\n[{self.n}/{self.total}] {title}")

    def info(self, text: str) -> None:
        self._print(f"      {text}")

    def proves(self, text: str) -> None:
        self._print(f"      ✓ proves: {text}")

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)


# ------------------------------------------------------------------ wallets
@dataclass
class DemoWallets:
    """Role -> (address, encrypted keystore file). The password sits in a 0600 file beside them."""

    folder: Path
    addresses: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    _accounts: dict = field(default_factory=dict, repr=False)

    @property
    def password(self) -> str:
        return (self.folder / "PASSWORD").read_text().strip()

    def account(self, role: str):
        if role not in self._accounts:  # decrypt once per run (scrypt is slow on purpose)
            from movieminter.chain.keystore import load_account

            self._accounts[role] = load_account(self.files[role], self.password)
        return self._accounts[role]

    def role_of(self, address: str) -> str:
        for role, a in self.addresses.items():
            if a.lower() == str(address).lower():
                return role
        raise MovieMinterError(f"{address} is not one of the demo wallets")


def make_demo_wallets(folder: Path, private_keys: list[str], roles: tuple[str, ...] = ROLES) -> DemoWallets:
    """Encrypted keystores of anvil's test accounts (created once, reused on a re-run): role i is account i."""
    from eth_account import Account

    folder.mkdir(parents=True, exist_ok=True)
    pw_file = folder / "PASSWORD"
    if not pw_file.exists():
        pw_file.write_text(secrets.token_urlsafe(18))
        pw_file.chmod(0o600)
    wallets = DemoWallets(folder)
    for i, role in enumerate(roles):
        path = folder / f"{role}.json"
        if not path.exists():
            # light scrypt (n=2^14): these are anvil's public test keys; a real keystore keeps eth-account's default
            path.write_text(
                json.dumps(Account.encrypt(HexStr(private_keys[i]), wallets.password, kdf="scrypt", iterations=2**14))
            )
            path.chmod(0o600)
        wallets.files[role] = path
        wallets.addresses[role] = Account.from_key(private_keys[i]).address
    return wallets


def eth(wei: int) -> str:
    """Exact: 10**16 wei -> "0.01 ETH" (never through a float)."""
    from decimal import Decimal

    return f"{(Decimal(int(wei)) / 10**18).normalize():f} ETH"


def short(addr: str) -> str:
    return addr[:6] + "…" + addr[-4:]


class ExternalAnvil:
    """An anvil someone else started (tests): same test mnemonic, so the same accounts and keys."""

    def __init__(self, url: str):
        from movieminter.chain.anvil import Anvil

        probe = Anvil()  # not started: only its deterministic accounts
        self.url, self.accounts, self.private_keys = url, probe.accounts, probe.private_keys


def anvil_rpc(chain, method: str, params: list):
    """Local-chain controls (time travel, mining) the demo uses to skip waiting."""
    reply = chain.w3.provider.make_request(method, params)
    if reply.get("error"):
        raise MovieMinterError(f"anvil refused {method}: {reply['error']}")
    return reply.get("result")


def run_lottery(chain, wallets: DemoWallets, movie_id: int, entry_seconds: int, say: Narrator, send) -> list:
    """Three demo minters enter, entries close, the draw block is mined and the draw recorded;
    the winners (checked by the independent Python verifier), one per segment or None."""
    from movieminter.app.activity import verify_lottery

    minters = ["minter-1", "minter-2", "minter-3"]
    for role in minters:
        send(role, "enter", [movie_id])
    say.info(f"entered: {', '.join(f'{r} {short(wallets.addresses[r])}' for r in minters)}")
    anvil_rpc(chain, "evm_increaseTime", [entry_seconds + 1])  # local chain: skip the wait
    anvil_rpc(chain, "evm_mine", [])
    close = send("director", "closeEntries", [movie_id])
    commit = int(chain.movie(movie_id)["commitBlock"])
    say.info(f"entries closed in block {close['blockNumber']}; the draw is committed to block {commit}'s hash")
    anvil_rpc(chain, "anvil_mine", [hex(max(1, commit + 1 - chain.w3.eth.block_number))])
    send("director", "draw", [movie_id])
    report = verify_lottery(chain, movie_id)
    for seg, w in enumerate(report["winners"]):
        who = f"{wallets.role_of(w)} {short(w)}" if w else "no winner: open to anyone after the draw"
        say.info(f"segment {seg}: {who}")
    if not report["verified"]:
        raise MovieMinterError(
            "The Python lottery verifier disagrees with the contract.",
            hint=f"run `movieminter lottery verify {movie_id}` for the details",
        )
    say.info("the Python verifier recomputed the same winners (see `movieminter lottery verify`)")
    return report["winners"]


def start_a1111_double(root: Path, stack: ExitStack) -> str:
    """The A1111 + Deforum stand-in in a thread, with the example's (fake, valid) models installed."""
    from movieminter.testing.a1111_double import start_stand_in

    url, stop = start_stand_in(root)
    stack.callback(stop)
    # Runs first at exit (LIFO): stopping the stand-in's server thread cancels its lifespan task, which
    # uvicorn reports as an ERROR traceback; it is the expected shutdown, not a failure.
    stack.callback(lambda: logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL))
    return url


def wallet_signer(chain, wallets: DemoWallets):
    """signer(tx) -> tx hash for the job runner: the chain client signs the prepared transaction with the demo
    keystore of its `from` address."""
    return lambda tx: chain.sign_and_send(tx, wallets.account(wallets.role_of(tx["from"])))


def mint_segments(
    ctx, chain, wallets: DemoWallets, movie_id: int, won: list[tuple[int, str]], manifest_cid: str, say: Narrator
) -> list[dict]:
    """Each winner's segment through the app's JobRunner and pipeline; the signature comes from the keystore."""
    from movieminter.app.runner import JobRunner

    runner = JobRunner(ctx, signer=wallet_signer(chain, wallets))
    out = []
    try:
        for seg, winner in won:
            t0 = time.monotonic()
            job, _ = runner.submit(
                chain_id=chain.chain_id,
                contract=chain.contract_address,
                movie_id=movie_id,
                segment=seg,
                wallet=winner,
                params={"manifest_cid": manifest_cid},
            )
            job = runner.wait(job.id, timeout=900)
            if job.state != "minted":
                err = job.error or {}
                raise MovieMinterError(
                    f"Segment {seg} did not mint: its job ended {job.state}"
                    f" in {err.get('state', '?')}: {err.get('message', '')}",
                    hint=err.get("hint"),
                )
            d = job.data
            pinned, minted = d.get("pinned", {}), d.get("minted", {})
            say.info(
                f"segment {seg} ({wallets.role_of(winner)}): rendered, encoded, pinned video "
                f"{pinned.get('video_cid')} and metadata {pinned.get('metadata_cid')}; minted in block "
                f"{minted.get('block')} ({time.monotonic() - t0:.0f} s); files in {ctx.settings.path('jobs', str(job.id))}"
            )
            out.append(
                {
                    "segment": seg,
                    "minter": winner,
                    "job_id": job.id,
                    "video_cid": pinned.get("video_cid"),
                    "metadata_cid": pinned.get("metadata_cid"),
                    "tx_hash": minted.get("tx_hash"),
                }
            )
    finally:
        runner.stop()
    return out


def revenue_split(chain, movie_id: int, wallets: DemoWallets, minted: list[dict]) -> dict:
    info = chain.movie(movie_id)
    to_creator, to_director = chain.call("collectable", movie_id)
    per_segment = int(info["revenuePerSegment"])
    count = int(info["segmentCount"])
    pool = per_segment * count
    paid = int(info["ticketsSold"]) * int(info["ticketPrice"])
    lines = [
        f"paid: {info['ticketsSold']} ticket(s) × {eth(int(info['ticketPrice']))} = {eth(paid)}",
        f"creator  {short(wallets.addresses['creator'])}: {eth(to_creator)} (Collect, then Withdraw)",
        f"director {short(wallets.addresses['director'])}: {eth(to_director)} (Collect, then Withdraw)",
        f"minters' pool: {eth(per_segment)} per segment × {count} = {eth(pool)}; each share belongs to "
        f"whoever holds that segment's token (unminted segments keep theirs for their future minter)",
    ]
    for m in minted:
        amount = chain.call("claimableSegmentRevenue", chain.token_id(movie_id, m["segment"]))
        lines.append(f"  segment {m['segment']} ({wallets.role_of(m['minter'])}): {eth(amount)} to claim")
    total = to_creator + to_director + pool
    lines.append(f"creator + director + pool = {eth(total)} {'=' if total == paid else '!='} paid {eth(paid)}")
    return {
        "creator": to_creator,
        "director": to_director,
        "per_segment": per_segment,
        "pool": pool,
        "total": total,
        "paid": paid,
        "lines": lines,
    }


# -------------------------------------------------------------------- serve
def with_gateway(app, store):
    """The local IPFS gateway at /ipfs/ (movieminter.ipfs.gateway), ahead of the UI mounted at "/",
    which would otherwise answer /ipfs/... itself. No-op when the app already serves /ipfs/."""
    if not any(getattr(r, "path", "").startswith("/ipfs/") for r in app.router.routes):
        from movieminter.ipfs.gateway import gateway_router

        app.router.routes[0:0] = gateway_router(store).routes
    return app


def serve(result: dict, *, port: int) -> None:
    """Serve the app (with the demo's chain, store and A1111) until Ctrl-C."""
    import socket

    import uvicorn

    from movieminter.app.server import create_app

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        raise MovieMinterError(
            f"Port {port} is taken.", hint="pass --port 0 for any free port, or another number"
        ) from exc
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    app = with_gateway(create_app(result["ctx"]), result["ctx"].store)
    anvil, movie_id, wallets = result["anvil"], result["movie_id"], result["wallets"]
    print(
        f"""
Open these in your browser:
  app (Minter tab)  {base}/
  Director studio   {base}/studio/?movie={movie_id}
  Watch page        {base}/watch/?movie={movie_id}
  local gateway     {base}/ipfs/{result["manifest_cid"]}   (the manifest; every CID above works here)
  REST API docs     {base}/api/v1/docs
To use a wallet: add the network RPC {anvil.url} (chain id {result["chain"].chain_id}) to MetaMask and import
one of anvil's well-known test accounts (the viewer is {wallets.addresses["viewer"]}).
Files: stitched movie {result["movie_file"]}; IPFS blocks {result["data_dir"] / "ipfs"}.
Press Ctrl-C to stop (anvil stops with it; the data folder stays).""",
        flush=True,
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
