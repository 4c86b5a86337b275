"""Problems found in a manifest, and the error that carries all of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from movieminter.errors import MovieMinterError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a manifest: where (RFC 6901 JSON pointer), what, and how to fix it."""

    pointer: str
    message: str
    hint: str

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}\n    how to fix: {self.hint}"


class ManifestError(MovieMinterError):
    """The manifest is not valid. `.problems` lists every problem found (not just the first)."""

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        n = len(self.problems)
        where = f" in {source}" if source else ""
        super().__init__(
            f"{n} problem{'s' if n != 1 else ''}{where}",
            hint="fix each problem listed (JSON pointer: what is wrong / how to fix)",
            problems=[p.to_dict() for p in self.problems],
        )

    def __str__(self) -> str:
        return self.message + ":\n" + "\n".join(f"  {p}" for p in self.problems)


def pointer(*parts) -> str:
    """JSON pointer from path parts, escaping `~` and `/` as RFC 6901 says."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer_sort_key(ptr: str):
    out = []
    for part in ptr.split("/")[1:]:
        out.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    return out
