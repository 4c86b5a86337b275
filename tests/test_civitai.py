"""Model acquisition through the Civitai double into the A1111 double's models folder."""

from __future__ import annotations

import copy

import pytest

from movieminter.render.a1111 import A1111Client
from movieminter.render.acquire import ensure_models, safe_file_name
from movieminter.render.civitai import CivitaiClient
from movieminter.render.errors import DownloadError
from movieminter.render.readiness import check_models
from movieminter.testing.civitai_double import start_civitai
from movieminter.testing.fake_models import safetensors_bytes, sha256_of


@pytest.fixture
def civitai_factory():
    stops = []

    def start(**kw):
        double, url, stop = start_civitai(**kw)
        stops.append(stop)
        return double, url

    yield start
    for stop in stops:
        stop()


def test_missing_models_are_downloaded_verified_and_refreshed(a1111_factory, civitai_factory, lighthouse):
    a1111_double, url, _ = a1111_factory(models=False)
    _, civ_url = civitai_factory()
    client = A1111Client(url)
    assert [s.state for s in check_models(client, lighthouse, 0)] == ["missing", "missing"]
    results = ensure_models(
        lighthouse, 0, civitai=CivitaiClient(civ_url), a1111=client, models_dir=a1111_double.root / "models"
    )
    assert [r.action for r in results] == ["downloaded", "downloaded"]
    ckpt = a1111_double.root / "models/Stable-diffusion/dreamshaper_8.safetensors"
    assert ckpt.read_bytes() == safetensors_bytes("dreamshaper_8")
    assert (a1111_double.root / "models/Lora/ghibli_style_v2.safetensors").exists()
    statuses = check_models(client, lighthouse, 0)  # A1111's lists were refreshed
    assert all(s.ok for s in statuses), statuses
    again = ensure_models(
        lighthouse, 0, civitai=CivitaiClient(civ_url), a1111=client, models_dir=a1111_double.root / "models"
    )
    assert [r.action for r in again] == ["present", "present"]


def test_mismatching_download_is_deleted_and_reported(a1111_factory, civitai_factory, lighthouse, tmp_path):
    _, civ_url = civitai_factory(wrong_bytes=True)
    models = tmp_path / "models"
    results = ensure_models(lighthouse, 0, civitai=CivitaiClient(civ_url), models_dir=models)
    assert [r.action for r in results] == ["failed", "failed"]
    assert "was deleted" in results[0].message and sha256_of("dreamshaper_8") in results[0].message
    assert not list((models / "Stable-diffusion").iterdir())
    assert not list((models / ".movieminter-partial").iterdir())


def test_pickle_refused_unless_allowed(civitai_factory, lighthouse, tmp_path):
    _, civ_url = civitai_factory()
    civitai = CivitaiClient(civ_url)
    m = copy.deepcopy(lighthouse)
    m["models"]["checkpoint"]["sha256"] = sha256_of("dreamshaper_8", "pickletensor")
    # The manifest says safetensors, Civitai's metadata says PickleTensor: Civitai's word wins.
    res = ensure_models(m, 3, civitai=civitai, models_dir=tmp_path / "models")
    assert res[0].action == "refused" and "PickleTensor" in res[0].message and "--allow-pickle" in res[0].hint
    assert not (tmp_path / "models/Stable-diffusion").exists() or not list(
        (tmp_path / "models/Stable-diffusion").iterdir()
    )
    m["models"]["checkpoint"]["format"] = "pickletensor"
    res = ensure_models(m, 3, civitai=civitai, models_dir=tmp_path / "models")
    assert res[0].action == "refused"
    res = ensure_models(m, 3, civitai=civitai, models_dir=tmp_path / "models", allow_pickle=True)
    assert res[0].action == "downloaded" and res[0].path.name == "dreamshaper_8.ckpt"


