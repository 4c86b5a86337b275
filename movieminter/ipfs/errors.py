"""Errors of the IPFS subsystem. All are MovieMinterError, so the CLI, API and
UI show message + hint. Messages never contain tokens (callers pass only URLs
stripped of credentials)."""

from __future__ import annotations

from movieminter.errors import MovieMinterError


class IpfsError(MovieMinterError):
    """Base of every IPFS problem."""


class InvalidCid(IpfsError):
    pass


class MalformedBlock(IpfsError):
    """A block that does not decode as the dag-pb/UnixFS it claims to be."""


class TamperedContent(IpfsError):
    """Bytes whose hash does not match their CID, or a DAG that lies about its shape."""


class BlockNotFound(IpfsError):
    pass


class CidMismatch(IpfsError):
    """A store answered with a CID other than the one computed locally."""


class StoreUnavailable(IpfsError):
    """The store could not be reached, timed out or failed."""


class StoreAuthError(IpfsError):
    pass


class InsufficientFunds(IpfsError):
    pass
