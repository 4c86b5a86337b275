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
