"""The scene's Download button in Chromium: against an A1111 whose models folder
is not on this machine, the tab shows exactly what to download and where."""

from __future__ import annotations

import pytest

from movieminter.chain.client import ChainClient
from tests.fixtures_ui import MinterStack
from tests.test_ui_mint import lighthouse, open_scene


@pytest.mark.browser
def test_download_on_a_remote_a1111_shows_what_to_fetch(tmp_path, anvil, a1111_factory, serve_app, chromium):
    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.config import Settings
    from movieminter.testing.civitai_double import start_civitai

    civitai, civitai_url, stop_civitai = start_civitai()
    try:
        double, a1111_url, _ = a1111_factory(models=False)  # no models, and no folder we may write into
        chain = ChainClient(anvil.url)
        chain = ChainClient(anvil.url, chain.deploy())
        ctx = AppContext(
            Settings(
                data_dir=tmp_path / "app",
                a1111_url=a1111_url,
                chain="local",
                rpc_url=anvil.url,
                contract_address=chain.contract_address,
                civitai_url=civitai_url,
            )
        )
        ctx.chain_id = 31337
        ctx.sse_heartbeat = 0.5
        stack = MinterStack(anvil, chain, ctx, serve_app(create_app(ctx)), double)
        movie_id = stack.publish(lighthouse(), mode="open")
        page = stack.open_page(chromium, account=1)
        page.get_by_label("Movie id or manifest CID").fill(str(movie_id))
        page.get_by_role("button", name="Open", exact=True).click()
        open_scene(page, 0)
        page.get_by_role("button", name="Download").first.click()
        note = page.get_by_test_id("acquire-result").first
        note.wait_for(timeout=30_000)
        text = note.inner_text()
        assert f"{civitai_url}/api/download/models/128713" in text
        assert "models/Stable-diffusion/dreamshaper_8.safetensors" in text
        assert civitai.downloads == 0
        page.context.close()
    finally:
        stop_civitai()
