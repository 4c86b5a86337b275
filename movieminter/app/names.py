"""Names for addresses in credits: the ENS name where the chain has an ENS registry, else a short address.

A local chain (anvil) has no ENS registry, so there the lookup is skipped after one `eth_getCode` and every
address shows as `0x1234…abcd`. Reverse resolution is web3's ENS module (it checks the name resolves back
to the address); any failure falls back to the short address: credits never fail over a name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from movieminter.media.stitch import short_address

Resolver = Callable[[str], "str | None"]


def ens_resolver(w3) -> Resolver | None:
    """A reverse-name lookup for the chain behind `w3`, or None when it has no ENS registry."""
    from ens import ENS
    from ens.constants import ENS_MAINNET_ADDR

    try:
        if not w3.eth.get_code(ENS_MAINNET_ADDR):
            return None
    except Exception:  # the node is unreachable: no names, the caller's own reads will say why
        return None
    ns = ENS.from_web3(w3)
    return ns.name


def display_names(addresses: Iterable[str], resolver: Resolver | None) -> dict[str, str]:
    """address -> ENS name or short address, each address looked up once."""
    out: dict[str, str] = {}
    for address in addresses:
        if not address or address in out:
            continue
        name = None
        if resolver is not None:
            try:
                name = resolver(address)
            except Exception:  # a broken resolver or record: the short address is always right
                name = None
        out[address] = name or short_address(address)
    return out
