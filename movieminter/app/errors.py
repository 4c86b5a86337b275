"""The app's user-fixable errors, each with the HTTP status the API answers it with.

One convention: a MovieMinterError subclass names its `status` in its class line
(`class E(MovieMinterError, status=409)`); server.py's one
handler renders every such error as {"detail": {"error", "message", "hint"}}.
Domain modules raise these and know nothing of HTTP otherwise."""

from __future__ import annotations

from movieminter.errors import MovieMinterError


class NotFound(MovieMinterError, status=404): ...


class MovieError(MovieMinterError, status=400):
    """The request names a movie or segment in a way that cannot work."""


class MovieNotFound(MovieError, status=404): ...


class ManifestUnavailable(MovieError, status=502):
    """The manifest's store does not answer (a gateway error, not the request's)."""


class NoChain(MovieMinterError, status=503):
    """No (usable) chain is configured: the service is unavailable until the settings say which."""


class NotSignedIn(MovieMinterError, status=401): ...


class NoTicket(MovieMinterError, status=402): ...


class NoAddress(MovieMinterError, status=400): ...


class AuthError(MovieMinterError, status=400):
    """Sign-in failed: the request's fault."""


class SignInRejected(AuthError, status=401):
    """The signature, nonce or expiry does not hold."""


class ForeignDomain(AuthError, status=403):
    """The message names an address this app is not served under."""
