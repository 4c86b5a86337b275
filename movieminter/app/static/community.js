/* Community UI (contracts/Community.sol, docs/community.md), on three pages:
 * - the Minter tab: "Your collectives' movies" first in the movie loader, and the opened movie's community card
 *   (season pass, ballots); minter.js announces an opened movie with the `mm-movie` event.
 * - the Watch page: the same community card for the movie on screen.
 * - the Studio: the director's (or leader's) review of minted segments: approve, or reject with a reason.
 * The server prepares each transaction (api/v1/community/...); the browser wallet (wallet.js) signs and sends
 * it, after the page shows what it costs (the exact ETH from wei, plus gas). Amounts are BigInt, never floats.
 */
(function () {
  "use strict";
  if (window.MMCommunity) return;

  const esc = (s) => String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const short = (a) => (a ? a.slice(0, 6) + "…" + a.slice(-4) : "—");
  const eth = (wei) => window.MMWallet.formatEth(wei);  // exact decimals from wei
  const when = (t) => new Date(Number(t) * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  const api = (path, opts) => window.MMWallet.api(path, opts);
  const url = (u) => (/^[a-z]+:/i.test(u) ? u : window.mmBase(u));
  const signedIn = () => window.MMWallet && window.MMWallet.state.signedIn;
  const me = () => (signedIn() ? window.MMWallet.state.address.toLowerCase() : "");
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  function say(box, html, kind) {
    if (!box) return;
    box.hidden = !html;
    box.dataset.kind = kind || "info";
    box.className = "mm-community-msg mm-alert " + (kind === "error" ? "mm-alert-error" : "mm-alert-info");
    box.innerHTML = html || "";
  }
  function sayError(box, err) {
    say(box, `<strong>${esc((err && err.message) || err)}</strong>${err && err.hint ? ` <span class="mm-hint">${esc(err.hint)}</span>` : ""}`, "error");
  }

  // Prepare on the server -> the wallet signs (the cost is shown first) -> the receipt, Community errors decoded.
  async function send(path, body, what, box) {
    say(box, `Preparing ${esc(what)}…`);
    const prepared = await api(path, { method: "POST", body: body || {} });
    const onCost = (e) => say(box, `Confirm ${esc(what)} in your wallet. Cost: <b data-testid="tx-cost">${esc(e.detail.cost.text)}</b>.`);
    document.addEventListener("mm-cost", onCost);
    let hash;
    try { hash = await window.MMWallet.sendTransaction(prepared.tx, what); } finally { document.removeEventListener("mm-cost", onCost); }
    const cost = window.MMWallet.state.lastCost;
    say(box, `Sent ${esc(hash.slice(0, 10))}…, waiting for the receipt.`);
    for (let i = 0; i < 600; i++) {
      const r = await api("api/v1/community/tx/" + hash);
      if (r.status === "success") {
        say(box, `Done: ${esc(what)}.` + (cost ? ` <span class="mm-muted">Cost: <span data-testid="tx-cost">${esc(cost.text)}</span>.</span>` : ""));
        return r;
      }
      if (r.status !== "pending") throw Object.assign(new Error(r.error || "The transaction failed on chain."), { hint: r.hint || "" });
      await new Promise((ok) => setTimeout(ok, 500));
    }
    throw new Error("The transaction was not mined in 5 minutes.");
  }

  // ------------------------------------------------------------ the movie's card: season pass and ballots
  function passHtml(c) {
    const early = c.early_cap > 0
      ? `<p data-testid="pass-early">Early tier: <b data-testid="pass-early-left">${c.early_left}</b> of ${plural(c.early_cap, "pass", "passes")} left at ${esc(eth(c.early_price_wei))}` +
        `${c.early_left ? "" : " (sold out)"}.</p>` : "";
    const held = c.passes.length ? `<p class="mm-community-held" data-testid="pass-held">You hold ${plural(c.passes.length, "pass", "passes")} of this collective.</p>` : "";
    const buy = signedIn()
      ? `<button type="button" class="mm-btn mm-btn-primary mm-primary" data-act="buy-pass" data-testid="buy-pass">Buy a season pass for ${esc(eth(c.next_price_wei))}${c.next_early ? " (early tier)" : ""}</button>`
      : `<p class="mm-muted">Connect your wallet to buy a pass.</p>`;
    return `<h3 class="mm-h">Season pass · collective #${c.collective}</h3>
      <p>Led by <span title="${esc(c.leader)}">${esc(short(c.leader))}</span>. A pass lets you watch every movie of the collective,
      vote on its ballots and puts you in the credits.</p>
      <p data-testid="pass-price">Price: <b>${esc(eth(c.price_wei))}</b> · ${plural(c.sold, "pass", "passes")} sold.</p>${early}${held}${buy}`;
  }

  function ballotHtml(b) {
    const title = b.kind === "takes" ? `Takes for segment ${b.segment}` : `Idea vote #${b.ballot}`;
    const phase = { takes: `Takes are recorded until ${when(b.start)}; voting runs from then until ${when(b.end)}.`,
      "not started": `Voting opens ${when(b.start)} and runs until ${when(b.end)}.`,
      voting: `Voting until ${when(b.end)}.`,
      closed: b.leader === null ? "Closed: nobody voted." : `Closed. Winner: ${esc(b.options[b.leader].label)} (${plural(b.options[b.leader].votes, "vote", "votes")}).` }[b.phase];
    const y = b.yours;
    const left = y.passes.length || (y.ticket ? 1 : 0);
    const canVote = b.phase === "voting" && left > 0;
    let yours = b.phase === "closed" ? "" : "Connect your wallet to vote.";
    if (signedIn() && b.phase !== "closed") {
      if (y.passes.length) yours = `You have ${plural(y.passes.length, "vote", "votes")} left (one per pass bought before this ballot opened).`;
      else if (y.ticket) yours = "You can vote once with your ticket.";
      else yours = "You have no vote left in this ballot. Passes bought before it opened and tickets vote, once each.";
    }
    const opts = b.options.map((o) => `<li class="mm-option" data-testid="option-${o.option}">
        <div class="mm-option-head"><b>${esc(o.label)}</b>${o.taker ? ` <span class="mm-muted">by <span title="${esc(o.taker)}">${esc(short(o.taker))}</span></span>` : ""}
        <span class="mm-votes" data-testid="votes-${o.option}">${plural(o.votes, "vote", "votes")}</span></div>
        ${o.video_url ? `<video class="mm-take" controls playsinline preload="metadata" src="${esc(url(o.video_url))}" data-testid="take-video-${o.option}"></video>` : ""}
        ${b.phase === "voting" ? `<button type="button" class="mm-btn mm-btn-small" data-act="vote" data-ballot="${b.ballot}" data-option="${o.option}" data-label="${esc(o.label)}" ${canVote ? "" : "disabled"}>Vote for ${esc(o.label)}</button>` : ""}
      </li>`).join("");
    return `<article class="mm-ballot" data-ballot="${b.ballot}" data-testid="ballot-${b.ballot}">
      <h4>${esc(title)}</h4><p class="mm-muted" data-testid="ballot-phase">${phase} ${plural(b.total_votes, "vote", "votes")} so far.</p>
      ${b.options.length ? `<ol class="mm-options">${opts}</ol>` : `<p class="mm-muted">No takes recorded yet.</p>`}
      ${yours ? `<p class="mm-your-votes" data-testid="your-votes">${esc(yours)}</p>` : ""}</article>`;
  }

  function cardHtml(v) {
    if (!v.collective && !v.ballots.length) return `<p class="mm-muted">This movie is not in a collective: no season pass or votes.</p>`;
    return (v.collective ? passHtml(v.collective) : "") +
      `<div class="mm-community-msg mm-alert" hidden role="status"></div>` +
      (v.ballots.length ? `<h3 class="mm-h">Votes</h3>` + v.ballots.map(ballotHtml).join("") : "");
  }

  function movieCard(card) {
    let movieId = null, view = null;
    async function load(id) {
      if (id !== undefined) movieId = id;
      if (movieId === null || movieId === "") return;
      try {
        view = await api(`api/v1/community/movies/${encodeURIComponent(movieId)}`);
        card.hidden = !view.community;
        if (!view.community) return;
        card.innerHTML = `<h2 class="mm-h" id="mm-community-h">Community</h2>` + cardHtml(view);
      } catch (err) {
        card.hidden = false;
        card.innerHTML = `<h2 class="mm-h">Community</h2><div class="mm-community-msg mm-alert" role="alert"></div>`;
        sayError(card.querySelector(".mm-community-msg"), err);
      }
    }
    card.addEventListener("click", async (e) => {
      const btn = e.target.closest("button[data-act]");
      if (!btn) return;
      const box = card.querySelector(".mm-community-msg");
      btn.disabled = true;
      try {
        if (btn.dataset.act === "buy-pass") {
          const c = view.collective;
          await send(`api/v1/community/collectives/${c.collective}/pass/tx`, {}, `a season pass (${eth(c.next_price_wei)})`, box);
        } else if (btn.dataset.act === "vote") {
          await send(`api/v1/community/ballots/${btn.dataset.ballot}/vote/tx`, { option: Number(btn.dataset.option) }, `your vote for ${btn.dataset.label}`, box);
        }
        const msg = box.innerHTML;
        await load();
        say(card.querySelector(".mm-community-msg"), msg);  // keep the receipt's message after the redraw
        document.dispatchEvent(new CustomEvent("mm-community-changed"));  // a new member: the tab's movie list
      } catch (err) { sayError(box, err); btn.disabled = false; }
    });
    document.addEventListener("mm-wallet", () => load());
    return { load };
  }

  // ------------------------------------------------------------ the tab: the member's collectives' movies first
  function mineList(box) {
    async function load() {
      if (!signedIn()) { box.hidden = true; box.innerHTML = ""; return; }
      try {
        const { movies } = await api("api/v1/community/mine");
        box.hidden = !movies.length;
        box.innerHTML = movies.length ? `<span class="mm-muted">Your collectives:</span>` + movies.map((m) =>
          `<button type="button" class="mm-chip mm-chip-btn" data-community-ref="${m.movie_id}" title="collective #${m.collective}">#${m.movie_id} ${esc(m.title)}</button>`).join("") : "";
      } catch (err) { box.hidden = true; }
    }
    box.addEventListener("click", (e) => {
      const b = e.target.closest("[data-community-ref]");
      if (!b || !window.MMMinter) return;
      const ref = document.querySelector("#mm-ref");
      if (ref) ref.value = b.dataset.communityRef;
      window.MMMinter.openMovie(b.dataset.communityRef);
    });
    document.addEventListener("mm-wallet", load);
    document.addEventListener("mm-community-changed", load);
    return { load };
  }

  // ------------------------------------------------------------ the Studio: review minted segments
  const STATE = { "not required": "no approval required", unsubmitted: "not submitted", pending: "waiting for review", approved: "approved", rejected: "rejected", reopened: "rejected: open to mint again" };

  function reviewsHtml(v) {
    const hours = v.approval_window / 3600;
    const win = v.approval_window
      ? `<p data-testid="approval-window">Approval required: a submitted segment counts as approved after ${+hours.toFixed(2)} hours if you do nothing.</p>`
      : `<p data-testid="approval-window">This movie does not require approval: minted segments earn at once.</p>`;
    const form = v.can_review ? `<div class="mm-row"><label for="mm-approval-hours">Approval window (hours; 0 = off)</label>
      <input type="number" id="mm-approval-hours" class="mm-narrow" min="0" step="1" value="${v.approval_window ? +hours.toFixed(2) : 72}">
      <button type="button" class="mm-btn" data-act="window">Set approval window</button></div>` : "";
    const rows = v.segments.map((s) => {
      const holds = me() && s.holder && s.holder.toLowerCase() === me();
      let act = "";
      if (v.can_review && s.state === "pending") {
        act = `<button type="button" class="mm-btn mm-btn-small" data-act="approve" data-seg="${s.segment}">Approve</button>
          <label class="mm-reason"><span>Reason for rejecting segment ${s.segment}</span><input type="text" maxlength="280" data-reason="${s.segment}" placeholder="Why (public)"></label>
          <button type="button" class="mm-btn mm-btn-small" data-act="reject" data-seg="${s.segment}">Reject</button>`;
      } else if (holds && v.approval_window && s.state === "unsubmitted") {
        act = `<button type="button" class="mm-btn mm-btn-small" data-act="submit" data-seg="${s.segment}">Submit for review</button>`;
      }
      const note = s.rejected_because ? `<div class="mm-muted" data-testid="rejected-${s.segment}">Rejected: ${esc(s.rejected_because)}</div>` : "";
      const due = s.auto_approve_at ? `<div class="mm-muted">approved automatically ${esc(when(s.auto_approve_at))}</div>` : "";
      return `<tr data-testid="review-${s.segment}"><td>${s.segment}</td>
        <td>${s.video_url ? `<video class="mm-take" controls preload="metadata" src="${esc(url(s.video_url))}"></video>` : "—"}</td>
        <td title="${esc(s.holder || "")}">${s.holder ? esc(short(s.holder)) : "—"}</td>
        <td><span data-testid="state-${s.segment}">${esc(STATE[s.state] || s.state)}</span>${due}${note}</td><td class="mm-review-act">${act}</td></tr>`;
    }).join("");
    return win + form + `<div class="mm-community-msg mm-alert" hidden role="status"></div>` +
      (v.segments.length ? `<table class="mm-table mm-reviews"><caption>Minted and rejected segments</caption><thead><tr><th scope="col">#</th><th scope="col">Video</th>
        <th scope="col">Holder</th><th scope="col">Review</th><th scope="col">Action</th></tr></thead><tbody>${rows}</tbody></table>`
        : `<p class="mm-muted">No segment is minted yet.</p>`) +
      (v.can_review ? "" : `<p class="mm-hint">Only the director or the collective's leader approves and rejects; sign in with that wallet.</p>`);
  }

  function reviewPanel(panel) {
    let movieId = null;
    const body = panel.querySelector(".mm-reviews-body");
    async function load(id) {
      if (id !== undefined) movieId = id;
      if (movieId === null || movieId === "") return;
      try {
        const v = await api(`api/v1/community/movies/${encodeURIComponent(movieId)}/reviews`);
        panel.hidden = false;
        body.innerHTML = reviewsHtml(v);
      } catch (err) {
        panel.hidden = false;
        body.innerHTML = `<div class="mm-community-msg mm-alert" role="alert"></div>`;
        sayError(body.querySelector(".mm-community-msg"), err);
      }
    }
    body.addEventListener("click", async (e) => {
      const btn = e.target.closest("button[data-act]");
      if (!btn) return;
      const box = body.querySelector(".mm-community-msg");
      const seg = btn.dataset.seg;
      const base = `api/v1/community/movies/${movieId}`;
      btn.disabled = true;
      try {
        if (btn.dataset.act === "approve") await send(`${base}/segments/${seg}/review/tx`, { approve: true }, `approving segment ${seg}`, box);
        if (btn.dataset.act === "reject") {
          const reason = body.querySelector(`[data-reason="${seg}"]`).value;
          await send(`${base}/segments/${seg}/review/tx`, { approve: false, reason }, `rejecting segment ${seg}`, box);
        }
        if (btn.dataset.act === "submit") await send(`${base}/segments/${seg}/submit/tx`, {}, `submitting segment ${seg} for review`, box);
        if (btn.dataset.act === "window") {
          const hours = Number(body.querySelector("#mm-approval-hours").value || 0);
          await send(`${base}/approval/tx`, { hours }, `an approval window of ${hours} hours`, box);
        }
        const msg = box.innerHTML;
        await load();
        say(body.querySelector(".mm-community-msg"), msg);
      } catch (err) { sayError(box, err); btn.disabled = false; }
    });
    document.addEventListener("mm-wallet", () => load());
    return { load };
  }

  // ------------------------------------------------------------ mounting
  function whenWallet(fn) {  // the page's own loader brings wallet.js; this script may arrive first
    if (window.MMWallet && window.mmBase) return fn();
    setTimeout(() => whenWallet(fn), 50);
  }

  function tab(tries) {
    const card = document.querySelector("#mm-community");
    const mine = document.querySelector("#mm-community-movies");
    if (!card || !mine) {  // the tab's HTML is rendered by gradio after load
      if ((tries || 0) < 1200) setTimeout(() => tab((tries || 0) + 1), 100);
      return;
    }
    if (card.dataset.mounted) return;
    card.dataset.mounted = "1";
    const c = movieCard(card), m = mineList(mine);
    document.addEventListener("mm-movie", (e) => c.load(e.detail.movie_id));
    m.load();
  }

  // Watch and Studio: a block of its own after the page's; the movie id comes from ?movie= and the page's
  // movie-id field (#mm-movie-id with its Open / Load button).
  function page(element, kind) {
    whenWallet(() => {
      const idField = () => document.querySelector("#mm-movie-id");
      const part = kind === "studio" ? reviewPanel(element.querySelector(".mm-review-panel")) : movieCard(element.querySelector(".mm-community"));
      const trigger = kind === "studio" ? "#mm-load" : "#mm-open";
      document.addEventListener("click", (e) => { if (e.target.closest && e.target.closest(trigger) && idField()) part.load(idField().value); });
      const qs = new URLSearchParams(location.search).get("movie");
      if (qs !== null) part.load(qs);
    });
  }

  window.MMCommunity = { tab, page, send, say, sayError };
  // The tab includes this script in its head; Studio and Watch load it themselves and call page().
  if (!/\/(studio|watch|jobs)(\/|$)/.test(location.pathname)) whenWallet(() => tab(0));
})();
