"""CID <-> bytes32 mapping shared with the contract's tokenURI.

The chain stores only the 32-byte sha2-256 digest of a dag-pb root. The text
form is always CIDv1, dag-pb, sha2-256, base32 lower case:

    cid = "b" + base32_rfc4648_lower_nopad(0x01 0x70 0x12 0x20 || digest)

    0x01 CID version 1, 0x70 multicodec dag-pb, 0x12 multihash sha2-256,
    0x20 digest length 32. The result is 59 characters starting "bafybei".

CIDv0 ("Qm…", base58btc of 0x12 0x20 || digest) names the same block, so it
is accepted as input everywhere and mapped to the same digest.
"""

from __future__ import annotations

from multiformats import CID, multihash

from movieminter.ipfs.errors import InvalidCid

DAG_PB = 0x70
RAW = 0x55
SHA2_256 = 0x12
CIDV1_DAG_PB_PREFIX = bytes([0x01, DAG_PB, SHA2_256, 0x20])


def parse_cid(cid: str | bytes | CID) -> CID:
    """Decode a CID given as text (any multibase, or CIDv0), binary, or CID."""
    if isinstance(cid, CID):
        return cid
    try:
        if isinstance(cid, (bytes, bytearray, memoryview)):
            raw = bytes(cid)
            if len(raw) == 34 and raw[:2] == b"\x12\x20":  # binary CIDv0 = bare multihash
                return CID("base58btc", 0, "dag-pb", raw)
            return CID.decode(raw)
        return CID.decode(cid.strip())
    except Exception as exc:  # multiformats raises several types
        raise InvalidCid(
            f"not a valid CID: {str(cid)[:80]!r}", hint="expected something like bafybei… (CIDv1) or Qm… (CIDv0)"
        ) from exc


def cid_to_digest(cid: str | bytes | CID) -> bytes:
    """The 32-byte sha2-256 digest the chain stores as bytes32."""
    c = parse_cid(cid)
    if c.hashfun.code != SHA2_256 or len(c.raw_digest) != 32:
        raise InvalidCid(f"{c} is not hashed with sha2-256", hint="only sha2-256 CIDs fit the contract's bytes32")
    if c.codec.code != DAG_PB:
        raise InvalidCid(
            f"{c} is a {c.codec.name} CID, not dag-pb",
            hint="the chain maps digests back to dag-pb CIDs; add the file with Kubo's defaults (movieminter ipfs add)",
        )
    return bytes(c.raw_digest)


def digest_to_cid(digest: bytes | str) -> str:
    """bytes32 (or 0x-hex) -> CIDv1 dag-pb sha2-256 base32 ("bafybei…")."""
    if isinstance(digest, str):
        digest = bytes.fromhex(digest.removeprefix("0x"))
    if len(digest) != 32:
        raise InvalidCid(f"a sha2-256 digest has 32 bytes, got {len(digest)}")
    return CID("base32", 1, DAG_PB, multihash.wrap(bytes(digest), SHA2_256)).encode("base32")


def to_cidv1(cid: str | bytes | CID) -> str:
    """Canonical text form used everywhere in Movie Minter (base32 CIDv1)."""
    c = parse_cid(cid)
    return c.set(version=1).encode("base32") if c.version == 0 else c.encode("base32")


def to_cidv0(cid: str | bytes | CID) -> str:
    c = parse_cid(cid)
    if c.codec.code != DAG_PB or c.hashfun.code != SHA2_256:
        raise InvalidCid(f"{to_cidv1(c)} has no CIDv0 form (only dag-pb sha2-256 does)")
    return c.set(base="base58btc", version=0).encode()


def multihash_key(cid: bytes | CID) -> bytes:
    """Multihash of a CID object or binary CID, without building a CID object
    (multiformats validates types on every construction: too slow per block)."""
    if isinstance(cid, (bytes, bytearray)):
        raw = bytes(cid)
        if raw[:1] == b"\x01" and raw[1:2] in (b"\x70", b"\x55"):  # v1 dag-pb / raw
            return raw[2:]
        if raw[:2] == b"\x12\x20" and len(raw) == 34:  # v0
            return raw
    return bytes(parse_cid(cid).digest)


def multihash_of(cid: str | bytes | CID) -> bytes:
    """The multihash bytes: what blocks are keyed by (codec-independent, like Kubo)."""
    return bytes(parse_cid(cid).digest)


def same_content(a: str | bytes | CID, b: str | bytes | CID) -> bool:
    """True when both CIDs name the same dag-pb/raw block (CIDv0 vs v1 ignored)."""
    ca, cb = parse_cid(a), parse_cid(b)
    return ca.codec.code == cb.codec.code and bytes(ca.digest) == bytes(cb.digest)
