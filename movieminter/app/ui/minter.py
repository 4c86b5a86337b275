"""The Movie Minter tab (mounted at "/"): what a minter sees.

gradio lays out the page; the interactive parts (wallet, a timeline of up to
thousands of segments, the Render & Mint flow) are plain DOM driven by
static/wallet.js and static/minter.js against the REST API, because a gradio
component per segment would not stay responsive at 1,080 segments and the
wallet lives in the browser anyway.
"""

from __future__ import annotations

import gradio as gr

# Relative URLs: the app is served at / and under A1111's /movieminter/ proxy.
HEAD = (
    '<link rel="stylesheet" href="static/minter.css">'
    '<script src="static/mm-fetch.js"></script>'
    '<script src="static/wallet.js"></script>'
    '<script src="static/minter.js"></script>'
    '<link rel="stylesheet" href="static/community.css">'
    '<script src="static/community.js"></script>'
)

PAGE = """
<div class="mm-root">
  <header class="mm-top">
    <div class="mm-brand"><span class="mm-logo" aria-hidden="true">▶</span> Movie Minter</div>
    <nav class="mm-nav" aria-label="Movie Minter pages"><a href="studio/" target="_blank" rel="noopener">Studio</a>
      <a href="watch/" target="_blank" rel="noopener" id="mm-watch-link">Watch</a></nav>
    <div class="mm-wallet-wrap">
      <div id="mm-wallet" class="mm-wallet" aria-live="polite"><button type="button" class="mm-btn mm-btn-primary" disabled>Loading wallet…</button></div>
      <div id="mm-wallet-menu" class="mm-menu" role="menu" aria-label="Wallets found in this browser" hidden></div>
    </div>
  </header>
  <div id="mm-wallet-info" class="mm-alert mm-alert-info" hidden role="status"></div>
  <div id="mm-wallet-error" class="mm-alert mm-alert-error" hidden role="alert"></div>

  <section class="mm-card" aria-labelledby="mm-load-title">
    <h2 id="mm-load-title" class="mm-h">Open a movie</h2>
    <form id="mm-load" class="mm-load">
      <label for="mm-ref">Movie id or manifest CID</label>
      <input id="mm-ref" name="ref" autocomplete="off" spellcheck="false" placeholder="e.g. 1 or bafkrei…">
      <button id="mm-open" type="submit" class="mm-btn mm-btn-primary">Open</button>
    </form>
    <div id="mm-community-movies" class="mm-recent" hidden data-testid="collective-movies"></div>
    <div id="mm-recent" class="mm-recent"></div>
    <div id="mm-load-error" class="mm-alert mm-alert-error" hidden role="alert"></div>
  </section>

  <section id="mm-mine" class="mm-card" hidden data-list="mine" aria-labelledby="mm-mine-title" data-testid="my-work">
    <div class="mm-card-head"><h2 id="mm-mine-title" class="mm-h">My segments and jobs <span id="mm-mine-count" class="mm-count"></span></h2>
      <button type="button" class="mm-btn mm-btn-ghost mm-btn-small" data-act="lists-refresh">Refresh</button></div>
    <div id="mm-mine-list"></div>
    <div id="mm-mine-error" class="mm-alert mm-alert-error" hidden role="alert"></div>
  </section>

  <section id="mm-share" class="mm-card" hidden data-list="share" aria-labelledby="mm-share-title" data-testid="revenue-share">
    <div class="mm-card-head"><h2 id="mm-share-title" class="mm-h">My revenue share</h2>
      <button type="button" class="mm-btn mm-btn-ghost mm-btn-small" data-act="lists-refresh">Refresh</button></div>
    <p class="mm-muted mm-small">Each minted segment's token earns a share of the movie's ticket sales. Collect it into your
      balance, then withdraw the balance to your wallet.</p>
    <div id="mm-share-body"></div>
    <div id="mm-share-msg" class="mm-alert" hidden role="status"></div>
    <div id="mm-share-error" class="mm-alert mm-alert-error" hidden role="alert"></div>
  </section>

  <section id="mm-catalog" class="mm-card" data-list="catalog" aria-labelledby="mm-catalog-title">
    <div class="mm-card-head"><h2 id="mm-catalog-title" class="mm-h">Movies to mint in</h2>
      <label class="mm-check"><input type="checkbox" id="mm-catalog-all"> Show finished movies too</label>
      <button type="button" class="mm-btn mm-btn-ghost mm-btn-small" data-act="lists-refresh">Refresh</button></div>
    <div id="mm-catalog-list"><p class="mm-muted">Reading the movies on the chain…</p></div>
    <div id="mm-catalog-error" class="mm-alert mm-alert-error" hidden role="alert"></div>
  </section>

  <section id="mm-movie" class="mm-card mm-movie" hidden aria-live="polite"></section>
  <section id="mm-community" class="mm-card mm-community" hidden aria-labelledby="mm-community-h" data-testid="community"></section>

  <section id="mm-timeline" class="mm-card" hidden aria-labelledby="mm-timeline-title">
    <h3 id="mm-timeline-title" class="mm-h">Segments</h3>
    <p class="mm-muted mm-small">Click a segment, or use the arrow keys and Enter, to open its scene.</p>
    <div id="mm-legend" class="mm-legend"></div>
    <form id="mm-jump" class="mm-jump" hidden>
      <label for="mm-jump-to">Go to segment</label>
      <input id="mm-jump-to" type="number" min="0" step="1" inputmode="numeric" required>
      <button type="submit" class="mm-btn">Go</button>
    </form>
    <div id="mm-yours" class="mm-alert mm-alert-info" hidden role="status" data-testid="yours"></div>
    <div id="mm-grid" class="mm-grid" role="grid" aria-label="Segment timeline" aria-describedby="mm-legend"></div>
    <div id="mm-timeline-error" class="mm-alert mm-alert-error" hidden role="alert"></div>
  </section>

  <section id="mm-scene" class="mm-card mm-scene" hidden aria-labelledby="mm-scene-title">
    <div class="mm-scene-head">
      <h3 id="mm-scene-title" class="mm-h" tabindex="-1">Segment</h3>
      <button id="mm-scene-close" type="button" class="mm-btn mm-btn-ghost" aria-label="Close the scene">Close</button>
    </div>
    <div id="mm-scene-body"></div>
  </section>
</div>
"""


def build(ctx) -> gr.Blocks:
    with gr.Blocks(title="Movie Minter", analytics_enabled=False) as blocks:
        gr.HTML(
            PAGE,
            head=HEAD,
            apply_default_css=False,
            elem_id="mm-app",
            # static/minter.js loads the tab's parts first; it says "mm-minter-ready" once they all ran.
            js_on_load="window.MMMinter ? window.MMMinter.mount(element) : "
            "document.addEventListener('mm-minter-ready', () => window.MMMinter.mount(element), { once: true });",
        )
    return blocks
