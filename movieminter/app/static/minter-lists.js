/* The Movie Minter tab, part 5: the lists: movies to mint in, my segments and jobs, my revenue share. */
(function () {
  "use strict";
  const T = window.MMTab;
  const { $, esc, fmtDate, st, ui, api, showError, showInfo } = T;  // part 1's helpers (loaded first)

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
    take: ["Take recorded", "mm-badge-info", ""],
    take_won: ["Your take won", "mm-badge-warn", ""],
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
    if (!T.root) return;
    T.root.querySelectorAll(".mm-countdown[data-deadline]").forEach((el) => { el.textContent = countdownText(el.dataset.deadline); });
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
    } else if (r.kind === "take" || r.kind === "take_won") {
      detail = r.kind === "take_won" ? `Take ${r.take + 1} won ballot ${r.ballot}: open it and click Mint winning take.` :
        r.winner === null ? `Take ${r.take + 1} is in ballot ${r.ballot}: the vote decides.` : `Take ${r.winner + 1} won ballot ${r.ballot}.`;
    } else if (r.kind === "running" && r.job) {
      detail = esc(T.JOB_LABEL[r.job.state] || r.job.state);
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
      await T.openMovie(String(movieId));
    } else await T.refreshTimeline();
    const i = st.cells.findIndex((c) => c.index === segment);
    if (i < 0) return;
    T.focusCell(i);
    st.job = null;
    st.rejected = null;
    await T.openScene(i);
    const cell = st.cells[i];
    if (jobId && !(cell.job && T.ACTIVE_JOB.has(cell.job.state)) && cell.state !== "minted") {
      try {
        const job = await api(`api/v1/jobs/${jobId}`);
        if (job.state === "failed" || job.state === "cancelled") { st.job = job; T.drawJob(job, null); }
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
        `<button type="button" class="mm-btn mm-btn-primary" data-act="share-withdraw" ${withdrawable > 0n ? "" : "disabled"}>Withdraw</button></div>` +
        (r.passes ? passLines(r.passes) : "");
      showError("#mm-share-error", null);
    } catch (err) {
      box.innerHTML = "";
      showError("#mm-share-error", err);
    }
  }

  // Season-pass sales (Community): collect them into the segments' pool, claim the tokens' part, withdraw.
  function passLines(p) {
    const eth = window.MMWallet.formatEth, on = (wei) => (BigInt(wei) > 0n ? "" : "disabled");
    return `<div class="mm-share-passes" data-testid="pass-share"><h4 class="mm-h">Season passes</h4>` +
      (BigInt(p.uncollected_wei) > 0n ? `<div class="mm-share-line"><span>Pass sales not yet in the pool, your segments' part: ` +
        `<b data-testid="pass-uncollected">${esc(eth(p.uncollected_wei))}</b></span>` +
        `<button type="button" class="mm-btn" data-act="pass-collect">Collect pass sales</button></div>` : "") +
      `<div class="mm-share-line"><span>Share of pass sales your segment tokens can claim: <b data-testid="pass-claimable">${esc(eth(p.claimable_wei))}</b></span>` +
      `<button type="button" class="mm-btn" data-act="pass-claim" ${on(p.claimable_wei)}>Claim my pass share</button></div>` +
      `<div class="mm-share-line"><span>Pass revenue withdrawable to your wallet: <b data-testid="pass-withdrawable">${esc(eth(p.withdrawable_wei))}</b></span>` +
      `<button type="button" class="mm-btn mm-btn-primary" data-act="pass-withdraw" ${on(p.withdrawable_wei)}>Withdraw pass revenue</button></div></div>`;
  }

  async function txStatus(hash, community) {
    for (let k = 0; k < 240; k++) {
      const r = await api(`api/v1/${community ? "community/" : ""}tx/${hash}`).catch(() => null);
      if (r && r.status !== "pending") return r;
      await new Promise((res) => setTimeout(res, 500));
    }
    return null;
  }

  async function sendShare(action) {
    const msg = "#mm-share-msg";
    showError(msg, null);
    const eth = window.MMWallet.formatEth;
    const pass = action.startsWith("pass-"), act = action.replace("pass-", "");
    const prepared = await api(`api/v1/ux/revenue/${pass ? "passes/" : ""}${act}/tx`, { method: "POST" });
    const what = { claim: "collecting your segment tokens' share", withdraw: "the withdrawal", "pass-collect": "collecting the pass sales into the pool",
      "pass-claim": "claiming your segment tokens' pass share", "pass-withdraw": "the pass revenue withdrawal" }[action];
    const amount = eth(prepared.amount_wei);
    const { hash, cost } = await T.sendSigned(prepared.tx, what, msg, amount);
    const r = await txStatus(hash, pass);
    if (!r || r.status !== "success") {
      throw Object.assign(new Error((r && r.error) || "The transaction failed on chain."), { hint: (r && r.hint) || "Reload the balances and try again." });
    }
    const done = `<b data-testid="share-done">${esc(amount)}</b>`;
    showInfo(msg, ({ withdraw: `Withdrew ${done} to your wallet.`, "pass-withdraw": `Withdrew ${done} to your wallet.`,
      "pass-collect": `Collected the pass sales: ${done} more for your segments to claim.` }[action] ||
      `Collected ${done} into your withdrawable balance.`) +
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
    const share = { "share-claim": "claim", "share-withdraw": "withdraw", "pass-collect": "pass-collect", "pass-claim": "pass-claim", "pass-withdraw": "pass-withdraw" }[btn.dataset.act];
    if (share) {
      btn.disabled = true;
      try { await sendShare(share); }
      catch (err) { showInfo("#mm-share-msg", ""); showError("#mm-share-msg", err); loadShare(); }
      finally { if (document.body.contains(btn)) btn.disabled = false; }
      return;
    }
    if (btn.dataset.movie) {
      const movieId = Number(btn.dataset.movie);
      if (which === "catalog") {
        ui.ref.value = String(movieId);
        await T.openMovie(String(movieId));
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

  Object.assign(T, { loadCatalog, loadMine, loadShare, mountLists, listsReady });
})();
