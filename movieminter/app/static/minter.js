/* The Movie Minter tab: movie loader, segment timeline, scene detail, Render & Mint.
 * Mounted by movieminter/app/ui/minter.py into a gr.HTML element. Talks to the
 * REST API with relative URLs (works at / and under /movieminter/); the wallet
 * part is static/wallet.js (window.MMWallet).
 */
(function () {
  "use strict";
  if (window.MMMinter) return;

  const STATE_LABEL = { open: "open", yours: "yours to claim", assigned: "assigned to someone else", rendering: "rendering", minted: "minted" };
  const JOB_LABEL = { queued: "Queued", models_ready: "Models ready", rendering: "Rendering frames", rendered: "Frames rendered",
    encoded: "Video encoded", pinned: "Pinned to IPFS", awaiting_signature: "Waiting for your signature", minted: "Minted",
    failed: "Failed", cancelled: "Cancelled" };
  // Deforum's phases and the pipeline's stages in the words a minter expects.
  const PHASE_LABEL = { QUEUED: "waiting in A1111's queue", PREPARING: "preparing Deforum", GENERATING: "generating frames",
    POST_PROCESSING: "post-processing the frames", DONE: "frames done", rendering: "rendering", encoding: "encoding the video",
    pinning: "pinning to IPFS", "awaiting signature": "needs your signature", confirming: "waiting for the mint to confirm",
    "preparing the mint transaction": "preparing the mint transaction", "waiting for the GPU": "waiting for the GPU" };
  const ACTIVE_JOB = new Set(["queued", "models_ready", "rendering", "rendered", "encoded", "pinned", "awaiting_signature"]);

  const esc = (s) => String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const short = (a) => (a ? a.slice(0, 6) + "…" + a.slice(-4) : "");
  // Dates, never raw Unix seconds (chain errors quote deadlines as numbers: "deadline 1795988636").
  const fmtDate = (t) => new Date(Number(t) * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  const humanTimes = (text) => String(text).replace(/\b(deadline|until|now|timestamp|expires at|expiresAt)( |: |=)(1\d{9})\b/gi, (m, w, sep, t) => w + sep + fmtDate(t));
  const fmtTime = (s) => { s = Math.max(0, Math.round(s)); const m = Math.floor(s / 60); return m ? `${m} min ${s % 60}s` : `${s}s`; };

  let root = null;
  const ui = {};
  const st = { movie: null, cells: [], focus: 0, scene: null, job: null, source: null, wallet: {}, busy: false, configError: null };

  function $(sel) { return root.querySelector(sel); }
  const api = (path, opts) => window.MMWallet.api(path, opts);

  // ---------------------------------------------------------------- notices
  function showError(where, err) {
    const box = typeof where === "string" ? $(where) : where;
    if (!box) return;
    if (!err) { box.hidden = true; box.innerHTML = ""; return; }
    box.hidden = false;
    box.className = "mm-alert mm-alert-error";
    box.innerHTML = `<strong>${esc(humanTimes(err.message || err))}</strong>${err.hint ? `<span class="mm-hint">${esc(humanTimes(err.hint))}</span>` : ""}`;
  }
  function showInfo(where, html) {
    const box = typeof where === "string" ? $(where) : where;
    if (!box) return;
    box.hidden = !html;
    box.className = "mm-alert mm-alert-info";
    box.innerHTML = html || "";
  }

  // ---------------------------------------------------------------- wallet bar
  function renderWallet(state) {
    st.wallet = state || window.MMWallet.state;
    const w = st.wallet;
    const bar = ui.wallet;
    if (w.signedIn) {
      const cfg = window.MMWallet.state.config || {};
      const wrong = cfg.chain_id && w.chainId && w.chainId !== cfg.chain_id;
      bar.innerHTML = `<span class="mm-chip" data-testid="wallet-address" title="${esc(w.address)}">` +
        `<span class="mm-dot ${wrong ? "mm-dot-warn" : ""}"></span>${esc(short(w.address))}</span>` +
        `<span class="mm-chain">${esc(cfg.chain_name || "")}</span>` +
        (wrong ? `<button type="button" class="mm-btn mm-btn-warn" data-act="switch">Switch network</button>` : "") +
        `<button type="button" class="mm-btn mm-btn-ghost" data-act="disconnect">Disconnect</button>`;
    } else {
      bar.innerHTML = `<button type="button" class="mm-btn mm-btn-primary" data-act="connect" aria-haspopup="true">Connect wallet</button>`;
    }
    // A chain the app cannot use (RPC down, no contract) stays explained until its config loads.
    const down = window.MMWallet.state.config ? null : st.configError;
    showError("#mm-wallet-error", w.notice ? { message: w.notice, hint: "Click Connect wallet." } : down);
    if (st.movie) { refreshTimeline(); loadLottery(); }
  }

  function walletMenu() {
    const list = window.MMWallet.providers();
    const menu = ui.walletMenu;
    if (!list.length) {
      menu.innerHTML = `<p class="mm-menu-empty">No wallet found in this browser. Install <a href="https://metamask.io/download/" target="_blank" rel="noopener">MetaMask</a>, Rabby or another Ethereum wallet, then reload.</p>`;
    } else {
      menu.innerHTML = `<p class="mm-menu-title">Choose a wallet</p>` + list.map((p) =>
        `<button type="button" class="mm-wallet-option" role="menuitem" data-uuid="${esc(p.info.uuid)}">` +
        (p.info.icon ? `<img src="${esc(p.info.icon)}" alt="" width="24" height="24">` : `<span class="mm-wallet-noicon" aria-hidden="true">◆</span>`) +
        `<span>${esc(p.info.name)}</span></button>`).join("");
    }
    menu.hidden = false;
    const first = menu.querySelector("button");
    if (first) first.focus();
  }

  async function connectWith(uuid) {
    ui.walletMenu.hidden = true;
    showError("#mm-wallet-error", null);
    showInfo("#mm-wallet-info", "Check your wallet: approve the connection, then sign the sign-in message.");
    try {
      await window.MMWallet.connect(uuid);
      showInfo("#mm-wallet-info", "");
    } catch (err) {
      showInfo("#mm-wallet-info", "");
      showError("#mm-wallet-error", err);
    }
  }

  async function onWalletClick(ev) {
    const btn = ev.target.closest("button");
    if (!btn) return;
    const act = btn.dataset.act;
    if (act === "connect") {
      return ui.walletMenu.hidden ? walletMenu() : (ui.walletMenu.hidden = true);
    }
    if (act === "disconnect") { await window.MMWallet.disconnect(); return; }
    if (act === "switch") {
      try { await window.MMWallet.ensureChain(); } catch (err) { showError("#mm-wallet-error", err); }
    }
    if (btn.dataset.uuid) return connectWith(btn.dataset.uuid);
  }

  // ---------------------------------------------------------------- movie loader
  async function loadRecent() {
    try {
      const { movies } = await api("api/v1/movies/recent");
      ui.recent.innerHTML = movies.length ? `<span class="mm-muted">Recent:</span>` + movies.map((m) =>
        `<button type="button" class="mm-chip mm-chip-btn" data-ref="${m.movie_id}" title="${esc(m.manifest_cid)}">#${m.movie_id} ${esc(m.title)}</button>`).join("") : "";
    } catch (e) { ui.recent.innerHTML = ""; }
  }

  async function openMovie(ref) {
    ref = String(ref || "").trim();
    showError("#mm-load-error", null);
    if (!ref) return showError("#mm-load-error", { message: "Enter a movie id or a manifest CID.", hint: "The director's page shows both." });
    ui.openBtn.disabled = true;
    ui.openBtn.textContent = "Opening…";
    try {
      st.movie = await api("api/v1/movies/open?ref=" + encodeURIComponent(ref));
      const m = st.movie;
      ui.movieHead.hidden = false;
      ui.movieHead.innerHTML = `<h2 id="mm-movie-title">${esc(m.title)}</h2>` +
        `<p class="mm-muted">Movie #${m.movie_id} · ${m.segment_count} segments · ${esc(m.mint_mode)} mode · <code title="manifest CID">${esc(m.manifest_cid)}</code></p>` +
        (m.description ? `<p>${esc(m.description)}</p>` : "") +
        (m.mint_mode === "lottery" ? `<div class="mm-lottery" id="mm-lottery" data-testid="lottery"><span class="mm-muted">Reading the lottery…</span></div>` +
          `<div id="mm-lottery-msg" class="mm-alert" hidden role="status"></div>` : "");
      st.lottery = null;
      try { history.replaceState(null, "", "#movie=" + m.movie_id); } catch (e) { /* sandboxed */ }
      const watch = root.querySelector("#mm-watch-link");
      if (watch) watch.setAttribute("href", "watch/?movie=" + m.movie_id);
      await Promise.all([refreshTimeline(), loadLottery()]);
      document.dispatchEvent(new CustomEvent("mm-movie", { detail: m }));  // community.js: the movie's pass and votes
      loadRecent();
    } catch (err) {
      showError("#mm-load-error", err);
    } finally {
      ui.openBtn.disabled = false;
      ui.openBtn.textContent = "Open";
    }
  }

  // ---------------------------------------------------------------- lottery card
  // The phase comes from the chain (its clock, its entrant list): Enter only while entries are open
  // and this wallet has not entered; after the draw, unwon segments are claimed like in an open movie.
  async function loadLottery() {
    const m = st.movie;
    if (!m || m.mint_mode !== "lottery") return;
    try {
      st.lottery = await api(`api/v1/ux/movies/${m.movie_id}/lottery`);
    } catch (err) {
      st.lottery = null;
      const box = $("#mm-lottery");
      if (box) { box.innerHTML = ""; showError("#mm-lottery-msg", err); }
      return;
    }
    drawLottery();
    if (st.scene && ui.scene && !ui.scene.hidden) drawActions();
  }

  function drawLottery() {
    const box = $("#mm-lottery"), L = st.lottery;
    if (!box || !L) return;
    const w = st.wallet || {};
    const n = `${L.entrants} ${L.entrants === 1 ? "entrant" : "entrants"}`;
    let html = "";
    if (L.phase === "entries open") {
      if (L.entered) html = `<span class="mm-ok" data-testid="lottery-entered">You are entered.</span><span class="mm-muted">${n}; entries close ${esc(fmtDate(L.entry_deadline))}, then the draw assigns the segments.</span>`;
      else if (w.signedIn) html = `<button type="button" class="mm-btn" data-act="enter">Enter lottery</button><span class="mm-muted">One entry per wallet, until ${esc(fmtDate(L.entry_deadline))} · ${n}.</span>`;
      else html = `<span class="mm-muted">Entries are open until ${esc(fmtDate(L.entry_deadline))} (${n}). Connect your wallet to enter.</span>`;
    } else if (L.phase === "drawn") {
      html = `<span><b>The draw is done</b>${L.entered ? " (you entered)" : ""}.</span><span class="mm-muted">Winners hold their segments` +
        (L.claim_deadline ? ` until ${esc(fmtDate(L.claim_deadline))}` : "") + `; segments nobody won are open to anyone: open one and claim it.</span>`;
    } else {
      html = `<span><b>Entries closed</b> ${esc(fmtDate(L.entry_deadline))}${L.entered ? " (you entered)" : ""}.</span><span class="mm-muted">${n}; waiting for the draw` +
        (L.draw_block ? ` (block ${esc(L.draw_block)})` : "") + `.</span>`;
    }
    if (L.draw_state === "readable" && w.signedIn) {
      html += `<button type="button" class="mm-btn" data-act="draw">Draw (record the seed)</button><span class="mm-muted">` +
        `The winners follow from block ${esc(L.draw_block)}'s hash; recording it makes them final. Anyone may send it, nobody can choose the outcome.</span>`;
    }
    box.innerHTML = html;
    // Waiting for the draw block: look again, so the Draw button appears when it is mined.
    clearTimeout(st.lotteryTimer);
    if (L.draw_state === "waiting" || L.draw_state === "ready to close") st.lotteryTimer = setTimeout(loadLottery, 3000);
  }

  // ---------------------------------------------------------------- timeline
  async function refreshTimeline() {
    if (!st.movie) return;
    try {
      const data = await api(`api/v1/movies/${st.movie.movie_id}/segments`);
      st.cells = data.segments;
      drawTimeline();
      showError("#mm-timeline-error", null);
      if (st.scene) {  // the open scene shows the same segment's new status and buttons
        const fresh = st.cells.find((c) => c.index === st.scene.index);
        if (fresh) { st.scene.cell = fresh; drawActions(); }
      }
    } catch (err) {
      showError("#mm-timeline-error", err);
    }
  }

  function stateLabel(c) {  // an allowlist's or a lottery win's segment is the wallet's to mint at once: no claim
    if (c.state === "rendering" && c.job && c.job.state === "awaiting_signature") return "needs your signature";
    if (c.state === "yours" && c.allowlisted) return "yours to mint (allowlist)";
    if (c.state === "yours" && c.chain_status === "won") return "yours to mint (won in the lottery)";
    if (c.state === "assigned" && c.chain_status === "won") return "won by someone else";
    return STATE_LABEL[c.state] || c.state;
  }

  function cellLabel(c) {
    let s = `Segment ${c.index}${c.title ? ": " + c.title : ""}, ${stateLabel(c)}`;
    if (c.state === "assigned" && c.holder) s += ` (${short(c.holder)})`;
    if (c.state === "minted" && c.holder) s += ` by ${short(c.holder)}`;
    return s;
  }

  // A feature film has ~1,080 segments: the grid holds only the rows in view (and a few either side) in the
  // DOM; a spacer above and one below stand in for the other rows, so the scrollbar, the scroll position, the
  // keyboard and aria-colindex still span every segment. The legend and "yours" count all of them.
  const TL = { cols: 1, rowH: 0, cellH: 0, first: -1, last: -1, n: -1, frame: 0, width: 0 };
  const TL_OVERSCAN = 2;  // rows drawn beyond each edge of the view
  const TL_CELL_MIN = 58;  // minter.css: .mm-grid columns are minmax(58px, 1fr)

  function cellHtml(c, i, movieId, tab) {
    const thumb = c.thumb ? ` style="background-image:url('api/v1/movies/${movieId}/segments/${c.index}/thumb')"` : "";
    const label = esc(cellLabel(c));
    return `<button type="button" class="mm-cell mm-s-${c.state}${c.thumb ? " mm-has-thumb" : ""}" role="gridcell" data-i="${i}" ` +
      `aria-colindex="${i + 1}" tabindex="${i === tab ? 0 : -1}" aria-label="${label}" title="${label}"${thumb}>` +
      `<span class="mm-cell-n" aria-hidden="true">${c.index}</span></button>`;
  }

  // Columns as CSS auto-fill makes them; the row pitch measured from a drawn cell (estimated before one is).
  function tlMeasure() {
    const cs = getComputedStyle(ui.grid);
    const width = ui.grid.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const colGap = parseFloat(cs.columnGap) || 0, rowGap = parseFloat(cs.rowGap) || 0;
    TL.cols = width > 0 ? Math.max(1, Math.floor((width + colGap) / (TL_CELL_MIN + colGap))) : 1;
    TL.width = width;
    const cell = ui.grid.querySelector(".mm-cell");
    const h = cell ? cell.getBoundingClientRect().height : Math.max(24, ((width - colGap * (TL.cols - 1)) / TL.cols) * 9 / 16);
    TL.rowH = h + rowGap;
    TL.cellH = h;
  }

  function drawWindow(force) {
    const n = st.cells.length;
    if (!n || !TL.rowH) return;
    const rows = Math.ceil(n / TL.cols);
    const top = ui.grid.scrollTop, view = ui.grid.clientHeight || 420;
    const first = Math.max(0, Math.floor(top / TL.rowH) - TL_OVERSCAN);
    const last = Math.min(rows - 1, Math.ceil((top + view) / TL.rowH) + TL_OVERSCAN);
    if (!force && first === TL.first && last === TL.last && n === TL.n) return;
    Object.assign(TL, { first, last, n });
    const a = first * TL.cols, b = Math.min(n, (last + 1) * TL.cols);
    const focused = ui.grid.contains(document.activeElement) ? document.activeElement : null;
    // one tab stop: the focused segment when it is drawn, else the first drawn one (focusin adopts it)
    const tab = st.focus >= a && st.focus < b ? st.focus : a;
    const movieId = st.movie.movie_id;
    // a full-width spacer holds the place of the rows not drawn (its own row gap included)
    const gap = TL.rowH - TL.cellH;
    const spacer = (r) => r ? `<div class="mm-grid-spacer" aria-hidden="true" style="height:${r * TL.rowH - gap}px"></div>` : "";
    let html = spacer(first);
    for (let i = a; i < b; i++) html += cellHtml(st.cells[i], i, movieId, tab);
    ui.grid.innerHTML = html + spacer(rows - 1 - last);
    if (focused) {  // keep the keyboard in the grid when the focused cell scrolled out of the drawn rows
      const cell = ui.grid.querySelector(`[data-i="${st.focus}"]`);
      (cell || ui.grid).focus({ preventScroll: true });
    }
  }

  function scheduleWindow() {
    if (TL.frame) return;
    TL.frame = requestAnimationFrame(() => { TL.frame = 0; if (st.movie && st.cells.length) drawWindow(false); });
  }

  function relayout() {  // width changed (window resize, the tab shown): columns and row pitch change
    if (!st.movie || !st.cells.length) return;
    tlMeasure();
    drawWindow(true);
    const measured = TL.rowH;
    tlMeasure();
    if (Math.abs(TL.rowH - measured) > 0.1) drawWindow(true);
  }

  function initTimeline() {
    ui.grid.tabIndex = -1;  // holds the focus while the focused cell is scrolled out of the DOM
    ui.grid.addEventListener("scroll", scheduleWindow, { passive: true });
    ui.grid.addEventListener("focusin", (e) => {
      const cell = e.target.closest(".mm-cell");
      if (cell) st.focus = Number(cell.dataset.i);
    });
    // "Go to segment": a long film is quicker to reach by number than by scrolling
    const jump = $("#mm-jump");
    if (jump) {
      jump.addEventListener("submit", (e) => {
        e.preventDefault();
        const want = Number($("#mm-jump-to").value);
        const i = st.cells.findIndex((c) => c.index === want);
        if (i >= 0) focusCell(i);
      });
    }
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        if (ui.grid.clientWidth && Math.abs(ui.grid.clientWidth - TL.width) > 1) relayout();
      }).observe(ui.grid);
    }
  }

  function drawTimeline() {
    const counts = { open: 0, yours: 0, assigned: 0, rendering: 0, minted: 0 };
    for (const c of st.cells) counts[c.state] = (counts[c.state] || 0) + 1;
    ui.timelineWrap.hidden = false;
    ui.grid.setAttribute("aria-rowcount", "1");
    ui.grid.setAttribute("aria-colcount", String(st.cells.length));
    if (st.focus >= st.cells.length) st.focus = 0;
    tlMeasure();
    if (TL.n !== st.cells.length) ui.grid.innerHTML = "";  // another movie: estimate the pitch afresh
    drawWindow(true);
    const measured = TL.rowH;
    tlMeasure();
    if (Math.abs(TL.rowH - measured) > 0.1) drawWindow(true);
    ui.legend.innerHTML = Object.keys(STATE_LABEL).map((k) =>
      `<span class="mm-legend-item"><span class="mm-swatch mm-s-${k}"></span>${esc(STATE_LABEL[k])} <b>${counts[k] || 0}</b></span>`).join("");
    ui.grid.dataset.count = String(st.cells.length);
    const jump = $("#mm-jump");
    if (jump) {
      jump.hidden = st.cells.length <= 60;  // a screenful needs no jump
      $("#mm-jump-to").max = String(st.cells.length - 1);
    }
    drawYours();
  }

  // Scroll the row of segment i into view (nearest edge) and draw it.
  function revealCell(i) {
    const row = Math.floor(i / TL.cols);
    const top = row * TL.rowH, bottom = top + TL.rowH, view = ui.grid.clientHeight;
    if (top < ui.grid.scrollTop) ui.grid.scrollTop = top;
    else if (bottom + 8 > ui.grid.scrollTop + view) ui.grid.scrollTop = bottom + 8 - view;
    drawWindow(false);
    return ui.grid.querySelector(`[data-i="${i}"]`);
  }

  // "You won segment 12: mint before DATE": the segments reserved for this wallet, with their deadlines.
  function drawYours() {
    const box = $("#mm-yours");
    if (!box) return;
    const verb = st.movie.mint_mode === "lottery" ? "won" : "claimed";
    const mine = st.cells.filter((c) => c.state === "yours");
    const me = (st.wallet && st.wallet.address || "").toLowerCase();
    const sign = st.cells.filter((c) => c.job && c.job.state === "awaiting_signature" && (c.job.wallet || "").toLowerCase() === me);
    box.hidden = mine.length === 0 && sign.length === 0;
    box.innerHTML = mine.slice(0, 20).map((c) =>
      `<div>${c.allowlisted ? "The allowlist gives you" : "You " + verb} segment ${c.index}${c.title ? " (" + esc(c.title) + ")" : ""}` +
      (c.deadline ? `: mint before ${esc(fmtDate(c.deadline))}.` : ".") + `</div>`).join("") +
      (mine.length > 20 ? `<div>…and ${mine.length - 20} more.</div>` : "") +
      sign.map((c) => `<div data-testid="needs-signature"><b>Segment ${c.index} needs your signature</b>: it is rendered and pinned; open it and click Sign to mint.</div>`).join("");
  }

  function focusCell(i) {
    const n = st.cells.length;
    if (!n) return;
    i = Math.max(0, Math.min(n - 1, i));
    const prev = ui.grid.querySelector('[tabindex="0"]');
    if (prev) prev.tabIndex = -1;
    st.focus = i;
    const cell = revealCell(i);
    if (!cell) return;
    cell.tabIndex = 0;
    cell.focus({ preventScroll: true });
  }

  function onGridKey(ev) {
    const cell = ev.target.closest(".mm-cell");
    if (!cell && ev.target !== ui.grid) return;
    const i = cell ? Number(cell.dataset.i) : st.focus;  // the grid itself holds the focus while it scrolled away
    const cols = TL.cols;
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols, PageDown: cols * 5, PageUp: -cols * 5 };
    if (ev.key in moves) { ev.preventDefault(); focusCell(i + moves[ev.key]); }
    else if (ev.key === "Home") { ev.preventDefault(); focusCell(0); }
    else if (ev.key === "End") { ev.preventDefault(); focusCell(st.cells.length - 1); }
    else if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); openScene(i); }
  }

  function onGridClick(ev) {
    const cell = ev.target.closest(".mm-cell");
    if (!cell) return;
    const i = Number(cell.dataset.i);
    focusCell(i);
    openScene(i);
  }

  // ---------------------------------------------------------------- scene
  async function openScene(i) {
    const cell = st.cells[i];
    if (!cell) return;
    const movieId = st.movie.movie_id;
    ui.scene.hidden = false;
    showError("#mm-lottery-msg", null);  // the last action's message belongs to it, not to this scene
    ui.scene.setAttribute("aria-busy", "true");
    ui.sceneBody.innerHTML = `<p class="mm-muted">Loading segment ${cell.index}…</p>`;
    try {
      const scene = await api(`api/v1/movies/${movieId}/segments/${cell.index}`);
      st.scene = Object.assign(scene, { cell });
      drawScene();
      if (cell.job && ACTIVE_JOB.has(cell.job.state)) followJob(cell.job.id);
    } catch (err) {
      ui.sceneBody.innerHTML = `<div class="mm-alert mm-alert-error"></div>`;
      showError(ui.sceneBody.firstChild, err);
    } finally {
      ui.scene.setAttribute("aria-busy", "false");
    }
    ui.scene.scrollIntoView({ block: "nearest", behavior: "smooth" });
    ui.sceneTitle.focus();
  }

  // Zoom is a factor around 1.0 and translation is in pixels: zoom gets its own y-axis on the right,
  // so its curve is not flattened by the translations' range.
  function plotCamera(curves, frames) {
    const moving = curves.filter((c) => c.moves);
    const shown = moving.length ? moving : curves.slice(0, 1);
    const isZoom = (c) => c.key === "zoom";
    const right = shown.some(isZoom) && shown.some((c) => !isZoom(c));
    const W = 560, H = 180, P = 34, PR = right ? 44 : 8;
    const colours = ["#60a5fa", "#f59e0b", "#34d399", "#f472b6", "#a78bfa", "#f87171", "#22d3ee", "#facc15"];
    const range = (cs) => {
      let lo = Infinity, hi = -Infinity;
      cs.forEach((c) => c.values.forEach((v) => { lo = Math.min(lo, v); hi = Math.max(hi, v); }));
      if (hi - lo < 1e-9) { lo -= right && cs.some(isZoom) ? 0.05 : 1; hi += right && cs.some(isZoom) ? 0.05 : 1; }
      return [lo, hi];
    };
    const left = range(shown.filter((c) => !right || !isZoom(c)));
    const rightRange = right ? range(shown.filter(isZoom)) : null;
    const x = (f) => P + (f / Math.max(1, frames - 1)) * (W - P - PR);
    const y = ([lo, hi], v) => 8 + (1 - (v - lo) / (hi - lo)) * (H - P);
    const lines = shown.map((c, k) => {
      const r = right && isZoom(c) ? rightRange : left;
      return `<polyline fill="none" stroke="${colours[k % colours.length]}" stroke-width="2"${right && isZoom(c) ? ' stroke-dasharray="6 3" data-axis="right"' : ' data-axis="left"'} points="${c.values.map((v, f) => x(f).toFixed(1) + "," + y(r, v).toFixed(1)).join(" ")}"><title>${esc(c.label)}: ${esc(c.schedule)}</title></polyline>`;
    }).join("");
    const tick = (xp, yp, anchor, text, cls) => `<text x="${xp}" y="${yp}" text-anchor="${anchor}" class="mm-tick${cls ? " " + cls : ""}">${text}</text>`;
    let axis = `<line x1="${P}" y1="${H - P + 8}" x2="${W - PR}" y2="${H - P + 8}" class="mm-axis"/><line x1="${P}" y1="8" x2="${P}" y2="${H - P + 8}" class="mm-axis"/>` +
      tick(P, H - 6, "start", "0") + tick(W - PR, H - 6, "end", `frame ${frames - 1}`) +
      tick(P - 4, 14, "end", +left[1].toFixed(3)) + tick(P - 4, H - P + 8, "end", +left[0].toFixed(3));
    if (right) {
      axis += `<line x1="${W - PR}" y1="8" x2="${W - PR}" y2="${H - P + 8}" class="mm-axis" data-testid="zoom-axis"/>` +
        tick(W - PR + 4, 14, "start", +rightRange[1].toFixed(3), "mm-tick-zoom") + tick(W - PR + 4, H - P + 8, "start", +rightRange[0].toFixed(3), "mm-tick-zoom") +
        tick(W - 2, H / 2, "end", "zoom", "mm-tick-zoom");
    }
    const legend = shown.map((c, k) => `<span class="mm-legend-item"><span class="mm-swatch" style="background:${colours[k % colours.length]}"></span>${esc(c.label)}${right && isZoom(c) ? " (right axis)" : ""} <code>${esc(c.schedule)}</code></span>`).join("");
    const desc = shown.map((c) => `${c.label} from ${+c.values[0].toFixed(3)} to ${+c.values[c.values.length - 1].toFixed(3)}`).join("; ");
    return `<figure class="mm-plot"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Camera motion over ${frames} frames: ${esc(desc)}" data-testid="camera-plot">${axis}${lines}</svg><figcaption>${legend}</figcaption></figure>`;
  }

  const MODEL_STATE = { ready: ["Present and verified", "ok"], missing: ["Missing", "warn"], unhashed: ["Present, not verified yet", "warn"], refused: ["Refused", "bad"] };

  function drawScene() {
    const s = st.scene;
    const c = s.cell;
    ui.sceneTitle.textContent = `Segment ${s.index}${s.title ? " — " + s.title : ""}`;
    const prompts = s.prompts.map((p) => `<tr><th scope="row">${p.frame}</th><td>${esc(p.prompt)}${p.negative ? `<div class="mm-neg">negative: ${esc(p.negative)}</div>` : ""}</td></tr>`).join("");
    const models = s.models.error ? `<div class="mm-alert mm-alert-error"><strong>${esc(s.models.error.message)}</strong><span class="mm-hint">${esc(s.models.error.hint || "")}</span></div>` :
      `<ul class="mm-models">` + s.models.models.map((m) => {
        const [label, tone] = MODEL_STATE[m.state] || [m.state, "warn"];
        return `<li><span class="mm-badge mm-badge-${tone}">${esc(label)}</span> <b>${esc(m.name)}</b> <span class="mm-muted">${esc(m.kind)}</span>` +
          (m.message && m.state !== "ready" ? `<div class="mm-hint">${esc(m.message)}${m.hint ? " — " + esc(m.hint) : ""}</div>` : "") +
          (m.state === "missing" ? ` <button type="button" class="mm-btn mm-btn-small" data-act="acquire">Download</button>` : "") +
          acquireNote(m.name) + `</li>`;
      }).join("") + `</ul>`;
    const previews = s.previews.length ? `<div class="mm-stills">${s.previews.map((u, k) => `<img src="${esc(u)}" alt="Keyframe preview ${k + 1} of segment ${s.index}" loading="lazy">`).join("")}</div>` :
      `<p class="mm-muted">No preview stills yet.</p>`;
    ui.sceneBody.innerHTML =
      `<p class="mm-status" id="mm-scene-status"></p>` +
      `<div class="mm-cols"><section><h4>Prompts by keyframe</h4><div class="mm-prompts-wrap"><table class="mm-prompts"><thead><tr><th scope="col">Frame</th><th scope="col">Prompt</th></tr></thead><tbody>${prompts}</tbody></table></div>` +
      (s.positive_suffix ? `<p class="mm-muted">Added to every prompt: ${esc(s.positive_suffix)}</p>` : "") +
      `<h4>Negative prompt</h4><p class="mm-neg-main">${esc(s.negative_prompt || "—")}</p></section>` +
      `<section><h4>Camera motion</h4>${plotCamera(s.camera, s.frame_count)}</section></div>` +
      `<div class="mm-cols"><section><h4>Models</h4>${models}</section>` +
      `<section><h4>Keyframe previews</h4>${previews}<button type="button" class="mm-btn mm-btn-small" data-act="previews">Preview keyframes</button></section></div>` +
      `<p class="mm-estimate"><b>Estimated render time:</b> about ${fmtTime(s.estimate.seconds)} <span class="mm-muted">(${esc(s.estimate.basis)})</span></p>` +
      `<div class="mm-actions" id="mm-actions"></div><div id="mm-action-error" class="mm-alert" hidden role="alert"></div>` +
      `<div id="mm-job" class="mm-job" hidden aria-live="polite"></div>`;
    drawActions();
  }

  // What the last Download did for one model: done, or (remote A1111) exactly what to fetch and where.
  function acquireNote(name) {
    const r = (st.scene.acquired || []).find((x) => x.name === name);
    if (!r || (r.ok && r.action !== "manual")) return "";
    return `<div class="mm-hint" data-testid="acquire-result" role="status">${esc(r.message)}${r.hint ? " — " + esc(r.hint) : ""}</div>`;
  }

  function drawStatus() {
    const s = st.scene, c = s.cell;
    const who = c.holder ? (c.mine ? "you" : short(c.holder)) : "nobody";
    $("#mm-scene-status").innerHTML = `<span class="mm-swatch mm-s-${c.state}"></span><b>${esc(stateLabel(c))}</b>` +
      (c.state === "minted" ? ` by ${esc(who)}` : (c.state === "assigned" || c.state === "yours") && c.holder ? ` to ${esc(who)}` + (c.deadline ? ` until ${fmtDate(c.deadline)}` : "") : "") +
      ` · ${s.frame_count} frames at ${s.fps} fps · seed ${esc(s.seed)}`;
  }

  function drawActions() {
    const box = $("#mm-actions");
    if (!box) return;
    drawStatus();
    const s = st.scene, c = s.cell, w = st.wallet || {};
    const job = st.job;
    let html = "";
    if (!w.signedIn) {
      html = c.state === "minted" ? tokenHtml(s) : `<p class="mm-muted">Connect your wallet to claim or mint this segment.</p><button type="button" class="mm-btn mm-btn-primary" data-act="connect-here">Connect wallet</button>`;
    } else if (c.state === "minted") {
      html = tokenHtml(s);
    } else if (job && ACTIVE_JOB.has(job.state)) {
      html = "";
    } else if (c.state === "assigned" && c.allowlisted) {
      html = `<p class="mm-muted">The allowlist reserves this segment for other wallets${c.deadline ? " until " + fmtDate(c.deadline) + "; then it opens to anyone" : ""}.</p>`;
    } else if (c.state === "assigned") {
      html = `<p class="mm-muted">Another wallet holds this segment${c.deadline ? " until " + fmtDate(c.deadline) + "; then it opens again" : ""}.</p>`;
    } else if (c.state === "open" && s.mint_mode === "open") {
      html = `<button type="button" class="mm-btn" data-act="claim">Claim segment ${s.index}</button><span class="mm-muted">Reserves it for you for the claim window, so no one renders it twice.</span>`;
    } else if (c.state === "open" && s.mint_mode === "lottery" && c.chain_status === "open") {
      // after the draw: nobody won it (or the winner's window ran out), so anyone may claim it
      html = `<button type="button" class="mm-btn" data-act="claim">Claim segment ${s.index}</button><span class="mm-muted">Nobody holds this segment after the draw: claim it, then render and mint it.</span>`;
    } else if (c.state === "open" && s.mint_mode === "lottery") {
      const L = st.lottery;
      if (L && L.phase === "entries open" && !L.entered) {
        html = `<button type="button" class="mm-btn" data-act="enter">Enter lottery</button><span class="mm-muted">Winners are drawn from the entrants after ${esc(fmtDate(L.entry_deadline))}.</span>`;
      } else if (L && L.phase === "entries open") {
        html = `<p class="mm-muted">You are entered. The draw after ${esc(fmtDate(L.entry_deadline))} decides who mints this segment.</p>`;
      } else {
        html = `<p class="mm-muted">Entries are closed; the draw decides who mints this segment.</p>`;
      }
    }
    if (w.signedIn && c.state !== "minted" && !(job && ACTIVE_JOB.has(job.state)) && (c.state === "yours" || (c.state === "open" && c.deadline && c.deadline < Date.now() / 1000))) {
      html += `<button type="button" class="mm-btn mm-btn-primary" data-act="render">Render &amp; Mint</button>`;
    }
    if (job && (job.state === "failed" || job.state === "cancelled")) {
      html += `<button type="button" class="mm-btn" data-act="retry">Resume job</button>`;
    }
    box.innerHTML = html;
  }

  // ---------------------------------------------------------------- token view
  // A minted segment: its token (id, owner), the video (whoever minted it), metadata and CIDs with
  // gateway links, the explorer (public chains only), Watch and a share link to this scene.
  const gw = (u) => (!u ? "" : /^https?:/.test(u) ? u : window.mmBase(u));
  function tokenHtml(s) {
    const key = `${s.movie_id}/${s.index}`;
    const t = st.tokens && st.tokens[key];
    if (!t) { loadToken(s.movie_id, s.index); return `<div class="mm-token" data-testid="token"><span class="mm-muted">Reading the token…</span></div>`; }
    if (t.error) return `<div class="mm-token" data-testid="token"><p class="mm-muted">This segment is minted. ${esc(t.error)}</p></div>`;
    const link = (url, text, id) => `<a href="${esc(gw(url))}" target="_blank" rel="noopener" data-testid="${id}">${esc(text)}</a>`;
    const share = window.location.href.split("#")[0] + t.share_path;
    return `<div class="mm-token" data-testid="token">` +
      `<video class="mm-player" controls preload="metadata" src="${esc(gw(t.video_url))}"${t.poster_url ? ` poster="${esc(gw(t.poster_url))}"` : ""} aria-label="Minted video of segment ${t.segment}" data-testid="token-video"></video>` +
      `<dl class="mm-token-facts">` +
      `<dt>Token</dt><dd data-testid="token-id">#${esc(t.token_id)}${t.name ? ` · ${esc(t.name)}` : ""}</dd>` +
      `<dt>Owner</dt><dd data-testid="token-owner" title="${esc(t.owner)}">${esc(t.owner)}${st.wallet.address && st.wallet.address.toLowerCase() === t.owner.toLowerCase() ? " (you)" : ""}</dd>` +
      `<dt>Video</dt><dd>${link(t.video_url, t.video_cid, "token-video-cid")}</dd>` +
      `<dt>Metadata</dt><dd>${link(t.metadata_url, t.metadata_cid, "token-metadata-cid")}</dd>` +
      `</dl><p class="mm-token-links">` +
      (t.explorer_url ? `<a href="${esc(t.explorer_url)}" target="_blank" rel="noopener" data-testid="token-explorer">View on the explorer</a> · ` : "") +
      `<a href="${esc(window.mmBase(t.watch_path))}" target="_blank" rel="noopener" data-testid="token-watch">Watch the movie</a> · ` +
      `<a href="${esc(share)}" data-testid="token-share">Share link</a> <button type="button" class="mm-btn mm-btn-small" data-act="copy-share" data-url="${esc(share)}">Copy</button></p></div>`;
  }

  async function loadToken(movieId, index) {
    st.tokens = st.tokens || {};
    const key = `${movieId}/${index}`;
    if (st.tokens[key] || (st.tokenLoading || (st.tokenLoading = {}))[key]) return;
    st.tokenLoading[key] = true;
    try { st.tokens[key] = await api(`api/v1/ux/movies/${movieId}/segments/${index}/token`); }
    catch (err) { if (err.status !== 404) st.tokens[key] = { error: err.message || String(err) }; }
    finally { delete st.tokenLoading[key]; }
    if (st.scene && st.scene.movie_id === movieId && st.scene.index === index) drawActions();
  }

  // ---------------------------------------------------------------- transactions
  async function waitReceipt(hash) {
    const provider = window.MMWallet;
    for (let k = 0; k < 240; k++) {
      const r = await api(`api/v1/movies/${st.movie.movie_id}/receipt/${hash}`).catch(() => null);
      if (r && r.status !== undefined && r.status !== null) return r;
      await new Promise((res) => setTimeout(res, 500));
    }
    return null;
  }

  async function sendPrepared(action, msg) {
    msg = msg || "#mm-action-error";
    showError(msg, null);
    const s = action === "claim" ? st.scene : { movie_id: st.movie.movie_id, index: null };
    const prepared = action === "draw" ? await api(`api/v1/ux/movies/${s.movie_id}/draw/tx`, { method: "POST" }) :
      await api(`api/v1/movies/${s.movie_id}/tx`, { method: "POST", body: action === "enter" ? { action } : { action, segment: s.index } });
    const what = { claim: "the claim transaction", enter: "the lottery entry", draw: "the draw (recording the seed)" }[action];
    const onCost = (e) => showInfo(msg, `Confirm ${esc(what)} in your wallet. Cost: <b data-testid="tx-cost">${esc(e.detail.cost.text)}</b>.`);
    document.addEventListener("mm-cost", onCost);
    let hash;
    try { hash = await window.MMWallet.sendTransaction(prepared.tx, what); } finally { document.removeEventListener("mm-cost", onCost); }
    const cost = window.MMWallet.state.lastCost;
    showInfo(msg, `Sent: <a href="${explorerTx(hash)}" target="_blank" rel="noopener" data-testid="tx-link">${esc(short(hash))}</a>. Waiting for the receipt…`);
    const receipt = await waitReceipt(hash);
    if (!receipt || !receipt.status) {
      throw Object.assign(new Error(receipt && receipt.message ? receipt.message : "The transaction failed on chain."), { hint: (receipt && receipt.hint) || "Reload the timeline to see who holds the segment now." });
    }
    showInfo(msg, ({ claim: `Segment ${s.index} is yours for the claim window. Click Render &amp; Mint.`, enter: "You are entered in the lottery.",
      draw: "The draw is recorded: the winners are final." })[action] +
      (cost ? ` <span class="mm-muted" data-testid="tx-cost">Cost: ${esc(cost.text)}.</span>` : ""));
    await Promise.all([refreshTimeline(), loadLottery()]);
    if (!st.scene) return;
    const i = st.cells.findIndex((x) => x.index === st.scene.index);
    if (i >= 0) { st.scene.cell = st.cells[i]; drawActions(); }
  }

  function explorerTx(hash) {
    const cfg = window.MMWallet.state.config || {};
    return cfg.explorer_url ? cfg.explorer_url.replace(/\/$/, "") + "/tx/" + hash : "#tx-" + hash;
  }

  // ---------------------------------------------------------------- jobs
  async function startJob() {
    const s = st.scene;
    showError("#mm-action-error", null);
    const { job } = await api("api/v1/jobs", { method: "POST", body: { movie_id: s.movie_id, segment: s.index, wallet: st.wallet.address, manifest_cid: st.movie.manifest_cid } });
    st.job = job;
    drawJob(job, null);
    const box = $("#mm-job");
    if (box) box.scrollIntoView({ block: "center", behavior: "smooth" });
    followJob(job.id);
  }

  function followJob(id) {
    if (st.source) st.source.close();
    const path = `api/v1/jobs/${id}/events`;
    const src = new EventSource(window.mmBase ? window.mmBase(path) : path);
    st.source = src;
    src.addEventListener("state", (e) => {
      const job = JSON.parse(e.data);
      if (!st.job || st.job.state !== job.state) refreshTimeline();  // the cell shows rendering / minted
      st.job = job;
      drawJob(job, st.progress);
      if (job.state === "awaiting_signature" && !job.data._tx_hash && !st.signing && !st.rejected) signMint(job);
      if (job.state === "minted" || job.state === "failed" || job.state === "cancelled") {
        src.close();
        refreshTimeline();  // also redraws the scene's status and actions
      }
    });
    src.addEventListener("progress", (e) => {
      st.progress = JSON.parse(e.data);
      if (st.job) drawJob(st.job, st.progress);
      if (st.progress.stage === "rendering" && st.progress.frame) loadFrame(id, st.progress.frame);
    });
    src.onerror = () => { /* EventSource reconnects by itself; the job keeps running server-side */ };
  }

  // Live preview: the newest frame Deforum has written, fetched when the progress counts a new
  // one (one request at a time; the server sends a small JPEG, cached by frame number).
  async function loadFrame(jobId, frame) {
    const f = st.frame || (st.frame = { job: null, shown: -1, busy: false, img: null, url: null });
    if (f.job !== jobId) Object.assign(f, { job: jobId, shown: -1 });
    if (f.busy || frame - 1 <= f.shown) return;
    f.busy = true;
    try {
      const r = await fetch(window.mmBase(`api/v1/ux/jobs/${jobId}/frame`), { credentials: "same-origin", cache: "no-store" });
      if (r.status !== 200 || f.job !== jobId) return;
      const n = Number(r.headers.get("X-Frame"));
      if (n <= f.shown) return;  // never step back to an older frame
      const blob = await r.blob();
      if (!f.img) {
        f.img = document.createElement("img");
        f.img.className = "mm-frame";
        f.img.setAttribute("data-testid", "live-frame");
      }
      if (f.url) URL.revokeObjectURL(f.url);
      f.url = URL.createObjectURL(blob);
      f.img.src = f.url;
      f.img.dataset.frame = String(n);
      f.img.alt = `Frame ${n + 1} as Deforum wrote it`;
      f.shown = n;
      placeFrame();
    } catch (e) { /* the next progress event tries again */ } finally { f.busy = false; }
  }

  // The preview sits in the job box while the frames are being made (before the video exists).
  function placeFrame() {
    const f = st.frame, box = $("#mm-job");
    if (!f || !f.img || !box || !st.job || f.job !== st.job.id) return;
    const live = ["rendering", "rendered"].includes(st.job.state) && !(st.job.data || {}).encoded;
    if (!live) { f.img.remove(); return; }
    const head = box.querySelector(".mm-job-head");
    if (f.img.parentNode !== box) (head ? head.after(f.img) : box.prepend(f.img));
  }

  function mintTx(job) {
    const d = job.data || {};
    return (d.awaiting_signature && d.awaiting_signature.tx) || null;
  }

  async function signMint(job) {
    const tx = mintTx(job);
    if (!tx) return;
    st.signing = true;
    const box = $("#mm-sign");
    try {
      const onCost = (e) => { st.mintCost = { job: job.id, text: e.detail.cost.text }; drawJob(st.job, st.progress); };
      document.addEventListener("mm-cost", onCost);
      let hash;
      try { hash = await window.MMWallet.sendTransaction(tx, "the mint transaction"); } finally { document.removeEventListener("mm-cost", onCost); }
      await api(`api/v1/jobs/${job.id}/submitted`, { method: "POST", body: { tx_hash: hash } });
      st.txHash = hash;
      st.txJob = job.id;
      drawJob(st.job, st.progress);
    } catch (err) {
      st.rejected = err;
      drawJob(st.job, st.progress);
    } finally {
      st.signing = false;
    }
  }

  function drawJob(job, progress) {
    const box = $("#mm-job");
    if (!box) return;
    box.hidden = false;
    const p = progress && progress.job_id === job.id ? progress : {};
    const frames = !p.frames ? "" : p.stage === "rendering" ? `${p.frame || 0} / ${p.frames} frames` : `${p.frames} frames`;
    const pct = job.state === "minted" ? 100 : job.state === "rendering" && p.frames ? Math.round(100 * (p.frame || 0) / p.frames) :
      ({ queued: 2, models_ready: 5, rendered: 70, encoded: 80, pinned: 88, awaiting_signature: 92 })[job.state] || null;
    const data = job.data || {};
    const mintCost = st.mintCost && st.mintCost.job === job.id ? st.mintCost.text : "";
    const hash = data._tx_hash || (data.minted && data.minted.tx_hash) || (st.txJob === job.id ? st.txHash : null);
    let html = `<div class="mm-job-head"><b data-testid="job-state">${esc(JOB_LABEL[job.state] || job.state)}</b>` +
      (p.stage && ACTIVE_JOB.has(job.state) ? ` <span class="mm-muted" data-testid="job-phase">${esc(PHASE_LABEL[p.phase] || PHASE_LABEL[p.stage] || String(p.phase || p.stage).toLowerCase().replace(/_/g, " "))}</span>` : "") +
      (frames ? ` <span class="mm-muted" data-testid="job-frames">${esc(frames)}</span>` : "") +
      (p.eta !== undefined && p.eta !== null && job.state === "rendering" ? ` <span class="mm-muted" data-testid="job-eta">ETA ${fmtTime(p.eta)}</span>` : "") + `</div>`;
    html += `<div class="mm-progress" role="progressbar" aria-label="Render and mint progress" aria-valuemin="0" aria-valuemax="100" ${pct === null ? "" : `aria-valuenow="${pct}"`}><span style="width:${pct === null ? 8 : pct}%" class="${pct === null ? "mm-indeterminate" : ""}"></span></div>`;
    const video = data.encoded ? `api/v1/movies/${job.movie_id}/segments/${job.segment}/video?job=${job.id}` : null;
    if (video) html += `<video class="mm-player" controls preload="metadata" src="${esc(video)}" aria-label="Preview of the rendered segment"></video>`;
    if (job.state === "awaiting_signature" && !hash) {
      if (st.rejected) {
        html += `<div class="mm-alert mm-alert-error" role="alert"><strong>${esc(st.rejected.message)}</strong><span class="mm-hint">The video is rendered and pinned; nothing will be rendered again. ${esc(st.rejected.hint || "")}</span></div>`;
      } else {
        html += `<p class="mm-muted">Check your wallet: sign the mint transaction.${mintCost ? ` Cost: <b data-testid="tx-cost">${esc(mintCost)}</b>.` : ""}</p>`;
      }
      html += `<button type="button" class="mm-btn mm-btn-primary" data-act="sign">Sign to mint</button>`;
    }
    if (hash) html += `<p>${mintCost ? `Cost: <span data-testid="tx-cost">${esc(mintCost)}</span> · ` : ""}Transaction <a href="${esc(explorerTx(hash))}" target="_blank" rel="noopener" data-testid="mint-tx">${esc(hash)}</a></p>`;
    if (job.state === "minted") {
      html += `<p class="mm-ok" data-testid="minted">Minted${data.minted && data.minted.block ? ` in block ${esc(data.minted.block)}` : ""} — the receipt is confirmed and the timeline is updated.</p>`;
    }
    if (job.state === "failed" && job.error) {
      html += `<div class="mm-alert mm-alert-error" role="alert"><strong>${esc(job.error.message)}</strong>${job.error.hint ? `<span class="mm-hint">${esc(job.error.hint)}</span>` : ""}</div>`;
    }
    if (ACTIVE_JOB.has(job.state) && !hash) html += `<button type="button" class="mm-btn mm-btn-ghost" data-act="cancel">Cancel</button>`;
    const keep = st.frame && st.frame.img;  // keep the preview element (no flicker): re-placed below
    if (keep && keep.parentNode === box) keep.remove();
    box.innerHTML = html;
    placeFrame();
    drawActions();
  }

  // ---------------------------------------------------------------- scene actions
  async function onSceneClick(ev) {
    const btn = ev.target.closest("button[data-act]");
    if (!btn || btn.disabled) return;
    const act = btn.dataset.act;
    const s = st.scene;
    btn.disabled = true;
    try {
      if (act === "copy-share") { await navigator.clipboard.writeText(btn.dataset.url).catch(() => {}); btn.textContent = "Copied"; }
      else if (act === "connect-here") await onWalletClick({ target: ui.wallet.querySelector("button") });
      else if (act === "claim" || act === "enter") await sendPrepared(act);
      else if (act === "render") await startJob();
      else if (act === "sign") { st.rejected = null; await signMint(st.job); }
      else if (act === "cancel") { st.job = await api(`api/v1/jobs/${st.job.id}/cancel`, { method: "POST" }); drawJob(st.job, st.progress); }
      else if (act === "retry") { st.job = await api(`api/v1/jobs/${st.job.id}/retry`, { method: "POST" }); st.rejected = null; drawJob(st.job, null); followJob(st.job.id); }
      else if (act === "previews") {
        btn.textContent = "Rendering previews…";
        const r = await api(`api/v1/movies/${s.movie_id}/segments/${s.index}/previews`, { method: "POST" });
        s.previews = r.previews; drawScene(); refreshTimeline();
      } else if (act === "acquire") {
        btn.textContent = "Downloading…";
        const r = await api(`api/v1/movies/${s.movie_id}/segments/${s.index}/models/acquire`, { method: "POST" });
        s.models = r.models; s.acquired = r.results; drawScene();
      }
    } catch (err) {
      showError("#mm-action-error", err);
      if (act === "claim" || act === "enter") {  // someone may have been faster: show the segment as it is now
        await Promise.all([refreshTimeline(), loadLottery()]);
        const i = st.cells.findIndex((x) => x.index === s.index);
        if (i >= 0) { st.scene.cell = st.cells[i]; drawActions(); }
      }
    } finally {
      if (document.body.contains(btn)) btn.disabled = false;
    }
  }

  async function onHeadClick(ev) {
    const btn = ev.target.closest("button[data-act='enter'], button[data-act='draw']");
    if (!btn || btn.disabled) return;
    btn.disabled = true;
    try { await sendPrepared(btn.dataset.act, "#mm-lottery-msg"); }
    catch (err) { showError("#mm-lottery-msg", err); loadLottery(); }
    finally { if (document.body.contains(btn)) btn.disabled = false; }
  }

  // ---------------------------------------------------------------- lists: movies, my work, my share
  // Discovery (movies with segments left to mint, from the chain's MovieCreated / SegmentMinted logs),
  // "my segments and jobs" across movies for the signed-in wallet, and its minters'-pool revenue share.
  // Deadlines count down in chain time: the server's `now` and the browser clock give the offset.
  const KIND = {
    sign: ["Needs your signature", "mm-badge-warn", "Rendered and pinned: sign the mint transaction."],
    render: ["Yours to render", "mm-badge-ok", ""],
    retry: ["Failed", "mm-badge-bad", "Open it and click Resume job."],
    running: ["In progress", "mm-badge-info", ""],
    minted: ["Minted", "mm-badge-done", ""],
  };
  const PHASE = { "entries open": "Lottery entries open", drawing: "Lottery closed, drawing", "entries closed": "Lottery entries closed",
    drawn: "Lottery drawn: winners render", "drawn, leftovers open": "Lottery drawn: leftovers open to anyone",
    "allowlist reserved": "Reserved for the allowlist", open: "Open to anyone", finished: "Every segment is minted" };
  const lists = { catalogPage: 1, minePage: 1, all: false, skew: 0, timer: null };

  const chainNow = () => Math.floor(Date.now() / 1000) + lists.skew;
  function left(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
  }
  function countdownText(deadline) {
    const s = Number(deadline) - chainNow();
    return s > 0 ? `in ${left(s)}` : "passed";
  }
  const countdown = (deadline, verb) => `<span class="mm-when">${esc(verb)} ${esc(fmtDate(deadline))} ` +
    `(<span class="mm-countdown" data-deadline="${Number(deadline)}" data-testid="countdown">${esc(countdownText(deadline))}</span>)</span>`;
  function tickCountdowns() {
    if (!root) return;
    root.querySelectorAll(".mm-countdown[data-deadline]").forEach((el) => { el.textContent = countdownText(el.dataset.deadline); });
  }

  function pager(name, data) {
    if (data.pages <= 1) return "";
    return `<nav class="mm-pager" aria-label="${esc(name)} pages"><button type="button" class="mm-btn mm-btn-small" data-page="${data.page - 1}" ${data.page <= 1 ? "disabled" : ""}>Previous</button>` +
      `<span class="mm-muted">Page ${data.page} of ${data.pages}</span>` +
      `<button type="button" class="mm-btn mm-btn-small" data-page="${data.page + 1}" ${data.page >= data.pages ? "disabled" : ""}>Next</button></nav>`;
  }

  async function loadCatalog() {
    const box = $("#mm-catalog-list");
    if (!box) return;
    try {
      const data = await api(`api/v1/ux/catalog?page=${lists.catalogPage}${lists.all ? "&all=true" : ""}`);
      lists.skew = data.now - Math.floor(Date.now() / 1000);
      showError("#mm-catalog-error", null);
      if (!data.movies.length && data.page > 1) { lists.catalogPage = data.pages; return loadCatalog(); }
      box.innerHTML = data.movies.length ? `<ul class="mm-rows">` + data.movies.map((m) => {
        const pct = m.segment_count ? Math.round(100 * m.minted / m.segment_count) : 0;
        const when = m.deadline ? countdown(m.deadline, m.phase === "entries open" ? "until" : "winners mint until") : "";
        return `<li><button type="button" class="mm-row" data-movie="${m.movie_id}" data-testid="catalog-movie" aria-label="Open movie ${m.movie_id}: ${esc(m.title)}">` +
          `<span class="mm-row-main"><b class="mm-row-title">${esc(m.title)}</b> <span class="mm-muted">#${m.movie_id}</span></span>` +
          `<span class="mm-row-facts"><span class="mm-badge mm-badge-mode">${esc(m.mint_mode)}</span>` +
          `<span data-testid="catalog-minted">${m.minted} / ${m.segment_count} minted</span>` +
          `<span class="mm-minibar" aria-hidden="true"><span style="width:${pct}%"></span></span></span>` +
          `<span class="mm-row-phase" data-testid="catalog-phase">${esc(PHASE[m.phase] || m.phase)}` +
          (m.entrants !== null && m.entrants !== undefined && m.phase === "entries open" ? ` · ${m.entrants} ${m.entrants === 1 ? "entrant" : "entrants"}` : "") +
          (when ? ` · ${when}` : "") + `</span></button></li>`;
      }).join("") + `</ul>` : `<p class="mm-muted">${lists.all ? "No movie is published on this contract yet." : "No movie has segments left to mint right now."}</p>`;
      box.insertAdjacentHTML("beforeend", pager("Movie list", data));
      box.dataset.total = String(data.total);
    } catch (err) {
      box.innerHTML = "";
      showError("#mm-catalog-error", err);
    }
  }

  function workRow(r) {
    const [label, tone, note] = KIND[r.kind];
    let detail = note;
    if (r.kind === "render") {
      detail = ({ won: "You won it in the lottery", allowlisted: "The allowlist gives it to you" }[r.chain_status] || "You claimed it") +
        (r.deadline ? `: render &amp; mint ${countdown(r.deadline, "before")}` : ": render &amp; mint it");
    } else if (r.kind === "retry" && r.job) {
      detail = r.job.state === "cancelled" ? "Cancelled. Open it and click Resume job." : `${esc((r.job.error && r.job.error.message) || "The job stopped.")} Open it and click Resume job.`;
    } else if (r.kind === "running" && r.job) {
      detail = esc(JOB_LABEL[r.job.state] || r.job.state);
    } else detail = esc(detail);
    const title = r.kind === "retry" && r.job && r.job.state === "cancelled" ? "Cancelled" : label;
    // The row's name says what it is, not a button's words ("Render & Mint" is the scene's button).
    const name = `${title}: ${r.title}, movie ${r.movie_id}, segment ${r.segment}` + (r.kind === "render" && r.deadline ? `, until ${fmtDate(r.deadline)}` : "");
    return `<li><button type="button" class="mm-row mm-row-${r.kind}" data-movie="${r.movie_id}" data-segment="${r.segment}"${r.job ? ` data-job="${r.job.id}"` : ""} data-testid="work-${r.kind}" aria-label="${esc(name)}">` +
      `<span class="mm-row-main"><span class="mm-badge ${tone}">${esc(title)}</span> <b>${esc(r.title)}</b> <span class="mm-muted">#${r.movie_id} · segment ${r.segment}</span></span>` +
      `<span class="mm-row-phase">${detail}</span></button></li>`;
  }

  async function loadMine() {
    const card = $("#mm-mine"), box = $("#mm-mine-list");
    if (!card) return;
    if (!(st.wallet && st.wallet.signedIn)) { card.hidden = true; return; }
    card.hidden = false;
    try {
      const data = await api(`api/v1/ux/my-work?page=${lists.minePage}`);
      lists.skew = data.now - Math.floor(Date.now() / 1000);
      showError("#mm-mine-error", null);
      const head = $("#mm-mine-count");
      head.textContent = data.needs_action ? `${data.needs_action} need${data.needs_action === 1 ? "s" : ""} your action` : "";
      box.innerHTML = data.items.length ? `<ul class="mm-rows">${data.items.map(workRow).join("")}</ul>` + pager("My segments and jobs", data) :
        `<p class="mm-muted">Nothing yet: open a movie, claim or win a segment, then Render &amp; Mint it.</p>`;
    } catch (err) {
      box.innerHTML = "";
      showError("#mm-mine-error", err);
    }
  }

  // A row opens its movie and scene; a failed or cancelled job shows in the scene with Resume job.
  async function openWork(movieId, segment, jobId) {
    if (!st.movie || st.movie.movie_id !== movieId) {
      ui.ref.value = String(movieId);
      await openMovie(String(movieId));
    } else await refreshTimeline();
    const i = st.cells.findIndex((c) => c.index === segment);
    if (i < 0) return;
    focusCell(i);
    st.job = null;
    st.rejected = null;
    await openScene(i);
    const cell = st.cells[i];
    if (jobId && !(cell.job && ACTIVE_JOB.has(cell.job.state)) && cell.state !== "minted") {
      try {
        const job = await api(`api/v1/jobs/${jobId}`);
        if (job.state === "failed" || job.state === "cancelled") { st.job = job; drawJob(job, null); }
      } catch (err) { showError("#mm-action-error", err); }
    }
  }

  // ---- the revenue share: claim the segment tokens' share into the balance, then withdraw it
  async function loadShare() {
    const card = $("#mm-share"), box = $("#mm-share-body");
    if (!card) return;
    if (!(st.wallet && st.wallet.signedIn)) { card.hidden = true; return; }
    card.hidden = false;
    const eth = window.MMWallet.formatEth;
    try {
      const r = await api("api/v1/ux/revenue");
      lists.share = r;
      const claimable = BigInt(r.claimable_wei), withdrawable = BigInt(r.withdrawable_wei);
      box.innerHTML =
        `<div class="mm-share-line"><span>Share of ticket sales your ${r.segments_held === 1 ? "segment token" : r.segments_held + " segment tokens"} can claim: ` +
        `<b data-testid="share-claimable">${esc(eth(r.claimable_wei))}</b></span>` +
        `<button type="button" class="mm-btn" data-act="share-claim" ${claimable > 0n ? "" : "disabled"}>Collect my share</button></div>` +
        `<div class="mm-share-line"><span>Withdrawable to your wallet: <b data-testid="share-withdrawable">${esc(eth(r.withdrawable_wei))}</b></span>` +
        `<button type="button" class="mm-btn mm-btn-primary" data-act="share-withdraw" ${withdrawable > 0n ? "" : "disabled"}>Withdraw</button></div>`;
      showError("#mm-share-error", null);
    } catch (err) {
      box.innerHTML = "";
      showError("#mm-share-error", err);
    }
  }

  async function txStatus(hash) {
    for (let k = 0; k < 240; k++) {
      const r = await api(`api/v1/tx/${hash}`).catch(() => null);
      if (r && r.status !== "pending") return r;
      await new Promise((res) => setTimeout(res, 500));
    }
    return null;
  }

  async function sendShare(action) {
    const msg = "#mm-share-msg";
    showError(msg, null);
    const eth = window.MMWallet.formatEth;
    const prepared = await api(`api/v1/ux/revenue/${action}/tx`, { method: "POST" });
    const what = action === "claim" ? "collecting your segment tokens' share" : "the withdrawal";
    const amount = eth(prepared.amount_wei);
    const onCost = (e) => showInfo(msg, `Confirm ${esc(what)} (${esc(amount)}) in your wallet. Cost: <b data-testid="tx-cost">${esc(e.detail.cost.text)}</b>.`);
    document.addEventListener("mm-cost", onCost);
    let hash;
    try { hash = await window.MMWallet.sendTransaction(prepared.tx, what); } finally { document.removeEventListener("mm-cost", onCost); }
    const cost = window.MMWallet.state.lastCost;
    showInfo(msg, `Sent: <a href="${explorerTx(hash)}" target="_blank" rel="noopener" data-testid="tx-link">${esc(short(hash))}</a>. Waiting for the receipt…`);
    const r = await txStatus(hash);
    if (!r || r.status !== "success") {
      throw Object.assign(new Error((r && r.error) || "The transaction failed on chain."), { hint: (r && r.hint) || "Reload the balances and try again." });
    }
    showInfo(msg, (action === "claim" ? `Collected <b data-testid="share-done">${esc(amount)}</b> into your withdrawable balance.` :
      `Withdrew <b data-testid="share-done">${esc(amount)}</b> to your wallet.`) +
      (cost ? ` <span class="mm-muted">Cost: <span data-testid="tx-cost">${esc(cost.text)}</span>.</span>` : ""));
    await loadShare();
  }

  async function onListsClick(ev) {
    const btn = ev.target.closest("button");
    if (!btn || btn.disabled) return;
    const list = btn.closest("[data-list]");
    if (!list) return;
    const which = list.dataset.list;
    if (btn.dataset.page) {
      if (which === "catalog") { lists.catalogPage = Number(btn.dataset.page); loadCatalog(); }
      else { lists.minePage = Number(btn.dataset.page); loadMine(); }
      return;
    }
    if (btn.dataset.act === "lists-refresh") return which === "catalog" ? loadCatalog() : which === "mine" ? loadMine() : loadShare();
    if (btn.dataset.act === "share-claim" || btn.dataset.act === "share-withdraw") {
      btn.disabled = true;
      try { await sendShare(btn.dataset.act === "share-claim" ? "claim" : "withdraw"); }
      catch (err) { showInfo("#mm-share-msg", ""); showError("#mm-share-msg", err); loadShare(); }
      finally { if (document.body.contains(btn)) btn.disabled = false; }
      return;
    }
    if (btn.dataset.movie) {
      const movieId = Number(btn.dataset.movie);
      if (which === "catalog") {
        ui.ref.value = String(movieId);
        await openMovie(String(movieId));
      } else {
        await openWork(movieId, Number(btn.dataset.segment), btn.dataset.job ? Number(btn.dataset.job) : null);
      }
      if (!ui.movieHead.hidden) ui.movieHead.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }

  function mountLists() {
    ["#mm-catalog", "#mm-mine", "#mm-share"].forEach((sel) => { const el = $(sel); if (el) el.addEventListener("click", onListsClick); });
    const all = $("#mm-catalog-all");
    if (all) all.addEventListener("change", () => { lists.all = all.checked; lists.catalogPage = 1; loadCatalog(); });
    let signedIn = null;  // reload the wallet's lists when it signs in or out, not on every wallet event
    document.addEventListener("mm-wallet", (e) => {
      const now = e.detail && e.detail.signedIn ? e.detail.address : null;
      if (now === signedIn) return;
      signedIn = now;
      lists.minePage = 1;
      loadMine();
      loadShare();
    });
    const close = $("#mm-scene-close");  // back from a scene: its job may have moved on
    if (close) close.addEventListener("click", () => { if (st.wallet && st.wallet.signedIn) loadMine(); });
    lists.timer = setInterval(tickCountdowns, 1000);
  }

  // The movie list reads the chain: only once the app's chain config loaded (else the wallet bar
  // already explains what is missing, and the list would only repeat it).
  function listsReady() {
    if (window.MMWallet.state.config) return loadCatalog();
    const box = $("#mm-catalog-list");
    if (box) box.innerHTML = `<p class="mm-muted">The movie list appears once the app reaches its chain (see the message above).</p>`;
  }

  // ---------------------------------------------------------------- mount
  function mount(element) {
    root = element.querySelector(".mm-root") || element;
    if (root.dataset.mounted) return;
    root.dataset.mounted = "1";
    ui.wallet = $("#mm-wallet");
    ui.walletMenu = $("#mm-wallet-menu");
    ui.recent = $("#mm-recent");
    ui.openBtn = $("#mm-open");
    ui.ref = $("#mm-ref");
    ui.movieHead = $("#mm-movie");
    ui.timelineWrap = $("#mm-timeline");
    ui.grid = $("#mm-grid");
    ui.legend = $("#mm-legend");
    ui.scene = $("#mm-scene");
    ui.sceneTitle = $("#mm-scene-title");
    ui.sceneBody = $("#mm-scene-body");

    ui.wallet.addEventListener("click", onWalletClick);
    ui.walletMenu.addEventListener("click", onWalletClick);
    ui.walletMenu.addEventListener("keydown", (e) => { if (e.key === "Escape") { ui.walletMenu.hidden = true; ui.wallet.querySelector("button").focus(); } });
    $("#mm-load").addEventListener("submit", (e) => { e.preventDefault(); openMovie(ui.ref.value); });
    ui.recent.addEventListener("click", (e) => { const b = e.target.closest("[data-ref]"); if (b) { ui.ref.value = b.dataset.ref; openMovie(b.dataset.ref); } });
    ui.grid.addEventListener("click", onGridClick);
    ui.grid.addEventListener("keydown", onGridKey);
    initTimeline();
    ui.movieHead.addEventListener("click", onHeadClick);
    ui.sceneBody.addEventListener("click", onSceneClick);
    $("#mm-scene-close").addEventListener("click", () => { ui.scene.hidden = true; if (st.source) st.source.close(); st.job = null; focusCell(st.focus); });
    document.addEventListener("mm-wallet", (e) => { renderWallet(e.detail); if (st.scene && ui.scene && !ui.scene.hidden) drawActions(); });

    window.MMWallet.config().catch((err) => { st.configError = err; }).then(() => { renderWallet(window.MMWallet.state); listsReady(); });
    loadRecent();
    mountLists();
    const m = /movie=([^&]+)/.exec(window.location.hash || "");
    const seg = /segment=(\d+)/.exec(window.location.hash || "");  // a shared token link opens its scene
    if (m) { ui.ref.value = decodeURIComponent(m[1]); openMovie(ui.ref.value).then(() => { if (seg && st.movie) openScene(Number(seg[1])); }); }
    root.dataset.ready = "1";
  }

  window.MMMinter = { mount, openMovie, refreshTimeline, state: st, loadCatalog, loadMine, loadShare };
})();
