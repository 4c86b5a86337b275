"""Settings shared by every subsystem of the app (pydantic-settings).

Values come from (lowest to highest priority): defaults, `MOVIEMINTER_*`
environment variables (how the A1111 host glue hands its settings section to
the app process), then command-line flags. `Settings(...)` takes only what it
is given; `Settings.from_env(...)` reads the environment too. Secrets (tokens)
are kept out of `repr`, so they never reach a log line by accident.

The A1111 host glue (movieminter.host) never imports this module: it runs in
A1111's own venv, with pydantic 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "MOVIEMINTER_"
SECRET_FIELDS = {"ipfs_token", "civitai_token", "a1111_auth"}
TRUE_WORDS = {"1", "true", "yes", "on"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path.home() / ".movieminter")
    a1111_url: str = ""  # empty: use the embedded A1111 double (demo)
    a1111_auth: str = ""  # "user:pass" as given to A1111's --api-auth
    a1111_models_dir: str = ""  # A1111's models/ folder when it is on this machine
    chain: str = "local"  # preset name (see movieminter.chain.presets) or an RPC URL
    rpc_url: str = ""
    contract_address: str = ""
    community_address: str = ""  # Community (contracts/Community.sol): collectives, passes, votes, credits
    # The blocks the contracts were deployed in: event logs are read from there (0 = unknown: from genesis, which
    # public RPC providers refuse or serve slowly). `movieminter chain deploy` prints them.
    contract_deploy_block: int = Field(default=0, ge=0)
    community_deploy_block: int = Field(default=0, ge=0)
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

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return Path(value).expanduser()

    @field_validator("allow_pickle", mode="before")
    @classmethod
    def _yes_or_no(cls, value):
        return value.strip().lower() in TRUE_WORDS if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the environment only through from_env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Defaults < MOVIEMINTER_* variables (of `environ`, default os.environ) < `overrides` that are not None."""
        source = EnvSettingsSource(cls, env_prefix=ENV_PREFIX, case_sensitive=False)
        if environ is not None:
            source.env_vars = {k.lower(): v for k, v in environ.items()}
        values = source()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __repr__(self) -> str:  # never print secrets
        parts = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in SECRET_FIELDS and value:
                value = "***"
            parts.append(f"{name}={value!r}")
        return f"Settings({', '.join(parts)})"

    __str__ = __repr__

    def public(self) -> dict:
        """The settings as a browser may see them: secrets only as set / not set."""
        out = {}
        for name, value in self.model_dump().items():
            if name in SECRET_FIELDS:
                value = "set" if value else "not set"
            out[name] = str(value) if isinstance(value, Path) else value
        return out

    def path(self, *parts: str) -> Path:
        """A folder under the data dir, created on first use."""
        p = self.data_dir.joinpath(*parts)
        p.mkdir(parents=True, exist_ok=True)
        return p
