"""`movieminter doctor`: is this A1111 ready to render a segment? Every check
either passes or says exactly what to do, and "ready" is never said of a render
that will fail: what real Deforum needs (its API, the ControlNet extension, the
depth model for 3D) is checked along with the models, sampler and scheduler."""

from __future__ import annotations

import dataclasses
import os
import posixpath

from movieminter.render.a1111 import A1111Client
from movieminter.render.deforum import DeforumClient
from movieminter.render.errors import A1111HttpError, ApiDisabled, RenderError
from movieminter.render.readiness import check_models
from movieminter.render.submission import DeforumJobPlan, plan_job

CONTROLNET_URL = "https://github.com/Mikubill/sd-webui-controlnet"
# The files each depth_algorithm loads from <models>/Deforum (Deforum's depth_*.py);
# ZoeDepth comes through torch.hub instead and cannot be checked from here.
DEPTH_MODELS = {
    "midas-3-hybrid": [
        (
            "dpt_large-midas-2f21e586.pt",
            "https://github.com/intel-isl/DPT/releases/download/1_0/dpt_large-midas-2f21e586.pt",
        )
    ],
    "midas-3.1-beitlarge": [
        ("dpt_beit_large_512.pt", "https://github.com/isl-org/MiDaS/releases/download/v3_1/dpt_beit_large_512.pt")
    ],
    "adabins": [
        (
            "AdaBins_nyu.pt",
            "https://github.com/hithereai/deforum-for-automatic1111-webui/releases/download/AdaBins/AdaBins_nyu.pt",
        )
    ],
    "leres": [("res101.pth", "https://cloudstor.aarnet.edu.au/plus/s/lTIJF4vrvHCAI31/download")],
}
DEPTH_MODELS["midas+adabins (old)"] = DEPTH_MODELS["midas-3-hybrid"] + DEPTH_MODELS["adabins"]


@dataclasses.dataclass
class Check:
    name: str
    ok: bool
    message: str
    hint: str | None = None
    warning: bool = False  # passes, but worth knowing


def run_doctor(
    client: A1111Client, manifest: dict | None = None, index: int | None = None, *, allow_pickle: bool = False
) -> list[Check]:
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
        checks.append(
            Check("api", True, f"API on (/sdapi/v1), current checkpoint: {opts.get('sd_model_checkpoint') or 'none'}")
        )
    except RenderError as exc:
        return fail("api", exc)
    try:
        busy = DeforumClient(client).active_jobs()
        checks.append(
            Check(
                "deforum_api",
                True,
                "Deforum API on (/deforum_api)" + (f"; busy with {', '.join(busy)}" if busy else ""),
                warning=bool(busy),
            )
        )
    except RenderError as exc:
        fail("deforum_api", exc)
    checks.append(_controlnet(client))
    v = client.versions()
    if v.get("a1111") or v.get("deforum"):
        checks.append(
            Check(
                "versions",
                True,
                f"A1111 {v.get('a1111') or 'unknown version'}"
                f"{' (' + v['a1111_commit'][:8] + ')' if v.get('a1111_commit') else ''}"
                f", Deforum {v.get('deforum') or 'unknown'}",
            )
        )
    else:
        checks.append(
            Check("versions", True, "A1111 did not report its version (/internal/sysinfo unavailable)", warning=True)
        )
    if manifest is not None and index is not None:
        plan = plan_job(manifest, index)
        checks += [c for c in segment_requirements(client, plan)]
        for st in check_models(client, manifest, index, allow_pickle=allow_pickle):
            warn = st.ok and not st.verified
            checks.append(Check(f"{st.kind}:{st.name}", st.ok, st.message, st.hint, warning=warn))
    return checks


def deforum_requirements(client: A1111Client, plan: DeforumJobPlan) -> list[Check]:
    """What this Deforum needs to render this segment at all (used to explain a failed job)."""
    return [_controlnet(client), *segment_requirements(client, plan)]


def segment_requirements(client: A1111Client, plan: DeforumJobPlan) -> list[Check]:
    return [*_sampler_and_scheduler(client, plan), *_depth_model(client, plan)]


def _controlnet(client: A1111Client) -> Check:
    """Deforum 32242685 fails every job without ControlNet (cn_* arguments missing;
    Deforum issues 811 and 979). ControlNet's API answers even when its UI script fails."""
    try:
        resp = client.request("GET", "/controlnet/version")
        present = resp.status_code == 200
    except RenderError:
        present = False
    if not present:
        exts = client.installed_extensions() or {}
        present = any("controlnet" in name.lower() for name in exts)
    if present:
        return Check("controlnet", True, "ControlNet extension installed (Deforum needs it)")
    return Check(
        "controlnet",
        False,
        "the ControlNet extension is missing, and Deforum fails every render without it "
        "(\"Generation error.\": no attribute 'cn_1_weight')",
        hint=f"install it from A1111's Extensions tab (or git clone {CONTROLNET_URL} into "
        "extensions/sd-webui-controlnet), then restart A1111",
    )