def test_token_required(civitai_factory, lighthouse, tmp_path):
    _, civ_url = civitai_factory(require_token="tok-123")
    with pytest.raises(DownloadError) as err:
        ensure_models(lighthouse, 3, civitai=CivitaiClient(civ_url), models_dir=tmp_path / "m")
    assert "--civitai-token" in err.value.hint
    client = CivitaiClient(civ_url, token="tok-123")
    assert "tok-123" not in repr(client)
    res = ensure_models(lighthouse, 3, civitai=client, models_dir=tmp_path / "m")
    assert res[0].action == "downloaded"


def test_download_resumes_after_a_drop_and_after_a_kill(civitai_factory, lighthouse, tmp_path):
    civ, civ_url = civitai_factory(drop_after=300_000)
    size = len(safetensors_bytes("dreamshaper_8"))
    res = ensure_models(lighthouse, 3, civitai=CivitaiClient(civ_url), models_dir=tmp_path / "a")
    assert res[0].action == "downloaded"
    assert len(civ.range_requests) == 1  # resumed once, from what had arrived
    start = int(civ.range_requests[0][6:-1])
    assert 0 < start <= 300_000 and civ.bytes_served <= size + 300_000 - start
    # A previous process died with half the file in the partial folder.
    partial = tmp_path / "b/.movieminter-partial"
    partial.mkdir(parents=True)
    want = sha256_of("dreamshaper_8")
    (partial / f"{want}.part").write_bytes(safetensors_bytes("dreamshaper_8")[:500_000])
    civ.range_requests.clear()
    civ.bytes_served = 0
    res = ensure_models(lighthouse, 3, civitai=CivitaiClient(civ_url), models_dir=tmp_path / "b")
    assert res[0].action == "downloaded" and civ.range_requests == ["bytes=500000-"]
    assert civ.bytes_served == size - 500_000


def test_remote_a1111_gets_exact_instructions(civitai_factory, lighthouse):
    _, civ_url = civitai_factory()
    res = ensure_models(lighthouse, 2, civitai=CivitaiClient(civ_url), models_dir=None)
    ckpt, lora = res
    assert ckpt.action == "manual" and lora.action == "manual"
    assert ckpt.instructions["version_id"] == 128713 and ckpt.instructions["sha256"] == sha256_of("dreamshaper_8")
    assert ckpt.instructions["folder"] == "models/Stable-diffusion"
    assert (
        lora.instructions["folder"] == "models/Lora" and lora.instructions["file_name"] == "film_grain_35mm.safetensors"
    )
    assert "/api/download/models/39525" in lora.message


def test_names_never_become_paths(civitai_factory, lighthouse, tmp_path):
    want = "ab" * 32
    assert safe_file_name("../../etc/passwd", want, ".safetensors") == f"model-{want[:16]}.safetensors"
    assert safe_file_name("a/b", want, ".pt").startswith("model-")
    assert safe_file_name("..", want, ".pt").startswith("model-")
    assert safe_file_name("dreamshaper_8", want, ".safetensors") == "dreamshaper_8.safetensors"
    _, civ_url = civitai_factory()
    m = copy.deepcopy(lighthouse)
    m["models"]["checkpoint"]["name"] = "../../../outside"
    res = ensure_models(m, 3, civitai=CivitaiClient(civ_url), models_dir=tmp_path / "models")
    assert res[0].path.parent == (tmp_path / "models/Stable-diffusion").resolve()
    assert res[0].path.name.startswith("model-")
    assert not (tmp_path / "outside.safetensors").exists()


def test_ensure_models_for_app_uses_the_settings(a1111_factory, civitai_factory, lighthouse, tmp_path):
    from movieminter.app.context import AppContext
    from movieminter.config import Settings
    from movieminter.render.acquire import ensure_models_for_app

    double, url, _ = a1111_factory(models=False)
    _, civ_url = civitai_factory()
    ctx = AppContext(
        Settings(
            data_dir=tmp_path / "data", a1111_url=url, civitai_url=civ_url, a1111_models_dir=str(double.root / "models")
        )
    )
    results = ensure_models_for_app(ctx, lighthouse, 0)
    assert [r.action for r in results] == ["downloaded", "downloaded"]
    assert all(s.ok for s in check_models(A1111Client(url), lighthouse, 0))
