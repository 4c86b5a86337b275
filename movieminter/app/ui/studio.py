"""The Director studio (/studio): create a movie from a manifest, run its
lottery or allowlist, follow the work, and withdraw revenue.

The page is one gradio HTML block; its behaviour lives in
static/studio.js and talks to routes_director / routes_viewer over REST.
Transactions are prepared by the server and signed by the browser wallet
(static/wallet.js), so no key ever reaches the app.
"""

from __future__ import annotations

import gradio as gr

# Loads the page's scripts relative to where the app is mounted (/ standalone,
# /movieminter/ behind A1111's proxy), in order: wallet, shared helpers, page.
_LOADER = """
const m = location.pathname.match(/^(.*\\/)(studio|watch)(\\/.*)?$/);
const base = m ? m[1] : "/";
const load = (src) => new Promise((ok, bad) => {
  if (document.querySelector('script[data-mm="' + src + '"]')) return ok();
  const s = document.createElement("script"); s.src = base + src; s.dataset.mm = src;
  s.onload = ok; s.onerror = () => bad(new Error("cannot load " + src)); document.head.appendChild(s);
});
const css = (href) => { if (document.querySelector('link[data-mm="' + href + '"]')) return;
  const l = document.createElement("link"); l.rel = "stylesheet"; l.href = base + href; l.dataset.mm = href;
  document.head.appendChild(l); };
window.MM_ROOT = window.MM_ROOT || base;  // mm-fetch.js resolves the API's relative paths against it
css("static/studio.css");
load("static/mm-fetch.js").then(() => load("static/wallet.js")).then(() => load("static/studio-common.js"))
  %(scripts)s
  .then(() => { if (window.MMPageInit) window.MMPageInit(element); })
  .then(() => { element.querySelector(".mm-page").dataset.ready = "1"; })  // its buttons work from now on
  .catch((e) => { element.querySelector(".mm-fatal").textContent = String(e); });
"""


def page(title: str, body: str, script: str, parts: tuple[str, ...] = ()) -> gr.Blocks:
    """A gradio page holding one HTML block driven by static/<script>.js (loaded after static/<parts>.js)."""
    scripts = "".join(f'.then(() => load("static/{name}.js"))' for name in (*parts, script))
    with gr.Blocks(title=title, analytics_enabled=False) as blocks:
        gr.HTML(
            f'<div class="mm-page" data-page="{script}"><p class="mm-fatal" role="alert"></p>{body}</div>',
            js_on_load=_LOADER % {"scripts": scripts},
            apply_default_css=False,
        )
    return blocks


WALLET_BAR = """
<header class="mm-bar">
  <h1><span class="mm-logo" aria-hidden="true">▶</span> %(title)s</h1>
  <nav class="mm-nav" aria-label="Movie Minter pages"><a href="../">Minter tab</a> <a href="../studio/">Studio</a>
    <a href="../watch/">Watch</a></nav>
  <div class="mm-wallet">
    <span class="mm-wallet-status" aria-live="polite">Wallet not connected</span>
    <button type="button" class="mm-connect mm-primary">Connect wallet</button>
  </div>
</header>
<p class="mm-notice" role="status" aria-live="polite"></p>
"""

REVENUE = """
<section class="mm-card" id="mm-revenue" aria-labelledby="mm-revenue-h">
  <h2 id="mm-revenue-h">Revenue</h2>
  <p>Ticket money is split when it is paid: the creator's and the director's shares wait in the contract until
  they withdraw; each segment's share of the minters' pool goes to whoever holds that segment's token.</p>
  <button type="button" class="mm-revenue-refresh">Show my balances</button>
  <div class="mm-revenue-out"></div>
</section>
"""

