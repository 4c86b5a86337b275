"""Settings shared by every subsystem.

Values come from (lowest to highest priority): defaults, `MOVIEMINTER_*`
environment variables (how the A1111 host glue hands its settings section to
the app process), then command-line flags. Secrets (tokens) are kept out of
`repr`, so they never reach a log line by accident.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

ENV_PREFIX = "MOVIEMINTER_"
SECRET_FIELDS = {"ipfs_token", "civitai_token", "a1111_auth"}


@dataclasses.dataclass
class Settings:
    data_dir: Path = Path.home() / ".movieminter"
    a1111_url: str = ""  # empty: use the embedded A1111 double (demo)
    a1111_auth: str = ""  # "user:pass" as given to A1111's --api-auth
    a1111_models_dir: str = ""  # A1111's models/ folder when it is on this machine
    chain: str = "local"  # preset name (see movieminter.chain.presets) or an RPC URL
    rpc_url: str = ""
    contract_address: str = ""
    ipfs_backend: str = "local"  # local | kubo | pinata | psa
    ipfs_endpoint: str = ""
    ipfs_token: str = ""
    gateway_url: str = ""  # public gateway used in HLS playlists and links
    civitai_url: str = "https://civitai.com"
    civitai_token: str = ""
    allow_pickle: bool = False
    # Where browsers reach the app (DNS-rebinding guard and the SIWE domain; movieminter.app.security).
    # Loopback names (localhost, 127.0.0.1, [::1]) and the address it listens on always work.
    public_urls: str = ""  # the user's extra addresses, e.g. "https://mm.example.org, mybox:7870"
    host_urls: str = ""  # set by the A1111 host glue: A1111's own addresses and its --share link

    def __repr__(self) -> str:  # never print secrets
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = "***"
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.type in ("bool", bool):
                values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
            elif f.type in ("Path", Path):
                values[f.name] = Path(raw).expanduser()
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"]).expanduser()
        return cls(**values)

    def path(self, *parts: str) -> Path:
        """A folder under the data dir, created on first use."""
        p = self.data_dir.joinpath(*parts)
        p.mkdir(parents=True, exist_ok=True)
        return p
