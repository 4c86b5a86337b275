"""Are the models a segment needs in A1111, byte for byte?

A checkpoint is matched by its sha256 against `/sdapi/v1/sd-models`. When
A1111 has not hashed a file yet (it hashes on load) the short AutoV2 hash is
used if reported, or, when the file is on this machine, we hash it ourselves.
LoRAs are matched by name (the name prompts use in `<lora:NAME:W>`) and their
file is hashed when it is readable here; A1111 does not report LoRA hashes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path

from movieminter.manifest import get_segment
from movieminter.render.a1111 import A1111Client

LORA_TAG = re.compile(r"<lora:([^:>]+)(?::[^>]*)?>")
_hash_cache: dict[tuple[str, int, int], str] = {}


@dataclasses.dataclass
class ModelStatus:
    name: str
    kind: str  # checkpoint | lora
    state: str  # ready | missing | unhashed | refused | mismatch
    message: str
    hint: str | None = None
    title: str | None = None  # A1111's title (checkpoints) or LoRA name to use
    sha256: str = ""
    verified: bool = False  # True when the full sha256 was compared

    @property
    def ok(self) -> bool:
        return self.state == "ready"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def file_sha256(path: str | Path) -> str:
    """sha256 of a local file, cached by (path, size, mtime): models are big."""
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _hash_cache:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _hash_cache[key] = h.hexdigest()
    return _hash_cache[key]


def segment_loras(manifest: dict, index: int) -> list[dict]:
    """The manifest's LoRA entries this segment's prompts use, in order of first use."""
    seg = get_segment(manifest, index)
    texts = list((seg.get("prompts") or {}).values())
    texts.append((manifest.get("defaults") or {}).get("positive_prompt", ""))
    texts.append(seg.get("positive_prompt", "") or "")
    by_name = {lora["name"]: lora for lora in (manifest.get("models") or {}).get("loras", [])}
    out, seen = [], set()
    for text in texts:
        for name in LORA_TAG.findall(text or ""):
            if name not in seen:
                seen.add(name)
                out.append(by_name.get(name, {"name": name, "sha256": "", "format": "safetensors", "_unpinned": True}))
    return out


def _readable(path: str | None) -> bool:
    return path is not None and bool(path) and os.path.isabs(path) and os.path.isfile(path) and os.access(path, os.R_OK)


def check_checkpoint(
    client: A1111Client, entry: dict, *, allow_pickle: bool = False, models: list[dict] | None = None
) -> ModelStatus:
    name, want = entry["name"], entry["sha256"].lower()
    if entry.get("format") == "pickletensor" and not allow_pickle:
        return ModelStatus(
            name,
            "checkpoint",
            "refused",
            f"checkpoint {name} is a pickle file (.ckpt), which can run code when loaded",
            hint="ask the director for a .safetensors version, or pass --allow-pickle if you trust it",
            sha256=want,
        )
    models = client.sd_models() if models is None else models
    for m in models:
        if (m.get("sha256") or "").lower() == want:
            return _accept(m, name, want, "matched by sha256", allow_pickle, verified=True)
    for m in models:
        short = (m.get("hash") or "").lower()
        if short and not m.get("sha256") and want.startswith(short) and len(short) >= 8:
            return _accept(
                m, name, want, "A1111 has not hashed it yet — matched by short hash", allow_pickle, verified=False
            )
    unhashed = [m for m in models if not m.get("sha256") and not m.get("hash")]
    for m in unhashed:  # A1111 has not hashed it: hash it here if we can read it
        if _readable(m.get("filename")) and file_sha256(m["filename"]) == want:
            return _accept(
                m,
                name,
                want,
                "A1111 has not hashed it yet — matched by hashing the file here",
                allow_pickle,
                verified=True,
            )
    same_name = [m for m in models if m.get("model_name") == name or Path(m.get("filename") or "").stem == name]
    for m in same_name:
        if m.get("sha256"):
            return ModelStatus(
                name,
                "checkpoint",
                "mismatch",
                f"A1111's {m['title']} has sha256 {m['sha256'][:12]}…, the manifest pins {want[:12]}…",
                hint="it is a different file with the same name: download the pinned one with "
                "`movieminter models ensure`",
                sha256=want,
            )
        return ModelStatus(
            name,
            "checkpoint",
            "unhashed",
            f"A1111 lists {m['title']} but has not hashed it, so it cannot be verified",
            hint="select it once in A1111's checkpoint dropdown (A1111 hashes on load), or run "
            "movieminter beside A1111 so the file can be hashed here",
            title=m["title"],
            sha256=want,
        )
    return ModelStatus(
        name,
        "checkpoint",
        "missing",
        f"checkpoint {name} (sha256 {want[:12]}…) is not in A1111",
        hint=_ensure_hint(entry),
        sha256=want,
    )


def _accept(m: dict, name: str, want: str, how: str, allow_pickle: bool, verified: bool) -> ModelStatus:
    if (m.get("filename") or "").lower().endswith((".ckpt", ".pt", ".bin")) and not allow_pickle:
        return ModelStatus(
            name,
            "checkpoint",
            "refused",
            f"A1111's {m['title']} is a pickle file",
            hint="use the .safetensors version, or pass --allow-pickle if you trust it",
            sha256=want,
        )
    return ModelStatus(
        name, "checkpoint", "ready", f"{m['title']}: {how}", title=m["title"], sha256=want, verified=verified
    )


def check_lora(
    client: A1111Client, entry: dict, *, allow_pickle: bool = False, loras: list[dict] | None = None
) -> ModelStatus:
    name = entry["name"]
    want = (entry.get("sha256") or "").lower()
    if entry.get("_unpinned"):
        return ModelStatus(
            name,
            "lora",
            "missing",
            f"a prompt uses <lora:{name}> but the manifest does not pin it",
            hint="add it to models.loras in the manifest with its sha256",
        )
    if entry.get("format") == "pickletensor" and not allow_pickle:
        return ModelStatus(
            name,
            "lora",
            "refused",
            f"LoRA {name} is a pickle file (.pt), which can run code",
            hint="ask the director for a .safetensors version, or pass --allow-pickle",
            sha256=want,
        )
    loras = client.loras() if loras is None else loras
    for lora in loras:
        if name not in (lora.get("name"), lora.get("alias")):
            continue
        # Only the file's own sha256 can be compared with the manifest's (Civitai's SHA256).
        # Metadata hashes are of something else: ModelSpec's modelspec.hash_sha256 and
        # kohya's sshs_model_hash cover the tensor bytes without the header.
        if not _readable(lora.get("path")):
            return ModelStatus(
                name,
                "lora",
                "ready",
                f"LoRA {name}: found by name; A1111 does not report LoRA hashes and the file is "
                "not readable here, so its content is not verified",
                title=name,
                sha256=want,
            )
        if file_sha256(lora["path"]) == want:
            return ModelStatus(
                name,
                "lora",
                "ready",
                f"LoRA {name}: matched by name and sha256",
                title=name,
                sha256=want,
                verified=True,
            )
        return ModelStatus(
            name,
            "lora",
            "mismatch",
            f"A1111's LoRA {name} is a different file than the manifest pins ({want[:12]}…)",
            hint="replace it with the pinned file: `movieminter models ensure` (move the old one away first)",
            sha256=want,
        )
    return ModelStatus(
        name,
        "lora",
        "missing",
        f"LoRA {name} (sha256 {want[:12]}…) is not in A1111",
        hint=_ensure_hint(entry),
        sha256=want,
    )


def _ensure_hint(entry: dict) -> str:
    civ = entry.get("civitai") or {}
    where = f" (Civitai model version {civ['version_id']})" if civ.get("version_id") else ""
    return (
        "run `movieminter models ensure --manifest M --segment N --models-dir <A1111>/models`"
        + where
        + ", then refresh A1111's model list"
    )


def check_models(client: A1111Client, manifest: dict, index: int, *, allow_pickle: bool = False) -> list[ModelStatus]:
    """One ModelStatus for the checkpoint and one per LoRA the segment uses."""
    models = manifest.get("models") or {}
    out = [check_checkpoint(client, models["checkpoint"], allow_pickle=allow_pickle)]
    entries = segment_loras(manifest, index)
    if entries:
        loras = client.loras()
        out += [check_lora(client, e, allow_pickle=allow_pickle, loras=loras) for e in entries]
    return out
