"""The community parts of the Studio and the Watch page: one gradio HTML block each, driven by
static/community.js against routes_community (the tab includes community.js itself: ui/minter.py).

Studio: the director's (or leader's) review of minted segments, and its ballots (static/studio-ballots.js).
Watch: the movie's season pass and ballots.
Added only when a Community contract is configured (without one there is nothing to show or sign)."""

from __future__ import annotations

STUDIO = """
<div class="mm-page mm-community-page">
<section class="mm-card mm-review-panel" aria-labelledby="mm-review-h" hidden data-testid="reviews">
  <h2 id="mm-review-h">3 · Approve minted segments</h2>
  <p class="mm-hint">When approval is required, a segment earns from the minters' pool only once you approve it,
  or automatically when the approval window has passed since its holder submitted it. A rejection reopens it
  for a new submission; its reason is public.</p>
  <div class="mm-reviews-body"></div>
</section>
<section class="mm-card mm-ballots-panel" aria-labelledby="mm-ballots-h" hidden data-testid="ballots">
  <h2 id="mm-ballots-h">4 · Takes and votes</h2>
  <div class="mm-ballots-body"></div>
</section>
</div>
"""

WATCH = """
<div class="mm-page mm-community-page">
<section class="mm-card mm-community" aria-labelledby="mm-community-h" hidden data-testid="community"></section>
</div>
"""

# Same base as the page loader (ui/studio.py): the app may be mounted at / or behind A1111's /movieminter/.
LOADER = """
const m = location.pathname.match(/^(.*\\/)(studio|watch)(\\/.*)?$/);
const base = window.MM_ROOT || (m ? m[1] : "/");
if (!document.querySelector('link[data-mm="static/community.css"]')) {
  const l = document.createElement("link"); l.rel = "stylesheet"; l.href = base + "static/community.css";
  l.dataset.mm = "static/community.css"; document.head.appendChild(l);
}
const kind = "%(kind)s";
const script = (src, then) => {
  const s = document.createElement("script"); s.src = base + src; s.dataset.mm = src; s.onload = then;
  document.head.appendChild(s);
};
// The Studio's ballots panel (static/studio-ballots.js) signs through community.js.
const ballots = () => { if (kind === "studio") window.MMBallots ? window.MMBallots.mount(element) : script("static/studio-ballots.js", () => window.MMBallots.mount(element)); };
const go = () => { window.MMCommunity.page(element, kind); ballots(); };
if (window.MMCommunity) go();
else script("static/community.js", go);
"""


def with_community(blocks, ctx, kind: str):
    """Appends the community block ("studio" or "watch") to a page's gradio Blocks."""
    import gradio as gr

    if not ctx.settings.community_address:
        return blocks
    with blocks:
        gr.HTML(STUDIO if kind == "studio" else WATCH, js_on_load=LOADER % {"kind": kind}, apply_default_css=False)
    return blocks
