"""Get the models a segment needs into A1111's models folder, safely.

For each missing model: Civitai's by-hash lookup finds the file whose SHA256
is the one the manifest pins; pickle files are refused unless allowed; the
download goes to a partial file outside the folders A1111 scans, resumes
after interruptions, and is moved in only once its sha256 matches. The file
name comes from a strictly checked name (or the hash): never a path from the
manifest or from Civitai. When A1111 is on another machine we say exactly
what to download and where to put it instead.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from pathlib import Path

from movieminter.render.a1111 import A1111Client
from movieminter.render.civitai import CivitaiClient, sha256_file
from movieminter.render.errors import ModelError
from movieminter.render.readiness import check_models, segment_loras

FOLDERS = {"checkpoint": "Stable-diffusion", "lora": "Lora"}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.()+\- ]{0,127}$")
PARTIAL_DIR = ".movieminter-partial"  # under models/, which A1111 does not scan


@dataclasses.dataclass
class AcquireResult:
    name: str
    kind: str
    action: str  # present | downloaded | manual | refused | failed
    message: str
    hint: str | None = None
    path: Path | None = None
    instructions: dict | None = None  # for `manual`: what to download and where

    @property
    def ok(self) -> bool:
        return self.action in ("present", "downloaded")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["path"] = str(self.path) if self.path else None
        return d


def safe_file_name(name: str, sha256: str, ext: str) -> str:
    """A file name that cannot escape its folder: the model's name when it is
    plainly a name (LoRA prompts refer to it), else one made from the hash."""
    stem = name.strip().rstrip(".")
    if not _SAFE_NAME.match(stem) or ".." in stem:
        stem = f"model-{sha256[:16]}"
    return stem + ext


def _inside(folder: Path, name: str) -> Path:
    target = (folder / name).resolve()
    if target.parent != folder.resolve():
        raise ModelError(f"refusing to write {name!r} outside {folder}", hint="the model name is not a plain name")
    return target


def _entries(manifest: dict, index: int) -> list[tuple[str, dict]]:
    out = [("checkpoint", manifest["models"]["checkpoint"])]
    out += [("lora", e) for e in segment_loras(manifest, index) if not e.get("_unpinned")]
    return out


def local_models_dir(a1111: A1111Client) -> Path | None:
    """A1111's models/ folder when A1111 runs on this machine (found from where its
    checkpoints are), else None."""
    try:
        models = a1111.sd_models()
    except Exception:
        return None
    for m in models:
        folder = Path(m.get("filename") or "").parent
        if folder.name == FOLDERS["checkpoint"] and folder.is_absolute() and os.access(folder, os.W_OK):
            return folder.parent
    return None


def ensure_models(
    manifest: dict,
    index: int,
    *,
    civitai: CivitaiClient,
    a1111: A1111Client | None = None,
    models_dir: str | Path | None = None,
    allow_pickle: bool = False,
    on_progress: Callable[[str, int, int | None], None] | None = None,
) -> list[AcquireResult]:
    """Make every model segment `index` needs present; one AcquireResult per model."""
    ready: set[tuple[str, str]] = set()
    if a1111 is not None:
        for st in check_models(a1111, manifest, index, allow_pickle=allow_pickle):
            if st.ok:
                ready.add((st.kind, st.name))
    results = []
    for kind, entry in _entries(manifest, index):
        name, want = entry["name"], entry["sha256"].lower()
        if (kind, name) in ready:
            results.append(AcquireResult(name, kind, "present", f"{name} is already in A1111"))
            continue
        if entry.get("format") == "pickletensor" and not allow_pickle:
            results.append(
                AcquireResult(
                    name,
                    kind,
                    "refused",
                    f"{name} is pinned as a pickle file",
                    hint="ask for a .safetensors version, or pass --allow-pickle if you trust it",
                )
            )
            continue
        results.append(_acquire_one(kind, entry, want, civitai, models_dir, allow_pickle, on_progress))
    if a1111 is not None and any(r.action == "downloaded" for r in results):
        a1111.refresh_checkpoints()
        a1111.refresh_loras()
    return results


def _acquire_one(kind, entry, want, civitai: CivitaiClient, models_dir, allow_pickle, on_progress) -> AcquireResult:
    name = entry["name"]
    version = civitai.by_hash(want)
    if version is None:
        return AcquireResult(
            name,
            kind,
            "failed",
            f"Civitai has no file with sha256 {want}",
            hint="ask the director where the pinned file can be downloaded",
        )
    file = next(
        (f for f in version.get("files", []) if str((f.get("hashes") or {}).get("SHA256", "")).lower() == want), None
    )
    if file is None:
        return AcquireResult(
            name,
            kind,
            "failed",
            f"Civitai version {version.get('id')} lists no file with sha256 {want[:12]}…",
            hint="ask the director where the pinned file can be downloaded",
        )
    fmt = (file.get("metadata") or {}).get("format", "")
    if fmt != "SafeTensor" and not allow_pickle:
        return AcquireResult(
            name,
            kind,
            "refused",
            f"Civitai's file for {name} is {fmt or 'of unknown format'}, not SafeTensor; "
            "pickle files run code when loaded",
            hint="ask for a .safetensors version, or pass --allow-pickle if you trust it",
        )
    ext = ".safetensors" if fmt == "SafeTensor" else (".ckpt" if kind == "checkpoint" else ".pt")
    file_name = safe_file_name(name, want, ext)
    version_id = int(version["id"])
    instructions = {
        "name": name,
        "url": civitai.page_url(version.get("modelId"), version_id),
        "version_id": version_id,
        "download": f"{civitai.base_url}/api/download/models/{version_id}",
        "sha256": want,
        "folder": f"models/{FOLDERS[kind]}",
        "file_name": file_name,
    }
    if not models_dir:
        return AcquireResult(
            name,
            kind,
            "manual",
            f"download {instructions['download']} ({instructions['url']}), check its sha256 is "
            f"{want}, and save it as {instructions['folder']}/{file_name} on the A1111 machine",
            hint="then press 'Refresh' next to A1111's checkpoint list (or restart A1111)",
            instructions=instructions,
        )
    models_dir = Path(models_dir)
    folder = models_dir / FOLDERS[kind]
    folder.mkdir(parents=True, exist_ok=True)
    target = _inside(folder, file_name)
    if target.exists():
        if sha256_file(target) == want:
            return AcquireResult(name, kind, "present", f"{target} is already there", path=target)
        return AcquireResult(
            name,
            kind,
            "failed",
            f"a different file already exists at {target}",
            hint="move it away (it is not the file the manifest pins), then run this again",
        )
    partial_dir = models_dir / PARTIAL_DIR
    partial_dir.mkdir(exist_ok=True)
    part = partial_dir / f"{want}.part"  # named by hash: resumable, never a name from outside
    params = {"type": file.get("type") or "Model", "format": fmt}
    civitai.download(
        version_id, part, params=params, on_bytes=(lambda d, t: on_progress(name, d, t)) if on_progress else None
    )
    got = sha256_file(part)
    if got != want:
        part.unlink()
        return AcquireResult(
            name,
            kind,
            "failed",
            f"the download for {name} has sha256 {got}, not the pinned {want}; it was deleted",
            hint="try again; if it repeats, the file on Civitai changed: tell the director",
            instructions=instructions,
        )
    os.replace(part, target)  # same file system: atomic, A1111 never sees half a file
    return AcquireResult(name, kind, "downloaded", f"downloaded {name} to {target} (sha256 verified)", path=target)


def ensure_models_for_app(ctx, manifest: dict, index: int) -> list[AcquireResult]:
    """ensure_models with everything taken from the app's context: Civitai URL and
    token, A1111's models folder (setting, else found from a local A1111), allow_pickle."""
    settings = ctx.settings
    a1111 = ctx.a1111
    models_dir = settings.a1111_models_dir or local_models_dir(a1111)
    civitai = CivitaiClient(settings.civitai_url, token=settings.civitai_token or None)
    try:
        return ensure_models(
            manifest, index, civitai=civitai, a1111=a1111, models_dir=models_dir, allow_pickle=settings.allow_pickle
        )
    finally:
        civitai.close()
