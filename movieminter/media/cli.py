"""`movieminter media encode | check | stitch | hls`.

Segment files are always named with their index on the command line, as
`N=FILE` (or `N=CID` for hls): the index decides the place in the movie, and a
file name or its contents never silently decide it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from movieminter.errors import MovieMinterError

# Each action imports what it needs when it runs: `movieminter --help` stays fast (movieminter/cli.py).


def register(subparsers) -> None:
    p = subparsers.add_parser("media", help="encode segments, check them, stitch the movie, HLS playlists")
    sub = p.add_subparsers(dest="media_command", metavar="ACTION", required=True)

    e = sub.add_parser("encode", help="frames -> segment video (+ poster and animated preview beside it)")
    e.add_argument("frames", help="folder of the segment's PNG frames (sorted by name)")
    e.add_argument("--manifest", required=True)
    e.add_argument("--segment", type=int, required=True)
    e.add_argument("-o", "--output", required=True, help="the segment MP4 to write")
    e.add_argument("--soundtrack", help="local copy of the movie's soundtrack (required when it has one)")
    e.set_defaults(func=_encode)

    c = sub.add_parser("check", help="validate a segment file against the movie's profile (exit 0 ok, 2 not)")
    c.add_argument("file")
    c.add_argument("--manifest", required=True)
    c.add_argument("--segment", type=int, help="the segment it must be (frame count); default: any")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=_check)

    s = sub.add_parser("stitch", help="the full movie from segment files (placeholders for missing ones)")
    s.add_argument("segments", nargs="*", metavar="N=FILE", help="segment index = segment file")
    s.add_argument("--manifest", required=True)
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--minter", action="append", default=[], metavar="N=ADDRESS", help="minter of segment N (chapters)")
    s.add_argument("--soundtrack", help="local copy of the movie's soundtrack (required when it has one)")
    s.add_argument("--cache-dir", help="where placeholder segments are cached (default: <data dir>/cache/placeholders)")
    s.set_defaults(func=_stitch)

    h = sub.add_parser("hls", help="an HLS playlist over segment files on an IPFS gateway")
    h.add_argument(
        "segments",
        nargs="+",
        metavar="N=CID_OR_FILE",
        help="segment index = its CID, or a local segment file (its CID is computed)",
    )
    h.add_argument("--manifest", required=True)
    h.add_argument("--gateway", required=True, help="gateway base URL, e.g. https://ipfs.io")
    h.add_argument("-o", "--output", help="write the playlist here (default: stdout)")
    h.set_defaults(func=_hls)


def _manifest(path: str) -> dict:
    from movieminter.manifest import load_manifest

    return load_manifest(path)


def parse_pairs(items: list[str], what: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for item in items:
        index, sep, value = item.partition("=")
        if not sep or not index.strip().isdigit() or not value:
            raise MovieMinterError(
                f"{item!r} is not of the form N={what}",
                hint=f"name each one with its segment index, e.g. 3={what.lower()}",
            )
        if int(index) in out:
            raise MovieMinterError(f"segment {int(index)} is given twice", hint="give each segment once")
        out[int(index)] = value
    return out


def _encode(args) -> int:
    from movieminter.media.encode import encode_segment

    media = encode_segment(
        Path(args.frames), _manifest(args.manifest), args.segment, Path(args.output), soundtrack=args.soundtrack
    )
    print(f"video:   {media.video}  ({media.frame_count} frames, {media.duration:.3f} s)")
    print(f"poster:  {media.poster}")
    print(f"preview: {media.preview}")
    return 0


def _check(args) -> int:
    from movieminter.media.check import check_segment
    from movieminter.media.profile import MediaError

    try:
        report = check_segment(args.file, _manifest(args.manifest), args.segment)
    except MediaError as exc:
        if args.json:
            print(json.dumps({"valid": False, **exc.to_dict()}, indent=2, ensure_ascii=False))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"valid": True, **report}, indent=2, ensure_ascii=False))
    else:
        print(
            f"ok: {args.file} fits the movie's profile ({report['width']}x{report['height']}, "
            f"{report['frame_count']} frames, {report['duration']:.3f} s, {report['codecs']})"
        )
    return 0


def _stitch(args) -> int:
    from movieminter.config import Settings
    from movieminter.media.stitch import stitch_movie

    manifest = _manifest(args.manifest)
    segments = {i: Path(f) for i, f in parse_pairs(args.segments, "FILE").items()}
    minters = parse_pairs(args.minter, "ADDRESS")
    cache_dir = args.cache_dir or Settings.from_env().data_dir / "cache" / "placeholders"  # the edge reads settings
    out = stitch_movie(
        manifest, segments, Path(args.output), minters=minters, soundtrack=args.soundtrack, cache_dir=cache_dir
    )
    missing = len(manifest["segments"]) - len(segments)
    print(f"{out}  ({len(segments)} segments, {missing} placeholder(s))")
    return 0


def _hls(args) -> int:
    from movieminter.media.hls import SegmentLayout, build_playlist

    manifest = _manifest(args.manifest)
    gateway = args.gateway.rstrip("/")
    urls, layouts = {}, {}
    for i, value in parse_pairs(args.segments, "CID").items():
        path = Path(value)
        if path.is_file():
            from movieminter.ipfs.unixfs import import_file
            from movieminter.media.check import check_segment

            check_segment(path, manifest, i)
            layouts[i] = SegmentLayout.of_file(path)
            value = import_file(path)
        else:
            from movieminter.ipfs.cid import parse_cid

            parse_cid(value)  # neither a file nor a CID: say so before building anything
        urls[i] = f"{gateway}/ipfs/{value}"
    text = build_playlist(manifest, urls, layouts=layouts)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(args.output)
    else:
        sys.stdout.write(text)
    return 0
