"""Chain presets: chain id, a public RPC URL, the explorer's URL templates and the native currency.

Public RPC URLs are rate-limited; for real use set your own `rpc_url` (Settings / MOVIEMINTER_RPC_URL).
"""

from __future__ import annotations

from dataclasses import dataclass

from movieminter.errors import MovieMinterError


@dataclass(frozen=True)
class ChainPreset:
    name: str
    title: str
    chain_id: int
    rpc_url: str
    explorer: str  # base URL, "" when there is none (local chain)
    currency: str  # native currency symbol
    testnet: bool

    def tx_url(self, tx_hash: str) -> str | None:
        return f"{self.explorer}/tx/{tx_hash}" if self.explorer else None

    def address_url(self, address: str) -> str | None:
        return f"{self.explorer}/address/{address}" if self.explorer else None

    def token_url(self, contract: str, token_id: int) -> str | None:
        return f"{self.explorer}/token/{contract}?a={token_id}" if self.explorer else None


PRESETS: dict[str, ChainPreset] = {
    p.name: p
    for p in [
        ChainPreset("local", "Local chain (anvil)", 31337, "http://127.0.0.1:8545", "", "ETH", True),
        ChainPreset(
            "sepolia",
            "Ethereum Sepolia",
            11155111,
            "https://ethereum-sepolia-rpc.publicnode.com",
            "https://sepolia.etherscan.io",
            "ETH",
            True,
        ),
        ChainPreset(
            "base-sepolia",
            "Base Sepolia",
            84532,
            "https://sepolia.base.org",
            "https://sepolia.basescan.org",
            "ETH",
            True,
        ),
        ChainPreset("base", "Base", 8453, "https://mainnet.base.org", "https://basescan.org", "ETH", False),
        ChainPreset(
            "optimism", "OP Mainnet", 10, "https://mainnet.optimism.io", "https://optimistic.etherscan.io", "ETH", False
        ),
        ChainPreset("polygon", "Polygon PoS", 137, "https://polygon-rpc.com", "https://polygonscan.com", "POL", False),
    ]
}


def preset_for_chain_id(chain_id: int) -> ChainPreset | None:
    return next((p for p in PRESETS.values() if p.chain_id == chain_id), None)


def get_preset(name: str) -> ChainPreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise MovieMinterError(
            f"unknown chain preset {name!r}",
            hint=f"use one of {', '.join(PRESETS)} or an RPC URL (http://... / https://...)",
        ) from None


def resolve_rpc_url(chain: str, rpc_url: str = "") -> str:
    """`rpc_url` if set; else `chain` itself when it is a URL; else the preset's public RPC URL."""
    if rpc_url:
        return rpc_url
    if chain.startswith(("http://", "https://", "ws://", "wss://")):
        return chain
    return get_preset(chain or "local").rpc_url
