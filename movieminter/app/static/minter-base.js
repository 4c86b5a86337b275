/* The Movie Minter tab, part 1 of 6 (loaded by minter.js): shared state and helpers, notices, the wallet bar,
 * the movie loader and the lottery card. The parts share window.MMTab. */
(function () {
  "use strict";
  const T = (window.MMTab = window.MMTab || {});

  const STATE_LABEL = { open: "open", yours: "yours to claim", assigned: "assigned to someone else", rendering: "rendering", minted: "minted" };
  const JOB_LABEL = { queued: "Queued", models_ready: "Models ready", rendering: "Rendering frames", rendered: "Frames rendered",
    encoded: "Video encoded", pinned: "Pinned to IPFS", awaiting_signature: "Waiting for your signature", minted: "Minted", take_recorded: "Take recorded",
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

  T.root = null;
  const ui = {};
  const st = { movie: null, cells: [], focus: 0, scene: null, job: null, source: null, wallet: {}, busy: false, configError: null };

  function $(sel) { return T.root.querySelector(sel); }
  const api = (path, opts) => window.MMWallet.api(path, opts);

  // ---------------------------------------------------------------- notices
  function showError(where, err) {
    const box = typeof where === "string" ? $(where) : where;
    if (!box) return;
    if (!err) { box.hidden = true; box.innerHTML = ""; return; }
    box.hidden = false;
    box.className = "mm-alert mm-alert-error";
    box.innerHTML = `<strong>${esc(humanTimes(err.message || err))}</strong>${err.hint ? `<span class="mm-hint">${esc(humanTimes(err.hint))}</span>` : ""}` +
      problemList(((err.body && err.body.detail && err.body.detail.details) || {}).problems);
  }
  // A manifest's problems (ManifestError): where each is (JSON pointer), what is wrong, how to fix it.
  function problemList(probs) {
    if (!Array.isArray(probs) || !probs.length) return "";
    const shown = probs.slice(0, 12).map((p) =>
      `<li><code>${esc(p.pointer || "/")}</code> ${esc(p.message)}${p.hint ? ` <em>${esc(p.hint)}</em>` : ""}</li>`).join("");
    return `<ul class="mm-problems" data-testid="manifest-problems">${shown}${probs.length > 12 ? `<li>… and ${probs.length - 12} more</li>` : ""}</ul>`;
  }
  function showInfo(where, html) {
    const box = typeof where === "string" ? $(where) : where;
    if (!box) return;
    box.hidden = !html;
    box.className = "mm-alert mm-alert-info";
    box.innerHTML = html || "";
  }

  // ---------------------------------------------------------------- transactions
  function explorerTx(hash) {
    const cfg = window.MMWallet.state.config || {};
    return cfg.explorer_url ? cfg.explorer_url.replace(/\/$/, "") + "/tx/" + hash : "#tx-" + hash;
  }

  // The wallet signs and sends `tx` while `where` shows what it costs (`amount`: what it moves, if any), then
  // links the sent transaction. Returns its hash and the cost paid; waiting for the receipt is the caller's.
  async function sendSigned(tx, what, where, amount) {
    const onCost = (e) => showInfo(where, `Confirm ${esc(what)}${amount ? ` (${esc(amount)})` : ""} in your wallet. Cost: <b data-testid="tx-cost">${esc(e.detail.cost.text)}</b>.`);
    document.addEventListener("mm-cost", onCost);
    let hash;
    try { hash = await window.MMWallet.sendTransaction(tx, what); } finally { document.removeEventListener("mm-cost", onCost); }
    const cost = window.MMWallet.state.lastCost;
    showInfo(where, `Sent: <a href="${explorerTx(hash)}" target="_blank" rel="noopener" data-testid="tx-link">${esc(short(hash))}</a>. Waiting for the receipt…`);
    return { hash, cost };
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
    if (st.movie) { T.refreshTimeline(); loadLottery(); }
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
      const watch = T.root.querySelector("#mm-watch-link");
      if (watch) watch.setAttribute("href", "watch/?movie=" + m.movie_id);
      await Promise.all([T.refreshTimeline(), loadLottery()]);
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
    if (st.scene && ui.scene && !ui.scene.hidden) T.drawActions();
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

  Object.assign(T, { STATE_LABEL, JOB_LABEL, PHASE_LABEL, ACTIVE_JOB, esc, short, fmtDate, fmtTime, ui, st, $, api, showError, showInfo, explorerTx, sendSigned, renderWallet, onWalletClick, loadRecent, openMovie, loadLottery });
})();
