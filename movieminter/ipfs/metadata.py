"""NFT metadata of a minted segment: ERC-721 metadata JSON with OpenSea's
conventions (image, animation_url, attributes with trait_type/value) and the
render's provenance under properties.provenance. Validated against the
JSON Schema shipped beside this module (nft-metadata-v1.schema.json), plus a
check that every ipfs:// URI carries a CID that really decodes."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path

import jsonschema

from movieminter.errors import MovieMinterError
from movieminter.ipfs.cid import parse_cid, to_cidv1
from movieminter.ipfs.errors import InvalidCid

SCHEMA_PATH = Path(__file__).with_name("nft-metadata-v1.schema.json")


class MetadataError(MovieMinterError):
    def __init__(self, problems: list[str]):
        super().__init__(
            "NFT metadata is invalid:\n  - " + "\n  - ".join(problems),
            hint="fix the listed fields (schema: movieminter/ipfs/nft-metadata-v1.schema.json)",
        )
        self.problems = problems


@functools.lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def _uri(cid: str) -> str:
    return "ipfs://" + to_cidv1(cid)


def build_metadata(
    *,
    movie_title: str,
    segment_index: int,
    video_cid: str,
    poster_cid: str,
    frames: int,
    duration: float,
    checkpoint: str,
    manifest_cid: str,
    segment_settings_digest: str,
    models: Mapping[str, str] | list[dict],
    seed: int,
    a1111_version: str,
    deforum_version: str,
    render_seconds: float,
    minter: str,
    movie_id: int | None = None,
    name: str | None = None,
    description: str | None = None,
    external_url: str | None = None,
    rendered_at: str | None = None,
) -> dict:
    """Metadata for one segment; `models` maps model name -> sha256 (or is a
    list of {"name", "sha256", "kind"}). Validated before it is returned."""
    if isinstance(models, Mapping):
        models = [{"name": n, "sha256": h} for n, h in models.items()]
    try:
        video, poster, manifest = _uri(video_cid), _uri(poster_cid), to_cidv1(manifest_cid)
    except InvalidCid as exc:
        raise MetadataError([exc.message]) from None
    provenance = {
        "manifest_cid": manifest,
        "segment_index": segment_index,
        "segment_settings_digest": segment_settings_digest.lower().removeprefix("0x"),
        "models": [dict(m, sha256=str(m.get("sha256", "")).lower()) for m in models],
        "seed": seed,
        "a1111_version": a1111_version,
        "deforum_version": deforum_version,
        "render_seconds": round(float(render_seconds), 3),
        "minter": minter,
        "video_cid": video.removeprefix("ipfs://"),
        "poster_cid": poster.removeprefix("ipfs://"),
    }
    if movie_id is not None:
        provenance["movie_id"] = movie_id
    if rendered_at:
        provenance["rendered_at"] = rendered_at
    meta = {
        "name": name or f"{movie_title} — segment {segment_index}",
        "description": description
        or (
            f"Segment {segment_index} of “{movie_title}”, rendered by {minter} "
            f"with {checkpoint} ({frames} frames, {duration:g} s)."
        ),
        "image": poster,
        "animation_url": video,
        "attributes": [
            {"trait_type": "Movie", "value": movie_title},
            {"trait_type": "Segment", "value": segment_index, "display_type": "number"},
            {"trait_type": "Frames", "value": frames, "display_type": "number"},
            {"trait_type": "Duration", "value": duration, "display_type": "number"},
            {"trait_type": "Checkpoint", "value": checkpoint},
        ],
        "properties": {"provenance": provenance},
    }
    if external_url:
        meta["external_url"] = external_url
    validate_metadata(meta)
    return meta


def metadata_problems(meta: dict) -> list[str]:
    """Every problem, each as 'JSON pointer: reason'."""
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    problems = []
    for err in sorted(validator.iter_errors(meta), key=lambda e: list(e.absolute_path)):
        pointer = "/" + "/".join(str(p) for p in err.absolute_path)
        problems.append(f"{pointer}: {_reason(err)}")
    for key in ("image", "animation_url"):
        value = meta.get(key) if isinstance(meta, dict) else None
        if isinstance(value, str) and value.startswith("ipfs://"):
            try:
                parse_cid(value[len("ipfs://") :].split("/", 1)[0])
            except InvalidCid:
                problems.append(f"/{key}: {value!r} does not contain a valid CID")
    return problems


def _reason(err: jsonschema.ValidationError) -> str:
    if err.validator == "contains":
        wanted = err.schema.get("contains", {}).get("properties", {}).get("trait_type", {}).get("const")
        return f"needs a valid {wanted!r} attribute" if wanted else err.message
    if err.validator == "pattern":
        return f"{err.instance!r} has the wrong format"
    return err.message


def validate_metadata(meta: dict) -> None:
    """Raise MetadataError listing every problem; return None when valid."""
    problems = metadata_problems(meta)
    if problems:
        raise MetadataError(problems)


def metadata_bytes(meta: dict) -> bytes:
    """Stable JSON bytes to pin (sorted keys, UTF-8), so the same metadata
    always has the same CID."""
    return json.dumps(meta, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
