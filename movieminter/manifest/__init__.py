"""The movie manifest: schema, validation, canonical JSON, Deforum import/export.

Public API (docs/architecture.md § movieminter.manifest; reference for
directors in docs/manifest.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

from movieminter.manifest import schedules
from movieminter.manifest.canonical import canonical_json
from movieminter.manifest.deforum import (
    export_deforum,
    import_deforum,
    import_deforum_report,
    normalize_segment,
    segment_settings_digest,
    validate_segment,
)
from movieminter.manifest.problems import ManifestError, Problem
from movieminter.manifest.validate import get_segment, load_manifest, schema, validate_manifest


def manifest_digest(manifest: dict[str, Any]) -> bytes:
    """sha256 (32 bytes) of the manifest's canonical JSON."""
    return hashlib.sha256(canonical_json(manifest)).digest()


__all__ = [
    "ManifestError",
    "Problem",
    "canonical_json",
    "export_deforum",
    "get_segment",
    "import_deforum",
    "import_deforum_report",
    "load_manifest",
    "manifest_digest",
    "normalize_segment",
    "schedules",
    "schema",
    "segment_settings_digest",
    "validate_manifest",
    "validate_segment",
]
