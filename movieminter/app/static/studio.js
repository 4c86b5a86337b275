/* Director studio: create a movie, run its lottery / allowlist, follow the work. */
(function () {
  "use strict";
  const P = window.MMPage;
  const { $, esc, short, api, notice, showError, sendTx } = P;

  window.MMPageInit = function (root) {
    P.wireWallet(root);
    const refreshRevenue = P.wireRevenue(root);
    const manifestBox = $(root, "#mm-manifest");
    const mode = $(root, "#mm-mode");
    let currentMovie = null, loadedMovie = null;

    const readFile = (input) => new Promise((ok, bad) => {
      const f = input.files && input.files[0];
      if (!f) return ok(null);
      const r = new FileReader(); r.onload = () => ok(String(r.result)); r.onerror = () => bad(r.error); r.readAsText(f);
    });
    $(root, "#mm-manifest-file").addEventListener("change", async (e) => { manifestBox.value = await readFile(e.target); editor.fromJson(true); });
    mode.addEventListener("change", () => { $(root, "#mm-allowlist-row").hidden = mode.value !== "allowlist"; });

    function manifestText() {
      const t = manifestBox.value.trim();
      if (!t) throw Object.assign(new Error("No manifest yet."), { hint: "Choose a manifest file or paste its JSON." });
      return t;
    }
    // The segment table editor (static/studio-editor.js); the JSON textarea stays the source of truth.
    const editor = window.MMSegmentEditor(root, manifestBox, { validate, readFile });

    // Each action starts with a clean banner (the last one's message is stale); an error already shown
    // next to its field (err.shown) is not repeated at the top.
    const guarded = (fn) => async (...a) => { notice(""); try { await fn(...a); } catch (err) { if (!err.shown) showError(err); } };

    // The allowlist CSV is checked where it is chosen: its problems appear under the file field.
    async function checkAllowlist() {
      const out = $(root, "#mm-allowlist-check");
      const csv = await readFile($(root, "#mm-allowlist-file"));
      if (!csv) {
        out.className = "mm-field-msg mm-bad";
        out.textContent = "Allowlist mode needs the CSV of addresses: choose the file.";
        throw Object.assign(new Error(out.textContent), { shown: true });
      }
      let count = null;
      try { count = (JSON.parse(manifestBox.value).segments || []).length || null; } catch (e) { /* checked on create */ }
      try {
        const r = await api("api/v1/director/allowlist", { method: "POST", body: { csv, segment_count: count } });
        out.className = "mm-field-msg mm-good";
        out.textContent = `${r.count} allowlisted address(es); Merkle root ${r.root.slice(0, 10)}…`;
        return csv;
      } catch (err) {
        out.className = "mm-field-msg mm-bad";
        out.textContent = (err.message || String(err)) + (err.hint ? " — " + err.hint : "");
        $(root, "#mm-allowlist-file").focus();
        out.scrollIntoView({ block: "nearest" });
        throw Object.assign(err, { shown: true });
      }
    }
    $(root, "#mm-allowlist-file").addEventListener("change", guarded(checkAllowlist));

    async function validate() {
      const out = $(root, "#mm-validation");
      let r;
      const sent = manifestText();
      try { r = await api("api/v1/director/validate", { method: "POST", body: { manifest: sent } }); }
      catch (err) { out.innerHTML = ""; throw err; }
      // The JSON changed while this was checked: the answer is about an older manifest (the newer one is
      // checked in turn, or does not parse and says so), so it must not overwrite what the page shows now.
      if (manifestBox.value.trim() !== sent) return null;
      editor.problems(r.ok ? [] : r.problems);
      if (!r.ok) {
        out.innerHTML = `<p class="mm-bad">The manifest has ${r.problems.length} problem(s):</p><ul>` +
          r.problems.slice(0, 200).map((p) => `<li><code>${esc(p.pointer || "/")}</code> ${esc(p.message)}${p.hint ? ` <em>${esc(p.hint)}</em>` : ""}</li>`).join("") + "</ul>";
        return null;
      }
      // the segments are listed in the table below (paged), not again here
      out.innerHTML = `<p class="mm-good">Valid: <strong>${esc(r.title)}</strong>, ${r.segment_count} segments, ${r.duration.toFixed(1)} s at ${r.fps} fps.</p>`;
      return r;
    }
    $(root, "#mm-validate").addEventListener("click", guarded(validate));

    $(root, "#mm-preview").addEventListener("click", guarded(async () => {
      const seg = parseInt($(root, "#mm-preview-seg").value || "0", 10);
      notice(`Rendering keyframe previews of segment ${seg} in A1111…`);
      const r = await api("api/v1/director/previews", { method: "POST", body: { manifest: manifestText(), segment: seg } });
      $(root, "#mm-previews").innerHTML = r.images.map((u, i) => `<img src="${esc(P.resolve(u))}" alt="Segment ${seg} keyframe preview ${i + 1}">`).join("");
      notice(`${r.images.length} preview still(s) rendered.`, "ok");
    }));

    $(root, "#mm-create-btn").addEventListener("click", guarded(async () => {
      const v = await validate();
      if (!v) return;
      const pct = (id) => Math.round(parseFloat($(root, id).value || "0") * 100);
      const body = {
        manifest: manifestText(), mode: mode.value,
        creator_bps: pct("#mm-creator-pct"), director_bps: pct("#mm-director-pct"), minters_bps: pct("#mm-minters-pct"),
        royalty_bps: pct("#mm-royalty-pct"), ticket_price_wei: P.toWei($(root, "#mm-price").value),
        entry_seconds: Math.round(parseFloat($(root, "#mm-entry-hours").value || "0") * 3600),
        claim_window_seconds: Math.round(parseFloat($(root, "#mm-claim-days").value || "0") * 86400),
      };
      const creator = $(root, "#mm-creator").value.trim();
      if (creator) body.creator = creator;
      if (mode.value === "allowlist") body.allowlist_csv = await checkAllowlist();
      const r = await sendTx("api/v1/director/create/tx", body, "create the movie");
      const id = r.movie_id;
      $(root, "#mm-create-out").innerHTML = `<p class="mm-good">Movie <strong class="mm-new-movie-id">${esc(id)}</strong> created.
        Manifest pinned as <code>${esc(r.prepared.manifest_cid)}</code>.` +
        (r.prepared.allowlist ? ` Allowlist of ${r.prepared.allowlist.count} addresses, proofs at <code>${esc(r.prepared.allowlist.proofs_cid)}</code>.` : "") +
        ` Share the Watch page: <a href="../watch/?movie=${esc(id)}">watch/?movie=${esc(id)}</a></p>`;
      $(root, "#mm-movie-id").value = id;
      await load();
    }));

    function rendered(s) {
      if (s.rendered) return esc(`${Math.round(s.rendered.render_seconds || 0)} s, A1111 ${s.rendered.a1111_version || "?"}, seed ${s.rendered.seed}`);
      if (s.local_job) return esc(`in this app: ${s.local_job.state.replace("_", " ")}`);
      return "—";
    }

    async function load() {
      const id = $(root, "#mm-movie-id").value;
      if (id === "") throw Object.assign(new Error("Which movie?"), { hint: "Type its id (shown when you created it)." });
      currentMovie = parseInt(id, 10);
      loadedMovie = null;
      setControls(null, null);
      delete $(root, "#mm-lottery").dataset.movie;
      const a = await api(`api/v1/director/movies/${currentMovie}/activity`);
      const mv = loadedMovie = a.movie;
      $(root, "#mm-movie-info").innerHTML = `<p>Movie ${currentMovie}: <strong>${esc(mv.mint_mode)}</strong> mode, ${mv.segment_count} segments,
        ticket ${P.eth(mv.ticket_price)}, ${mv.minted_count || 0} minted. Director ${short(mv.director)}, creator ${short(mv.creator)}.</p>`;
      activityRows = a.segments;
      segPages.set(activityRows.length);
      $(root, "#mm-events").innerHTML = (a.events || []).slice(-50).reverse().map((e) => `<li>block ${e.block}: ${esc(String(e.summary).replace(/\b(\d+) wei\b/g, (m, w) => P.eth(w)))}</li>`).join("");
      await Promise.all([lottery(), walletRevenue()]);
    }
    $(root, "#mm-load").addEventListener("click", guarded(load));

    // "Follow the work": one page of the activity rows in the DOM.
    let activityRows = [];
    const segPages = P.pager($(root, "#mm-segments-pager"), (from, to) => {
      $(root, "#mm-segments tbody").innerHTML = activityRows.slice(from, to).map((s) => `<tr data-status="${esc(s.status)}"><td>${s.index}</td><td>${esc(s.title || "")}</td>
        <td>${esc(s.status)}</td><td title="${esc(s.minter || s.claimer || "")}">${short(s.minter || s.claimer)}</td>
        <td>${s.deadline ? new Date(s.deadline * 1000).toISOString().slice(0, 16).replace("T", " ") : "—"}</td>
        <td>${rendered(s)}</td>
        <td>${s.content_cid ? `<a href="${esc(P.resolve("ipfs/" + s.content_cid))}">${esc(s.content_cid.slice(0, 12))}…</a>` : "—"}</td></tr>`).join("");
    });

    // Revenue by wallet: what the creator, the director and each token holder can still collect (exact, from wei).
    let revRows = [];
    const revPages = P.pager($(root, "#mm-rev-pager"), (from, to) => {
      $(root, "#mm-rev-wallets tbody").innerHTML = revRows.slice(from, to).map((w) => `<tr data-address="${esc(w.address)}">
        <td title="${esc(w.address)}">${esc(short(w.address))}</td><td>${esc(w.roles.join(" & "))}</td>
        <td class="mm-amount" data-wei="${esc(w.shares_wei)}">${P.eth(w.shares_wei)}</td>
        <td title="${esc(w.segments.join(", "))}">${w.segments.length ? `${w.segments.length} (${esc(w.segments.slice(0, 6).join(", "))}${w.segments.length > 6 ? ", …" : ""})` : "—"}</td>
        <td class="mm-amount" data-wei="${esc(w.segments_wei)}">${P.eth(w.segments_wei)}</td>
        <td class="mm-amount mm-total-cell" data-wei="${esc(w.total_wei)}"><strong>${P.eth(w.total_wei)}</strong></td></tr>`).join("");
    });
    async function walletRevenue() {
      const movieId = currentMovie;
      const r = await api(`api/v1/movies/${movieId}/revenue`);
      if (movieId !== currentMovie) return;
      revRows = r.wallets;
      $(root, "#mm-rev-summary").innerHTML = `${r.tickets_sold} ticket(s) sold for <strong>${P.eth(r.sales_wei)}</strong>; each segment's share so far
        ${P.eth(r.per_segment_wei)}.` + (r.unminted_segments ? ` ${r.unminted_segments} unminted segment(s) hold ${P.eth(r.unminted_wei)} for their future minters.` : "");
      $(root, "#mm-rev-wallets").hidden = !revRows.length;
      revPages.set(revRows.length);
    }

    // Buttons only where they apply: Close once the entry deadline passed, Draw while the seed is
    // readable and not recorded, Pre-pay for a loaded movie with unminted segments.
    const buttons = { close: $(root, "#mm-close"), draw: $(root, "#mm-draw"), prepare: $(root, "#mm-prepare") };
    function setControls(movie, drawState) {
      buttons.close.disabled = drawState !== "ready to close";
      buttons.draw.disabled = drawState !== "readable";
      buttons.prepare.disabled = !movie || (movie.minted_count || 0) >= movie.segment_count;
    }
    let pollTimer = null;

    async function lottery() {
      const out = $(root, "#mm-lottery");
      const movieId = currentMovie;
      const [r, ux] = await Promise.all([api(`api/v1/director/movies/${movieId}/lottery`), api(`api/v1/ux/movies/${movieId}/lottery`)]);
      if (movieId !== currentMovie) return;
      setControls(loadedMovie, ux.draw_state || null);
      out.dataset.movie = String(movieId);  // the panel (and the buttons) are this movie's now
      clearTimeout(pollTimer);
      if (ux.draw_state === "waiting") pollTimer = setTimeout(guarded(lottery), 2000);  // until the draw block exists
      if (r.mode !== "lottery") {
        out.innerHTML = "<p>This movie is not in lottery mode.</p>";
        $(root, "#mm-winners").hidden = true; winnerRows = []; winPages.set(0); countdowns(null);
        return;
      }
      let html = `<p>Phase: <strong class="mm-phase">${esc(r.phase)}</strong>. ${r.entrant_count} entrant(s). Entries close ${r.entry_deadline ? new Date(r.entry_deadline * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC" : "—"}.</p>`;
      if (ux.draw_state === "waiting") html += `<p class="mm-hint">The draw block is mined in ${esc(ux.blocks_left)} block(s); then Draw records the seed.</p>`;
      if (ux.draw_state === "readable") html += `<p class="mm-hint">The winners are readable from the draw block's hash; Draw records the seed so they are final.</p>`;
      const winners = $(root, "#mm-winners");
      winnerRows = r.winners || [];
      winners.hidden = !r.winners;
      if (r.winners) {
        html += `<p class="${r.verified ? "mm-good" : "mm-bad"}">${r.verified ? "Verified: recomputing the draw in Python from chain data gives the same winners as the contract." : "MISMATCH between the Python verifier and the contract!"}</p>`;
        html += `<details><summary>How the draw works (step by step)</summary><pre class="mm-explain">${esc(r.explanation)}</pre></details>`;
      }
      winPages.set(winnerRows.length);
      countdowns(ux).catch(showError);
      out.innerHTML = html;
    }
    let winnerRows = [];
    const winPages = P.pager($(root, "#mm-winners-pager"), (from, to) => {
      $(root, "#mm-winners tbody").innerHTML = winnerRows.slice(from, to).map((w, k) =>
        `<tr><td>${from + k}</td><td>${esc(w || "— (no entrant: open to anyone since the draw)")}</td></tr>`).join("");
    });

    // Countdowns in chain time: to the entry deadline and the winners' mint deadline (seconds from the head
    // block's timestamp), and to the draw block (blocks left x the estimated block time). Ticks each second.
    let countdownTimer = null;
    const span = (sec) => {
      const s = Math.max(0, Math.round(sec)), d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
      return (d ? `${d} d ` : "") + `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
    };
    async function countdowns(ux) {
      const out = $(root, "#mm-countdowns");
      clearInterval(countdownTimer);
      if (!ux || !ux.lottery) { out.innerHTML = ""; return; }
      const movieId = currentMovie;
      const c = await api("api/v1/director/chain-clock");
      if (movieId !== currentMovie) return;
      const fetched = Date.now();
      const chainNow = () => c.timestamp + (Date.now() - fetched) / 1000;
      let refreshed = false;
      function tick() {
        const items = [];
        if (ux.phase === "entries open") {
          const left = ux.entry_deadline - chainNow();
          items.push(left > 0
            ? `<p class="mm-countdown" data-kind="entry" data-deadline="${ux.entry_deadline}">Entries close in <strong>${span(left)}</strong> (chain time, ${new Date(ux.entry_deadline * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC).</p>`
            : `<p class="mm-countdown" data-kind="entry" data-deadline="${ux.entry_deadline}">The entry deadline has passed: <strong>Close entries</strong> starts the draw.</p>`);
          if (left <= 0 && !refreshed) { refreshed = true; guarded(lottery)(); }
        }
        if (ux.draw_block && !ux.seed_recorded) {
          const blocks = Math.max(0, ux.draw_block - c.block);
          items.push(blocks > 0
            ? `<p class="mm-countdown" data-kind="draw" data-block="${ux.draw_block}" data-blocks-left="${blocks}">The draw block #${ux.draw_block} is ${blocks} block(s) away: about <strong>${span(blocks * c.block_seconds - (Date.now() - fetched) / 1000)}</strong>
               (${c.estimated ? `the last ${c.sampled_blocks} blocks came every ${c.block_seconds} s` : "assuming 12 s per block"}).</p>`
            : `<p class="mm-countdown" data-kind="draw" data-block="${ux.draw_block}" data-blocks-left="0">The draw block #${ux.draw_block} is mined.</p>`);
        }
        if (ux.claim_deadline && ux.phase === "drawn") {
          const left = ux.claim_deadline - chainNow();
          items.push(`<p class="mm-countdown" data-kind="claim" data-deadline="${ux.claim_deadline}">${left > 0 ? `Winners have <strong>${span(left)}</strong> left to mint their segments.` : "The winners' mint window is over: unminted segments are open to anyone."}</p>`);
        }
        out.innerHTML = items.join("");
      }
      tick();
      countdownTimer = setInterval(() => { if (movieId === currentMovie && root.isConnected) tick(); else clearInterval(countdownTimer); }, 1000);
    }
    buttons.close.addEventListener("click", guarded(async () => { await sendTx(`api/v1/director/movies/${currentMovie}/lottery/close/tx`, {}, "close the lottery entries"); await load(); }));
    $(root, "#mm-draw").addEventListener("click", guarded(async () => { await sendTx(`api/v1/director/movies/${currentMovie}/lottery/draw/tx`, {}, "draw the winners"); await load(); }));
    $(root, "#mm-prepare").addEventListener("click", guarded(async () => {
      const a = await api(`api/v1/director/movies/${currentMovie}/activity`);
      const total = a.movie.segment_count;
      for (let start = 0; start < total; start += 200) {
        const count = Math.min(200, total - start);
        await sendTx(`api/v1/director/movies/${currentMovie}/prepare/tx`, { start, count },
          `pre-pay storage for segments ${start}–${start + count - 1}`);
      }
      notice(`Storage pre-paid for all ${total} segments: minting each costs its minter less gas.`, "ok");
    }));

    const qs = new URLSearchParams(location.search);
    if (qs.get("movie")) { $(root, "#mm-movie-id").value = qs.get("movie"); guarded(load)(); }
    document.addEventListener("mm-wallet", (e) => { if (e.detail.signedIn) refreshRevenue(); });
  };
})();
