"""A local dev chain: anvil from the project's npm tools (node_modules/.bin/anvil).

Deterministic: the standard test mnemonic, so the accounts (and the first contract address) are the same
every run. Used by the demo (`movieminter chain anvil`) and the tests (tests/fixtures_chain.py).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
from eth_account import Account

from movieminter.errors import MovieMinterError

ROOT = Path(__file__).resolve().parents[2]
TEST_MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 31337
ACCOUNT_COUNT = 10

Account.enable_unaudited_hdwallet_features()


def find_anvil() -> str:
    """The anvil binary: node_modules/.bin/anvil (pinned by package.json), else one on PATH."""
    local = ROOT / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if found:
        return found
    raise MovieMinterError(
        "anvil (the local chain) is not installed", hint="run ./mm setup (or `npm ci` in the project folder)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Anvil:
    """Runs anvil on a free loopback port for the duration of a `with` block (or start()/stop()).

    `.url` is the RPC URL, `.accounts` the funded addresses, `.private_keys` their keys (well-known test keys
    from the public test mnemonic: never use them on a real chain).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        chain_id: int = CHAIN_ID,
        block_time: float | None = None,
        extra_args: list[str] | None = None,
        startup_timeout: float = 30.0,
    ):
        self.port = port
        self.chain_id = chain_id
        self.block_time = block_time
        self.extra_args = list(extra_args or [])
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        keys = [Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(ACCOUNT_COUNT)]
        self.accounts: list[str] = [k.address for k in keys]
        self.private_keys: list[str] = ["0x" + bytes(k.key).hex() for k in keys]

    def __repr__(self) -> str:
        return f"Anvil(url={self.url if self.process else None!r}, chain_id={self.chain_id})"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Anvil:
        binary = find_anvil()
        fixed_port = self.port
        err = ""
        for _attempt in range(1 if fixed_port else 5):  # a free port can be taken before anvil binds it
            port = fixed_port or _free_port()
            args = [
                binary,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--mnemonic",
                TEST_MNEMONIC,
                "--accounts",
                str(ACCOUNT_COUNT),
                "--chain-id",
                str(self.chain_id),
                "--silent",
                # Old states stay in memory only: by default anvil writes them under
                # ~/.foundry/anvil/tmp (GBs after a few thousand blocks) and leaves them there.
                "--max-persisted-states",
                "0",
                *self.extra_args,
            ]
            if self.block_time:
                args += ["--block-time", str(self.block_time)]
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            self.port = port
            if self._wait_ready():
                return self
            err = self._stop_process()
            if "in use" not in err:
                break
        self.port = fixed_port
        raise MovieMinterError(
            f"anvil did not start: {err.strip()[-500:] or 'no output'}",
            hint="check that node_modules/.bin/anvil runs (./mm setup), and that the port is free",
        )

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        assert self.process is not None  # started by start()
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False
                try:
                    if client.post(self.url, json=payload).status_code == 200:
                        return True
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        return False

    def _stop_process(self) -> str:
        proc, self.process = self.process, None
        if proc is None:
            return ""
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        return err

    def stop(self) -> None:
        self._stop_process()

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):  # a forgotten anvil must not outlive its owner
        if getattr(self, "process", None) is not None:
            try:
                self._stop_process()
            except Exception:  # interpreter shutdown: best effort
                pass
