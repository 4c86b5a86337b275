/* Helpers shared by the Director studio and the Watch page.
 * - API calls go through MMWallet.api -> mm-fetch.js (CSRF token, relative
 *   paths resolved against window.MM_ROOT, which the page loader sets to where
 *   the app is mounted: / standalone, /movieminter/ behind A1111).
 * - sendTx(): the server prepares a transaction, the wallet signs and sends it,
 *   the server reports its receipt (and decoded events such as the movie id).
 * - Revenue panel: balances, and Collect / Claim / Withdraw buttons.
 */
(function () {
  "use strict";
  if (window.MMPage) return;
  const resolve = (p) => window.mmBase(p);

  const api = (path, opts) => window.MMWallet.api(path, opts);
  const $ = (root, sel) => root.querySelector(sel);
  const esc = (s) => String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const short = (a) => (a ? a.slice(0, 6) + "…" + a.slice(-4) : "—");
  const eth = (wei) => {
    const w = BigInt(wei || 0), whole = w / 10n ** 18n, frac = (w % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "");
    return whole.toString() + (frac ? "." + frac : "") + " ETH";
  };
  const toWei = (text) => {
    const [i, f = ""] = String(text).trim().split(".");
    if (!/^\d*$/.test(i) || !/^\d*$/.test(f) || f.length > 18) throw Object.assign(new Error(`${text} is not an amount of ETH.`), { hint: "Write it like 0.001" });
    return (BigInt(i || "0") * 10n ** 18n + BigInt((f + "0".repeat(18)).slice(0, 18))).toString();
  };

  let noticeEl = null;
  function notice(text, kind) {
    if (!noticeEl) noticeEl = document.querySelector(".mm-notice");
    if (!noticeEl) return;
    noticeEl.textContent = text || "";
    noticeEl.dataset.kind = kind || "info";
  }
  function showError(err) {
    notice((err && err.message ? err.message : String(err)) + (err && err.hint ? " — " + err.hint : ""), "error");
  }

  async function waitReceipt(hash) {
    for (let i = 0; i < 600; i++) {
      const r = await api("api/v1/tx/" + hash);
      if (r.status !== "pending") {
        if (r.status !== "success") throw Object.assign(new Error(r.error || "The transaction failed on chain."), { hint: r.hint || "" });
        return r;
      }
      await new Promise((ok) => setTimeout(ok, 500));
    }
    throw new Error("The transaction was not mined in 5 minutes.");
  }

  /* Server prepares (POST path with body) -> wallet signs -> receipt. */
  async function sendTx(path, body, what) {
    if (!window.MMWallet.state.signedIn) throw Object.assign(new Error("Connect your wallet first."), { hint: "Click Connect wallet at the top." });
    notice(`Preparing: ${what}…`);
    const prepared = await api(path, { method: "POST", body: Object.assign({ sender: window.MMWallet.state.address }, body || {}) });
    const tx = prepared.tx || prepared;
    const onCost = (e) => notice(`Confirm in your wallet: ${what}. Cost: ${e.detail.cost.text}.`);
    document.addEventListener("mm-cost", onCost);
    let hash;
    try { hash = await window.MMWallet.sendTransaction(tx, what); } finally { document.removeEventListener("mm-cost", onCost); }
    const cost = window.MMWallet.state.lastCost;
    notice(`Sent ${hash.slice(0, 10)}…, waiting for the receipt.`);
    const receipt = await waitReceipt(hash);
    notice(`Done: ${what} (block ${receipt.block_number}). Cost: ${cost ? cost.text : "see your wallet"}.`, "ok");
    return Object.assign({ hash, prepared }, receipt);
  }

  function wireWallet(root, onChange) {
    const btn = $(root, ".mm-connect"), status = $(root, ".mm-wallet-status");
    function render(st) {
      status.textContent = st.signedIn ? `Signed in as ${short(st.address)}` : st.address ? `${short(st.address)} (not signed in)` : "Wallet not connected";
      btn.textContent = st.signedIn ? "Disconnect" : "Connect wallet";
      btn.classList.toggle("mm-primary", !st.signedIn);  // the page's call to action until signed in, as in the tab
      if (st.notice) notice(st.notice);
      if (onChange) onChange(st);
    }
    document.addEventListener("mm-wallet", (e) => render(e.detail));
    btn.addEventListener("click", async () => {
      try {
        if (window.MMWallet.state.signedIn) await window.MMWallet.disconnect();
        else { await window.MMWallet.connect(); notice("Wallet connected and signed in.", "ok"); }
      } catch (err) { showError(err); }
    });
    render(window.MMWallet.state);
  }

  function wireRevenue(root) {
    const out = $(root, ".mm-revenue-out");
    async function refresh() {
      try {
        if (!window.MMWallet.state.address) { out.innerHTML = "<p>Connect your wallet to see its balances.</p>"; return; }
        const r = await api("api/v1/revenue?address=" + window.MMWallet.state.address);
        let html = `<p>Withdrawable now: <strong class="mm-withdrawable">${eth(r.withdrawable_wei)}</strong>
          <button type="button" class="mm-withdraw" ${BigInt(r.withdrawable_wei) > 0n ? "" : "disabled"}>Withdraw</button></p>`;
        if (r.movies.length) {
          html += `<table class="mm-table"><caption>Movies you run (creator / director shares)</caption><thead><tr><th scope="col">Movie</th><th scope="col">Role</th><th scope="col">Not yet collected</th><th scope="col"></th></tr></thead><tbody>` +
            r.movies.map((m) => `<tr><td>${m.movie_id}</td><td>${esc(m.roles.join(" & "))}</td><td>${eth(m.collectable_wei)}</td>
              <td><button type="button" class="mm-collect" data-movie="${m.movie_id}" ${BigInt(m.collectable_wei) > 0n ? "" : "disabled"}>Collect</button></td></tr>`).join("") + "</tbody></table>";
        }
        if (r.segment_claims.length) {
          html += `<table class="mm-table"><caption>Segment tokens you hold (minters' pool)</caption><thead><tr><th scope="col">Movie</th><th scope="col">Segment</th><th scope="col">Claimable</th><th scope="col"></th></tr></thead><tbody>` +
            r.segment_claims.map((c) => `<tr><td>${c.movie_id}</td><td>${c.segment}</td><td>${eth(c.claimable_wei)}</td>
              <td><button type="button" class="mm-claim" data-token="${c.token_id}" data-seg="${c.segment}" ${BigInt(c.claimable_wei) > 0n ? "" : "disabled"}>Claim</button></td></tr>`).join("") + "</tbody></table>";
        }
        html += `<p>Total you can collect: <strong class="mm-total">${eth(r.total_wei)}</strong>. Collect and Claim move money to your withdrawable balance; Withdraw pays it to your wallet.</p>`;
        out.innerHTML = html;
      } catch (err) { showError(err); }
    }
    out.addEventListener("click", async (e) => {
      const b = e.target.closest("button");
      if (!b) return;
      try {
        if (b.classList.contains("mm-withdraw")) await sendTx("api/v1/revenue/withdraw/tx", {}, "withdraw your balance");
        if (b.classList.contains("mm-collect")) await sendTx(`api/v1/revenue/movies/${b.dataset.movie}/collect/tx`, {}, `collect movie ${b.dataset.movie}'s revenue`);
        if (b.classList.contains("mm-claim")) await sendTx("api/v1/revenue/segments/claim/tx", { token_ids: [b.dataset.token] }, `claim segment ${b.dataset.seg}'s share`);
        await refresh();
      } catch (err) { showError(err); }
    });
    $(root, ".mm-revenue-refresh").addEventListener("click", refresh);
    return refresh;
  }

  /* A pager for a long table (a feature has ~1,080 segments): only one page of rows is in the DOM.
     `el` gets "Rows a–b of N" and Previous / Next; onPage(from, to) renders rows [from, to). */
  function pager(el, onPage, size) {
    const st = { page: 0, size: size || 50, total: 0 };
    el.classList.add("mm-pager");
    el.innerHTML = `<button type="button" data-go="-1">Previous</button> <span class="mm-pager-label" aria-live="polite"></span>
      <button type="button" data-go="1">Next</button>`;
    const pages = () => Math.max(1, Math.ceil(st.total / st.size));
    function show() {
      st.page = Math.min(Math.max(0, st.page), pages() - 1);
      const from = st.page * st.size, to = Math.min(st.total, from + st.size);
      el.hidden = st.total <= st.size;
      el.querySelector(".mm-pager-label").textContent = st.total ? `Rows ${from + 1}–${to} of ${st.total} (page ${st.page + 1} of ${pages()})` : "";
      el.querySelector('[data-go="-1"]').disabled = st.page === 0;
      el.querySelector('[data-go="1"]').disabled = st.page >= pages() - 1;
      onPage(from, to);
    }
    el.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-go]");
      if (b) { st.page += parseInt(b.dataset.go, 10); show(); }
    });
    return {
      set(total, keepPage) { st.total = total; if (!keepPage) st.page = 0; show(); },
      showRow(i) { st.page = Math.floor(i / st.size); show(); },
      get from() { return st.page * st.size; },
      get size() { return st.size; },
    };
  }

  window.MMPage = { resolve, api, $, esc, short, eth, toWei, notice, showError, sendTx, waitReceipt, wireWallet, wireRevenue, pager };
})();
