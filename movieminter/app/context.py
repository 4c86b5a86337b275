"""What every route, UI and job step of the app shares: settings and the
clients built from them. Clients are built on first use so the server starts
even when, say, no chain is configured yet; each then explains what is
missing when it is actually needed."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from movieminter.config import Settings


@dataclass
class AppContext:
    settings: Settings
    extras: dict = field(default_factory=dict)  # test/demo hooks (e.g. injected doubles)

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
        """The job runner. Tests and the headless `mint` CLI may put `steps`
        (a list of runner.Step) and `signer` (tx dict -> tx hash) in extras."""
        from movieminter.app.runner import JobRunner

        return JobRunner(self, steps=self.extras.get("steps"), signer=self.extras.get("signer"), hub=self.events)

    def chain_identity(self) -> tuple[int, str]:
        """(chain id, contract address) jobs are keyed by; extras override for tests."""
        chain_id = self.extras.get("chain_id")
        contract = self.extras.get("contract_address") or self.settings.contract_address
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
