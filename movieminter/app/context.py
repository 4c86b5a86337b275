"""What every route, UI and job step of the app shares: settings and the
clients built from them. Clients are built on first use so the server starts
even when, say, no chain is configured yet; each then explains what is
missing when it is actually needed.

The optional fields are what tests, the demo and the headless `mint` CLI inject
instead of (or on top of) what the settings say."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from movieminter.config import Settings

DEFAULT_IT_PER_S = 8.0  # a mid-range GPU at 512x512 (SD 1.5): the render-time estimate says so


@dataclass
class AppContext:
    settings: Settings
    chain_id: int | None = None  # the chain's id without asking the node (jobs, SIWE)
    contract_address: str | None = None  # overrides settings.contract_address for job keys
    steps: list | None = None  # the job runner's steps (runner.Step), for tests
    signer: Callable[[dict], str] | None = None  # headless signing: prepared tx -> tx hash
    sse_heartbeat: float | None = None  # seconds between SSE heartbeats (default: sse.HEARTBEAT_SECONDS)
    it_per_s: float = DEFAULT_IT_PER_S  # render speed the scene view's estimate assumes
    caches: dict[str, Any] = field(default_factory=dict)  # per-context memo tables (manifests by movie)

    @functools.cached_property
    def journal(self):
        from movieminter.app.journal import Journal

        return Journal(self.settings.path() / "journal.sqlite3")

    @functools.cached_property
    def store(self):
        from movieminter.ipfs.stores import open_store

        return open_store(self.settings)

    @functools.cached_property
    def a1111(self):
        from movieminter.render.a1111 import A1111Client

        return A1111Client(self.settings.a1111_url, auth=self.settings.a1111_auth or None)

    @functools.cached_property
    def chain(self):
        from movieminter.chain.client import ChainClient

        return ChainClient.from_settings(self.settings)

    @functools.cached_property
    def community(self):
        """The Community contract's client (settings.community_address) on the same node as `chain`."""
        from movieminter.chain.community import CommunityClient
        from movieminter.errors import MovieMinterError

        if not self.settings.community_address:
            raise MovieMinterError(
                "No Community contract is configured.",
                hint="deploy it with `movieminter chain deploy` and set MOVIEMINTER_COMMUNITY_ADDRESS "
                "(or the Community field of A1111's Movie Minter settings)",
            )
        return CommunityClient.for_chain(
            self.chain, self.settings.community_address, deploy_block=self.settings.community_deploy_block
        )

    @functools.cached_property
    def served_hosts(self):
        """The addresses the app is served under (Host allow-list and SIWE domains), from settings."""
        from movieminter.app.security import ServedHosts

        return ServedHosts.from_settings(self.settings)

    @functools.cached_property
    def events(self):
        """Job progress and state events for SSE subscribers."""
        from movieminter.app.sse import EventHub

        return EventHub()

    @functools.cached_property
    def runner(self):
        from movieminter.app.runner import JobRunner

        return JobRunner(self, steps=self.steps, signer=self.signer, hub=self.events)

    @functools.cached_property
    def auth_store(self):
        """SIWE nonces and sessions (movieminter.app.wallet)."""
        from movieminter.app.wallet import AuthStore

        return AuthStore(self.settings.path() / "auth.sqlite3")

    @functools.cached_property
    def movies(self):
        """Movie lookups for the minter tab, with their own cache file (movieminter.app.movies)."""
        from movieminter.app.movies import Movies

        return Movies(self)

    def chain_identity(self) -> tuple[int, str]:
        """(chain id, contract address) jobs are keyed by; the fields above override the chain's answer."""
        chain_id = self.chain_id
        contract = self.contract_address or self.settings.contract_address
        if chain_id is None or not contract:
            from movieminter.chain.client import chain_unreachable
            from movieminter.errors import MovieMinterError

            try:
                chain = self.chain
                if chain_id is None:
                    chain_id = chain.chain_id
                contract = contract or chain.contract_address or ""
            except MovieMinterError:
                raise
            except Exception as exc:  # a bad URL ...
                raise chain_unreachable(self.settings.rpc_url or self.settings.chain, exc) from exc
        if not contract:
            from movieminter.chain.client import no_contract

            raise no_contract()
        return int(chain_id), str(contract)
