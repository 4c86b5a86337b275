"""`movieminter doctor`: is this A1111 ready to render a segment? Every check
either passes or says exactly what to do."""

from __future__ import annotations

import dataclasses

from movieminter.render.a1111 import A1111Client
from movieminter.render.errors import RenderError
from movieminter.render.readiness import check_models


@dataclasses.dataclass
class Check:
    name: str
    ok: bool
    message: str
    hint: str | None = None
    warning: bool = False  # passes, but worth knowing


def run_doctor(client: A1111Client, manifest: dict | None = None, index: int | None = None, *,
               allow_pickle: bool = False) -> list[Check]:
    checks: list[Check] = []

    def fail(name: str, exc: RenderError) -> list[Check]:
        checks.append(Check(name, False, exc.message, exc.hint))
        return checks

    try:  # reachable at all? (/internal/ping has no --api-auth)
        client.request("GET", "/internal/ping")
        checks.append(Check("reachable", True, f"A1111 answers at {client.base_url}"))
    except RenderError as exc:
        return fail("reachable", exc)
    try:
        opts = client.options()
        checks.append(Check("api", True, "API on (/sdapi/v1), current checkpoint: "
                                         f"{opts.get('sd_model_checkpoint') or 'none'}"))
    except RenderError as exc:
        return fail("api", exc)
    try:
        running = client.request("GET", "/deforum_api/jobs")
        jobs = running.json() if running.status_code == 200 else {}
        busy = [j for j, s in jobs.items() if isinstance(s, dict) and s.get("status") == "ACCEPTED"]
        checks.append(Check("deforum_api", True, "Deforum API on (/deforum_api)" +
                            (f"; busy with {', '.join(busy)}" if busy else ""), warning=bool(busy)))
    except RenderError as exc:
        fail("deforum_api", exc)
    v = client.versions()
    if v.get("a1111") or v.get("deforum"):
        checks.append(Check("versions", True, f"A1111 {v.get('a1111') or 'unknown version'}"
                                              f"{' (' + v['a1111_commit'][:8] + ')' if v.get('a1111_commit') else ''}"
                                              f", Deforum {v.get('deforum') or 'unknown'}"))
    else:
        checks.append(Check("versions", True, "A1111 did not report its version (/internal/sysinfo unavailable)",
                            warning=True))
    if manifest is not None and index is not None:
        for st in check_models(client, manifest, index, allow_pickle=allow_pickle):
            warn = st.ok and not st.verified
            checks.append(Check(f"{st.kind}:{st.name}", st.ok, st.message, st.hint, warning=warn))
    return checks


def format_checks(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        mark = "ok  " if c.ok and not c.warning else ("warn" if c.ok else "FAIL")
        lines.append(f"[{mark}] {c.name}: {c.message}")
        if c.hint and not c.ok:
            lines.append(f"       how to fix: {c.hint}")
    return "\n".join(lines)
