"""The app's user-fixable errors, each with the HTTP status the API answers it with.

One convention: a MovieMinterError subclass names its `status`; server.py's one
handler renders every such error as {"detail": {"error", "message", "hint"}}.
Domain modules raise these and know nothing of HTTP otherwise."""

from __future__ import annotations

from movieminter.errors import MovieMinterError


class NotFound(MovieMinterError):
    status = 404


class MovieError(MovieMinterError):
    """The request names a movie or segment in a way that cannot work."""

    status = 400


class MovieNotFound(MovieError):
    status = 404


class ManifestUnavailable(MovieError):
    """The manifest's store does not answer (a gateway error, not the request's)."""

    status = 502


class NoChain(MovieMinterError):
    """No (usable) chain is configured: the service is unavailable until the settings say which."""

    status = 503


class NotSignedIn(MovieMinterError):
    status = 401


class NoTicket(MovieMinterError):
    status = 402


class NoAddress(MovieMinterError):
    status = 400


class AuthError(MovieMinterError):
    """Sign-in failed: the request's fault."""

    status = 400


class SignInRejected(AuthError):
    """The signature, nonce or expiry does not hold."""

    status = 401


class ForeignDomain(AuthError):
    """The message names an address this app is not served under."""

    status = 403
