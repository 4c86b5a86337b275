"""`movieminter manifest validate | import-deforum | export-deforum`."""

from __future__ import annotations

import json
import sys

# Each action imports what it needs when it runs: `movieminter --help` stays fast (movieminter/cli.py).


def register(subparsers) -> None:
    p = subparsers.add_parser("manifest", help="validate a movie manifest; import/export Deforum settings")
    sub = p.add_subparsers(dest="manifest_command", metavar="ACTION", required=True)

    v = sub.add_parser("validate", help="check a manifest; exit 0 if valid, 2 listing every problem")
    v.add_argument("file")
    v.add_argument("--allow-pickle", action="store_true", help="accept pickle (.ckpt/.pt) models you trust")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.set_defaults(func=_validate)

    i = sub.add_parser("import-deforum", help="turn a Deforum settings .txt into a manifest segment (JSON on stdout)")
    i.add_argument("settings")
    i.add_argument("--index", type=int, default=0)
    i.add_argument("--start-frame", type=int, default=0)
    i.add_argument("--title")
    i.add_argument("--seed", type=int, help="seed to use when the settings have seed -1 (random)")
    i.add_argument("--manifest", help="keep only what differs from this movie's defaults")
    i.set_defaults(func=_import)

    e = sub.add_parser("export-deforum", help="the complete Deforum API request for one segment (JSON on stdout)")
    e.add_argument("manifest")
    e.add_argument("segment", type=int)
    e.add_argument("--allow-pickle", action="store_true")
    e.set_defaults(func=_export)


def _validate(args) -> int:
    from movieminter.manifest import ManifestError, load_manifest, manifest_digest

    try:
        m = load_manifest(args.file, allow_pickle=args.allow_pickle)
    except ManifestError as exc:
        if args.json:
            print(
                json.dumps(
                    {"valid": False, "problems": [p.to_dict() for p in exc.problems]}, indent=2, ensure_ascii=False
                )
            )
        else:
            print(f"{args.file}: {exc.message}", file=sys.stderr)
            for p in exc.problems:
                print(f"  {p.pointer or '/'}: {p.message}\n      how to fix: {p.hint}", file=sys.stderr)
        return 2
    frames = sum(s["frame_count"] for s in m["segments"])
    duration = frames / m["movie"]["fps"]
    summary = {
        "valid": True,
        "title": m["movie"]["title"],
        "segments": len(m["segments"]),
        "frames": frames,
        "duration_seconds": round(duration, 3),
        "digest": manifest_digest(m).hex(),
    }
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(
            f'valid: "{summary["title"]}" — {summary["segments"]} segments, {frames} frames, '
            f"{duration:.1f} s at {m['movie']['fps']} fps, {m['movie']['width']}x{m['movie']['height']}"
        )
        print(f"manifest digest (sha256 of canonical JSON): {summary['digest']}")
    return 0


def _import(args) -> int:
    from movieminter.manifest import load_manifest
    from movieminter.manifest.deforum import import_deforum_report

    manifest = load_manifest(args.manifest) if args.manifest else None
    segment, notes = import_deforum_report(
        args.settings,
        manifest=manifest,
        index=args.index,
        start_frame=args.start_frame,
        title=args.title,
        seed=args.seed,
    )
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(json.dumps(segment, indent=2, ensure_ascii=False))
    return 0


def _export(args) -> int:
    from movieminter.manifest import export_deforum, get_segment, load_manifest

    m = load_manifest(args.manifest, allow_pickle=args.allow_pickle)
    get_segment(m, args.segment)
    print(json.dumps(export_deforum(m, args.segment), indent=2, ensure_ascii=False))
    return 0
