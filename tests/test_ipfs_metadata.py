"""NFT metadata: built, validated against the shipped schema, and refused
with a clear list of problems."""

from __future__ import annotations

import copy
import json

import pytest

from movieminter.ipfs import unixfs
from movieminter.ipfs.metadata import SCHEMA_PATH, MetadataError, build_metadata, metadata_bytes, validate_metadata

VIDEO = unixfs.import_bytes(b"video")
POSTER = unixfs.import_bytes(b"poster")


def _meta(**over):
    kw = dict(
        movie_title="The Lighthouse",
        segment_index=2,
        video_cid=VIDEO,
        poster_cid=POSTER,
        frames=120,
        duration=5.0,
        checkpoint="dreamshaper_8.safetensors",
        manifest_cid=unixfs.import_bytes(b"manifest"),
        segment_settings_digest="ab" * 32,
        models={"dreamshaper_8": "CD" * 32, "film_grain": "ef" * 32},
        seed=1234,
        a1111_version="v1.10.1",
        deforum_version="5b8a0ce",
        render_seconds=91.25,
        minter="0x" + "aB" * 20,
        movie_id=1,
    )
    kw.update(over)
    return build_metadata(**kw)


def test_valid_metadata():
    meta = _meta()
    assert meta["image"] == f"ipfs://{POSTER}" and meta["animation_url"] == f"ipfs://{VIDEO}"
    traits = {a["trait_type"]: a["value"] for a in meta["attributes"]}
    assert traits == {
        "Movie": "The Lighthouse",
        "Segment": 2,
        "Frames": 120,
        "Duration": 5.0,
        "Checkpoint": "dreamshaper_8.safetensors",
    }
    prov = meta["properties"]["provenance"]
    assert prov["models"][0] == {"name": "dreamshaper_8", "sha256": "cd" * 32}
    assert prov["seed"] == 1234 and prov["minter"] == "0x" + "aB" * 20
    validate_metadata(json.loads(metadata_bytes(meta)))
    assert metadata_bytes(meta) == metadata_bytes(copy.deepcopy(meta))
    assert json.loads(SCHEMA_PATH.read_text())["$schema"].endswith("2020-12/schema")


def test_cidv0_inputs_become_cidv1_uris():
    from movieminter.ipfs.cid import to_cidv0

    assert _meta(video_cid=to_cidv0(VIDEO))["animation_url"] == f"ipfs://{VIDEO}"


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda m: m.pop("image"), "'image' is a required property"),
        (lambda m: m.update(animation_url="https://example.com/v.mp4"), "/animation_url"),
        (lambda m: m.update(image="ipfs://bafybeinotacid"), "/image"),
        (lambda m: m["attributes"].pop(2), "'Frames'"),
        (lambda m: m["attributes"][1].update(value=-1), "'Segment'"),
        (lambda m: m["properties"]["provenance"].update(minter="0x123"), "/properties/provenance/minter"),
        (lambda m: m["properties"]["provenance"].update(segment_settings_digest="xyz"), "segment_settings_digest"),
        (lambda m: m["properties"]["provenance"].pop("seed"), "'seed' is a required property"),
        (lambda m: m["properties"]["provenance"]["models"].clear(), "/properties/provenance/models"),
        (lambda m: m["properties"]["provenance"].update(surprise=1), "Additional properties"),
    ],
)
def test_invalid_metadata(mutate, expected):
    meta = _meta()
    mutate(meta)
    with pytest.raises(MetadataError) as err:
        validate_metadata(meta)
    assert expected in str(err.value)
    assert err.value.problems and err.value.hint


def test_build_refuses_bad_inputs():
    with pytest.raises(MetadataError, match="not a valid CID"):
        _meta(video_cid="hello")
    with pytest.raises(MetadataError, match="minter"):
        _meta(minter="alice")
    with pytest.raises(MetadataError, match="Frames"):
        _meta(frames=0)
