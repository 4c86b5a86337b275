"""The credits section of the Watch page: one gradio HTML block driven by static/credits.js, which reads
GET /api/v1/movies/{id}/credits (routes_community). ui/watch.py adds it with `with_credits(page, ctx)`."""

from __future__ import annotations

SECTION = """
<section class="mm-card mm-credits" aria-labelledby="mm-credits-h" hidden>
  <h2 id="mm-credits-h">Credits</h2>
  <p class="mm-credits-status" aria-live="polite"></p>
  <dl class="mm-credits-list"></dl>
</section>
"""

# Same base as the page loader (ui/studio.py): the app may be mounted at / or behind A1111's /movieminter/.
LOADER = """
const m = location.pathname.match(/^(.*\\/)(studio|watch)(\\/.*)?$/);
const base = window.MM_ROOT || (m ? m[1] : "/");
const s = document.createElement("script"); s.src = base + "static/credits.js"; s.dataset.mm = "static/credits.js";
s.onload = () => window.MMCreditsInit(element, base);
document.head.appendChild(s);
"""


def with_credits(blocks, ctx):
    """Appends the credits section to a page's gradio Blocks when a Community contract is configured (without
    one there are no credits to read, so the page makes no request for them)."""
    import gradio as gr

    if not ctx.settings.community_address:
        return blocks
    with blocks:
        gr.HTML(SECTION, js_on_load=LOADER, apply_default_css=False)
    return blocks
