"""The committed contract artifacts are exactly what the pinned compiler makes from contracts/."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "movieminter" / "chain" / "artifacts"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is required to build the contracts")
def test_rebuild_matches_committed_artifacts(tmp_path):
    subprocess.run(
        ["node", str(ROOT / "contracts" / "build.js"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    committed = sorted(p.relative_to(ARTIFACTS) for p in ARTIFACTS.rglob("*.json"))
    assert built == committed
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (ARTIFACTS / rel).read_bytes(), (
            f"{rel} differs from a fresh build: run `node contracts/build.js` and commit the artifacts"
        )


def test_artifact_records_compiler_and_sources():
    art = json.loads((ARTIFACTS / "MovieMinter.json").read_text())
    assert art["compiler"]["version"].startswith("0.8.28+commit")
    assert art["compiler"]["settings"]["optimizer"] == {"enabled": True, "runs": 2000}
    assert "contracts/MovieMinter.sol" in art["sourceHashes"]
    assert any(k.startswith("@openzeppelin/contracts/token/ERC721/") for k in art["sourceHashes"])
    deployed = bytes.fromhex(art["deployedBytecode"][2:])
    assert 0 < len(deployed) <= 24_576  # EIP-170: deployable on every preset chain


def test_community_fits_the_contract_size_limit():
    deployed = bytes.fromhex(json.loads((ARTIFACTS / "Community.json").read_text())["deployedBytecode"][2:])
    assert 0 < len(deployed) <= 24_576  # EIP-170, like MovieMinter
