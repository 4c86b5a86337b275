"""`movieminter doctor | models ensure | render | previews` — the render bridge's commands."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

from movieminter.config import Settings

# Each action imports what it needs when it runs: `movieminter --help` stays fast (movieminter/cli.py).


def _a1111_args(p, settings: Settings) -> None:
    p.add_argument(
        "--a1111-url",
        default=settings.a1111_url or None,
        help="A1111's address, e.g. http://127.0.0.1:7860 (env MOVIEMINTER_A1111_URL)",
    )
    p.add_argument(
        "--a1111-auth", default=None, metavar="USER:PASS", help="as in A1111's --api-auth (env MOVIEMINTER_A1111_AUTH)"
    )


def _segment_args(p, required: bool) -> None:
    p.add_argument("--manifest", required=required, help="the movie manifest (JSON)")
    p.add_argument("--segment", type=int, required=required, help="segment index")
    p.add_argument("--allow-pickle", action="store_true", help="accept pickle (.ckpt/.pt) models you trust")


def register(subparsers) -> None:
    settings = Settings.from_env()

    d = subparsers.add_parser("doctor", help="check that A1111 is ready to render a segment (exit 0 ready, 2 not)")
    _a1111_args(d, settings)
    _segment_args(d, required=False)
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=_doctor)

    m = subparsers.add_parser("models", help="get the models a segment needs")
    msub = m.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    e = msub.add_parser("ensure", help="download missing models from Civitai (sha256-verified) into A1111's models/")
    _segment_args(e, required=True)
    e.add_argument(
        "--models-dir",
        default=settings.a1111_models_dir or None,
        help="A1111's models/ folder; without it, print what to download instead",
    )
    e.add_argument("--civitai-token", default=None, help="Civitai API key (env MOVIEMINTER_CIVITAI_TOKEN)")
    e.add_argument("--civitai-url", default=settings.civitai_url)
    _a1111_args(e, settings)
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=_ensure)

    r = subparsers.add_parser("render", help="render one segment through A1111's Deforum API (resumable)")
    _segment_args(r, required=True)
    _a1111_args(r, settings)
    r.add_argument("--work-dir", required=True, help="where frames and the resume state are kept")
    r.set_defaults(func=_render)

    pv = subparsers.add_parser("previews", help="quick txt2img stills of a segment's keyframe prompts")
    _segment_args(pv, required=True)
    _a1111_args(pv, settings)
    pv.add_argument("--out-dir", required=True)
    pv.add_argument("--steps", type=int, default=4)
    pv.set_defaults(func=_previews)


def _client(args):
    from movieminter.errors import MovieMinterError
    from movieminter.render.a1111 import A1111Client

    if not args.a1111_url:
        raise MovieMinterError("no A1111 address", hint="pass --a1111-url http://127.0.0.1:7860")
    auth = args.a1111_auth or Settings.from_env().a1111_auth or None
    return A1111Client(args.a1111_url, auth=auth)


def _manifest(args):
    from movieminter.manifest import get_segment, load_manifest

    m = load_manifest(args.manifest, allow_pickle=args.allow_pickle)
    get_segment(m, args.segment)
    return m


def _doctor(args) -> int:
    from movieminter.errors import MovieMinterError
    from movieminter.render.doctor import format_checks, run_doctor

    if (args.manifest is None) != (args.segment is None):
        raise MovieMinterError("--manifest and --segment go together", hint="pass both, or neither")
    manifest = _manifest(args) if args.manifest else None
    checks = run_doctor(_client(args), manifest, args.segment, allow_pickle=args.allow_pickle)
    for c in checks:  # make the suggested command copy-pasteable
        if c.hint and manifest is not None:
            c.hint = c.hint.replace("--manifest M --segment N", f"--manifest {args.manifest} --segment {args.segment}")
    ok = all(c.ok for c in checks)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [c.__dict__ for c in checks]}, indent=2))
    else:
        print(format_checks(checks))
        print("ready to render" if ok else "not ready: fix the FAIL lines above")
    return 0 if ok else 2


def _ensure(args) -> int:
    from movieminter.render.acquire import ensure_models
    from movieminter.render.civitai import CivitaiClient

    manifest = _manifest(args)
    token = args.civitai_token or Settings.from_env().civitai_token or None
    a1111 = _client(args) if args.a1111_url else None
    models_dir = args.models_dir
    if not models_dir and a1111 is not None:
        from movieminter.render.acquire import local_models_dir

        models_dir = local_models_dir(a1111)  # A1111 on this machine: its own models/ folder
        if models_dir:
            print(f"A1111's models folder: {models_dir}")
    results = ensure_models(
        manifest,
        args.segment,
        civitai=CivitaiClient(args.civitai_url, token=token),
        a1111=a1111,
        models_dir=models_dir,
        allow_pickle=args.allow_pickle,
    )
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for r in results:
            print(f"[{r.action}] {r.kind} {r.name}: {r.message}")
            if r.hint and not r.ok:
                print(f"       how to fix: {r.hint}")
            if r.instructions:
                for k in ("url", "download", "version_id", "sha256", "folder", "file_name"):
                    print(f"       {k}: {r.instructions[k]}")
    return 0 if all(r.ok for r in results) else 2


def _render(args) -> int:
    from movieminter.render.job import render_segment

    manifest = _manifest(args)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    state_file = work / "render-state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}

    def save_state(s: dict) -> None:
        tmp = state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(s, indent=2))
        tmp.replace(state_file)

    def on_progress(p) -> None:
        eta = f", eta {p.eta_seconds:.0f}s" if p.eta_seconds is not None else ""
        print(f"\r{p.phase:<15} {p.frames_done}/{p.frames_total}{eta} {p.message}", end="", file=sys.stderr, flush=True)

    cancel = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: cancel.set())  # Ctrl-C cancels the Deforum job too
    result = render_segment(
        _client(args),
        manifest,
        args.segment,
        state=state,
        save_state=save_state,
        on_progress=on_progress,
        cancel=cancel,
        work_dir=work,
        allow_pickle=args.allow_pickle,
    )
    print(file=sys.stderr)
    print(f"{len(result.frames)} frames in {result.frames_dir}" + (" (reused)" if result.reused else ""))
    return 0


def _previews(args) -> int:
    from movieminter.render.previews import keyframe_previews

    paths = keyframe_previews(_client(args), _manifest(args), args.segment, args.out_dir, steps=args.steps)
    for p in paths:
        print(p)
    return 0