BODY = (
    WALLET_BAR % {"title": "Director studio"}
    + """
<section class="mm-card" id="mm-create" aria-labelledby="mm-create-h">
  <h2 id="mm-create-h">1 · Create a movie</h2>
  <label for="mm-manifest-file">Manifest file (JSON)</label>
  <input type="file" id="mm-manifest-file" accept=".json,application/json">
  <label for="mm-manifest">…or paste it</label>
  <textarea id="mm-manifest" rows="6" spellcheck="false" placeholder='{"manifest_version": 1, ...}'></textarea>
  <div class="mm-row">
    <button type="button" id="mm-validate">Validate</button>
    <label for="mm-preview-seg">Segment</label>
    <input type="number" id="mm-preview-seg" min="0" value="0" class="mm-narrow">
    <button type="button" id="mm-preview">Preview stills</button>
  </div>
  <div id="mm-validation" aria-live="polite"></div>
  <div id="mm-seg-editor" class="mm-editor" hidden>
    <h3 id="mm-seg-editor-h">Segments</h3>
    <p class="mm-hint">Edit the segments here or in the JSON above: each follows the other. Prompts: one
    <code>frame: prompt</code> per line. Camera: one <code>key: schedule</code> per line (zoom, angle, translation_x/y/z,
    rotation_3d_x/y/z). Problems appear beside the field they concern.</p>
    <div class="mm-row">
      <label for="mm-deforum-file">Import Deforum settings (.txt / .json)</label>
      <input type="file" id="mm-deforum-file" accept=".txt,.json,application/json,text/plain" aria-describedby="mm-import-msg">
      <label for="mm-import-at">into segment</label>
      <input type="number" id="mm-import-at" min="0" class="mm-narrow" placeholder="new">
    </div>
    <p id="mm-import-msg" class="mm-field-msg" aria-live="polite"></p>
    <p id="mm-editor-msg" class="mm-field-msg" aria-live="polite"></p>
    <fieldset id="mm-seg-fieldset" class="mm-bare">
      <legend class="mm-sr">Segment table</legend>
      <div class="mm-table-box"><table class="mm-table mm-seg-table" id="mm-seg-table" aria-labelledby="mm-seg-editor-h">
        <thead><tr><th scope="col">#</th><th scope="col">Title</th><th scope="col">Frames</th><th scope="col">Cadence</th>
        <th scope="col">Prompts by keyframe</th><th scope="col">Camera schedules</th><th scope="col">Order</th></tr></thead>
        <tbody></tbody></table></div>
      <div class="mm-row" id="mm-seg-pager"></div>
      <div class="mm-row"><button type="button" id="mm-add-seg">Add segment</button>
        <button type="button" id="mm-next-problem" hidden>Show the next problem</button></div>
    </fieldset>
  </div>
  <div id="mm-previews" class="mm-previews"></div>
  <fieldset>
    <legend>Terms</legend>
    <label for="mm-mode">Mint mode</label>
    <select id="mm-mode">
      <option value="lottery">Lottery: wallets enter, a block hash draws the winners</option>
      <option value="allowlist">Allowlist: only the addresses in a CSV</option>
      <option value="open">Open: first to claim a segment renders it</option>
    </select>
    <div id="mm-allowlist-row" hidden>
      <label for="mm-allowlist-file">Allowlist CSV: rows of <code>address,segment</code> (segment: 3, 3-5, 2;7 or *)</label>
      <input type="file" id="mm-allowlist-file" accept=".csv,text/csv,text/plain" aria-describedby="mm-allowlist-check">
      <p id="mm-allowlist-check" class="mm-field-msg" role="alert" aria-live="polite"></p>
      <p class="mm-hint">Its Merkle root goes on chain with the movie; the proofs are pinned to IPFS so each
      minter's app can fetch theirs. The allowlist is public.</p>
    </div>
    <div class="mm-grid">
      <label>Creator share (%)<input type="number" id="mm-creator-pct" value="30" min="0" max="100"></label>
      <label>Director share (%)<input type="number" id="mm-director-pct" value="20" min="0" max="100"></label>
      <label>Minters' share (%)<input type="number" id="mm-minters-pct" value="50" min="0" max="100"></label>
      <label>Royalty on resales (%)<input type="number" id="mm-royalty-pct" value="5" min="0" max="10" step="0.5"></label>
      <label>Ticket price (ETH)<input type="text" id="mm-price" value="0.001" inputmode="decimal"></label>
      <label>Lottery entries open for (hours)<input type="number" id="mm-entry-hours" value="1" min="0" step="0.25"></label>
      <label>Winners' mint window (days)<input type="number" id="mm-claim-days" value="7" min="0" step="0.5"></label>
      <label>Creator address (empty: you)<input type="text" id="mm-creator" placeholder="0x…"></label>
    </div>
  </fieldset>
  <button type="button" id="mm-create-btn" class="mm-primary">Pin manifest &amp; create movie</button>
  <div id="mm-create-out" aria-live="polite"></div>
</section>

<section class="mm-card" id="mm-manage" aria-labelledby="mm-manage-h">
  <h2 id="mm-manage-h">2 · Run a movie</h2>
  <div class="mm-row">
    <label for="mm-movie-id">Movie id</label>
    <input type="number" id="mm-movie-id" min="0" class="mm-narrow">
    <button type="button" id="mm-load">Load</button>
  </div>
  <div id="mm-movie-info"></div>
  <h3>Lottery</h3>
  <div class="mm-row">
    <button type="button" id="mm-close" disabled>Close entries</button>
    <button type="button" id="mm-draw" disabled>Draw (record the seed)</button>
  </div>
  <div id="mm-countdowns" class="mm-countdowns"></div>
  <div id="mm-lottery" aria-live="polite"></div>
  <div class="mm-table-box"><table class="mm-table mm-winners" id="mm-winners" hidden><caption>Winners</caption>
    <thead><tr><th scope="col">Segment</th><th scope="col">Wallet</th></tr></thead><tbody></tbody></table></div>
  <div class="mm-row" id="mm-winners-pager"></div>
  <h3>Minters' gas (optional)</h3>
  <div class="mm-row">
    <button type="button" id="mm-prepare" disabled>Pre-pay minters' storage gas</button>
    <span class="mm-hint">You pay about 45,000 gas per segment now; each minter then pays about 34,200 gas less
    to mint. One transaction per 200 segments.</span>
  </div>
  <h3>Follow the work</h3>
  <table class="mm-table" id="mm-segments"><caption>Who claimed, rendered and minted each segment</caption>
    <thead><tr><th scope="col">#</th><th scope="col">Scene</th><th scope="col">Status</th>
    <th scope="col">Wallet</th><th scope="col">Deadline</th><th scope="col">Render</th><th scope="col">Video</th></tr></thead><tbody></tbody></table>
  <div class="mm-row" id="mm-segments-pager"></div>
  <ol id="mm-events" class="mm-events"></ol>
  <h3>Revenue by wallet</h3>
  <p id="mm-rev-summary"></p>
  <div class="mm-table-box"><table class="mm-table" id="mm-rev-wallets" hidden><caption>What each wallet can still collect from this movie</caption>
    <thead><tr><th scope="col">Wallet</th><th scope="col">Role</th><th scope="col">Creator / director share</th>
    <th scope="col">Segments held</th><th scope="col">Minters' pool</th><th scope="col">Total</th></tr></thead><tbody></tbody></table></div>
  <div class="mm-row" id="mm-rev-pager"></div>
</section>
"""
    + REVENUE
)


def build(ctx) -> gr.Blocks:
    from movieminter.app.community_ui import with_community  # approval of minted segments (static/community.js)

    return with_community(
        page("Movie Minter · Director studio", BODY, "studio", parts=("studio-editor",)), ctx, "studio"
    )
