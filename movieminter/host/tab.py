"""The Movie Minter tab: a same-origin iframe onto the proxied app. The
iframe's size and theme are handled by javascript/movieminter.js."""

from __future__ import annotations

FRAME_ID = "movieminter-frame"
# Relative to A1111's page, so it follows A1111's --subpath too.
FRAME_HTML = (
    f'<iframe id="{FRAME_ID}" src="movieminter/" title="Movie Minter" '
    'allow="clipboard-write; fullscreen" referrerpolicy="same-origin"></iframe>'
)


def build_tab():
    """gradio 3.41 / 4.x Blocks for A1111's on_ui_tabs."""
    import gradio as gr  # only inside A1111 (its gradio); the host glue imports nothing heavy at load

    with gr.Blocks(analytics_enabled=False) as tab:
        gr.HTML(FRAME_HTML, elem_id="movieminter-tab")
    return tab
