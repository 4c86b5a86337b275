"""One error type the whole app raises for problems a user can act on.

Every such error carries what went wrong and how to fix it; the CLI prints
both and exits 2, the REST API returns them as JSON, the UI shows them.
"""

from __future__ import annotations


class MovieMinterError(Exception):
    """A problem the user can fix. `hint` says how."""

    exit_code = 2
    # The HTTP status the API answers the error with, named in the class line: `class E(MovieMinterError,
    # status=409)`. The server's one handler answers 400 for an error whose class names none.
    status: int

    def __init_subclass__(cls, status: int | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status

    def __init__(self, message: str, hint: str | None = None, **details: object):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"error": type(self).__name__, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        if self.details:
            out["details"] = self.details
        return out

    def __str__(self) -> str:
        return self.message + (f"\n  how to fix: {self.hint}" if self.hint else "")