def _sampler_and_scheduler(client: A1111Client, plan: DeforumJobPlan) -> list[Check]:
    """A1111 silently falls back to its first sampler for a name it does not know."""
    out: list[Check] = []
    try:
        samplers = client.samplers()
    except RenderError:
        return out
    names = {s.get("name", "").lower() for s in samplers} | {
        a.lower() for s in samplers for a in (s.get("aliases") or [])
    }
    if plan.sampler.lower() in names:
        out.append(Check("sampler", True, f"sampler {plan.sampler} is available"))
    else:
        out.append(
            Check(
                "sampler",
                False,
                f"A1111 has no sampler {plan.sampler!r}; it would render with another one without saying so",
                hint="update A1111 (the manifest names a sampler of a newer version), or ask the "
                f"director for one of: {', '.join(sorted(s['name'] for s in samplers))}",
            )
        )
    if plan.scheduler and plan.scheduler.lower() != "automatic":
        try:
            schedulers = client.schedulers()
        except RenderError:
            schedulers = []
        if schedulers is None:
            out.append(
                Check(
                    "scheduler",
                    False,
                    f"this A1111 has no schedulers (before 1.9); the manifest asks for {plan.scheduler}",
                    hint="update A1111 to 1.9 or newer",
                )
            )
        elif schedulers:
            labels = {s.get("label", "").lower() for s in schedulers} | {s.get("name", "").lower() for s in schedulers}
            ok = plan.scheduler.lower() in labels
            out.append(
                Check(
                    "scheduler",
                    ok,
                    f"scheduler {plan.scheduler} "
                    + (
                        f'is available (sent as sampler "{plan.settings["sampler"]}", which this Deforum passes on)'
                        if ok
                        else "is not in this A1111"
                    ),
                    hint=None
                    if ok
                    else f"ask the director for one of: {', '.join(s.get('label', '') for s in schedulers)}",
                )
            )
    return out


def _depth_model(client: A1111Client, plan: DeforumJobPlan) -> list[Check]:
    s = plan.settings
    if s.get("animation_mode") != "3D" or not s.get("use_depth_warping", True):
        return []
    algorithm = str(s.get("depth_algorithm") or "Midas-3-Hybrid")
    files = DEPTH_MODELS.get(algorithm.lower())
    if files is None:
        return [
            Check(
                "depth_model",
                True,
                f"3D with depth {algorithm}: Deforum fetches it through torch.hub "
                "on the first 3D render (needs internet once); not checked",
                warning=True,
            )
        ]
    folder = _deforum_models_dir(client)
    if folder is None:
        return [
            Check(
                "depth_model",
                True,
                "3D segment: A1111 did not say where its models are, so the depth model was not checked",
                warning=True,
            )
        ]
    missing = [(name, url) for name, url in files if _exists(client, posixpath.join(folder, name)) is False]
    unknown = [name for name, _ in files if _exists(client, posixpath.join(folder, name)) is None]
    if missing:
        name, url = missing[0]
        return [
            Check(
                "depth_model",
                False,
                f"3D segments need Deforum's depth model {name} in {folder}; Deforum downloads it on the "
                "first 3D render, which fails offline, and then every 3D render fails until A1111 restarts",
                hint=f"download {url} into {folder} (or run one 3D render in Deforum's tab while online), "
                "then restart A1111",
            )
        ]
    if unknown:
        return [
            Check(
                "depth_model",
                True,
                f"3D segment: could not look for {', '.join(unknown)} in {folder} (A1111 does not serve that folder)",
                warning=True,
            )
        ]
    return [Check("depth_model", True, f"depth model for 3D ({algorithm}) is in {folder}")]


def _deforum_models_dir(client: A1111Client) -> str | None:
    try:
        flags = client.cmd_flags()
    except (RenderError, A1111HttpError, ApiDisabled):
        return None
    models = flags.get("models_dir") or (posixpath.join(flags["data_dir"], "models") if flags.get("data_dir") else None)
    return posixpath.join(models, "Deforum") if models else None


def _exists(client: A1111Client, path: str) -> bool | None:
    """True/False when it can be told (a local path, or gradio's /file= route), else None."""
    if client.is_local(os.path.dirname(path)) or os.path.exists(path):
        return os.path.isfile(path)
    try:
        resp = client.request("HEAD", client.file_url(path), timeout=30)
    except RenderError:
        return None
    if resp.status_code == 200:
        return True
    if resp.status_code == 404:
        return False
    return None


def format_checks(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        mark = "ok  " if c.ok and not c.warning else ("warn" if c.ok else "FAIL")
        lines.append(f"[{mark}] {c.name}: {c.message}")
        if c.hint and not c.ok:
            lines.append(f"       how to fix: {c.hint}")
    return "\n".join(lines)
