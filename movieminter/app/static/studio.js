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
    $(root, "#mm-manifest-file").addEventListener("change", async (e) => { manifestBox.value = await readFile(e.target); });
    mode.addEventListener("change", () => { $(root, "#mm-allowlist-row").hidden = mode.value !== "allowlist"; });

    function manifestText() {
      const t = manifestBox.value.trim();
      if (!t) throw Object.assign(new Error("No manifest yet."), { hint: "Choose a manifest file or paste its JSON." });
      return t;
    }
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
      try { r = await api("api/v1/director/validate", { method: "POST", body: { manifest: manifestText() } }); }
      catch (err) { out.innerHTML = ""; throw err; }
      if (!r.ok) {
        out.innerHTML = `<p class="mm-bad">The manifest has ${r.problems.length} problem(s):</p><ul>` +
          r.problems.map((p) => `<li><code>${esc(p.pointer || "/")}</code> ${esc(p.message)}${p.hint ? ` <em>${esc(p.hint)}</em>` : ""}</li>`).join("") + "</ul>";
        return null;
      }
      out.innerHTML = `<p class="mm-good">Valid: <strong>${esc(r.title)}</strong>, ${r.segment_count} segments, ${r.duration.toFixed(1)} s at ${r.fps} fps.</p>` +
        `<ol start="0">${r.segments.map((s) => `<li>${esc(s.title)} (${s.frame_count} frames)</li>`).join("")}</ol>`;
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
      $(root, "#mm-movie-info").innerHTML = `<p>Movie ${currentMovie}: <strong>${esc(mv.mode)}</strong> mode, ${mv.segment_count} segments,
        ticket ${P.eth(mv.ticket_price)}, ${mv.minted_count || 0} minted. Director ${short(mv.director)}, creator ${short(mv.creator)}.</p>`;
      $(root, "#mm-segments tbody").innerHTML = a.segments.map((s) => `<tr data-status="${esc(s.status)}"><td>${s.index}</td><td>${esc(s.title || "")}</td>
        <td>${esc(s.status)}</td><td title="${esc(s.minter || s.claimer || "")}">${short(s.minter || s.claimer)}</td>
        <td>${s.deadline ? new Date(s.deadline * 1000).toISOString().slice(0, 16).replace("T", " ") : "—"}</td>
        <td>${rendered(s)}</td>
        <td>${s.content_cid ? `<a href="${esc(P.resolve("ipfs/" + s.content_cid))}">${esc(s.content_cid.slice(0, 12))}…</a>` : "—"}</td></tr>`).join("");
      $(root, "#mm-events").innerHTML = (a.events || []).slice(-50).reverse().map((e) => `<li>block ${e.block}: ${esc(String(e.summary).replace(/\b(\d+) wei\b/g, (m, w) => P.eth(w)))}</li>`).join("");
      await lottery();
    }
    $(root, "#mm-load").addEventListener("click", guarded(load));

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
      if (r.mode !== "lottery") { out.innerHTML = "<p>This movie is not in lottery mode.</p>"; return; }
      let html = `<p>Phase: <strong class="mm-phase">${esc(r.phase)}</strong>. ${r.entrant_count} entrant(s). Entries close ${r.entry_deadline ? new Date(r.entry_deadline * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC" : "—"}.</p>`;
      if (ux.draw_state === "waiting") html += `<p class="mm-hint">The draw block is mined in ${esc(ux.blocks_left)} block(s); then Draw records the seed.</p>`;
      if (ux.draw_state === "readable") html += `<p class="mm-hint">The winners are readable from the draw block's hash; Draw records the seed so they are final.</p>`;
      if (r.winners) {
        html += `<p class="${r.verified ? "mm-good" : "mm-bad"}">${r.verified ? "Verified: recomputing the draw in Python from chain data gives the same winners as the contract." : "MISMATCH between the Python verifier and the contract!"}</p>`;
        html += `<table class="mm-table mm-winners"><caption>Winners</caption><thead><tr><th scope="col">Segment</th><th scope="col">Wallet</th></tr></thead><tbody>` +
          r.winners.map((w, i) => `<tr><td>${i}</td><td>${esc(w || "— (no entrant: open to anyone since the draw)")}</td></tr>`).join("") + "</tbody></table>";
        html += `<details><summary>How the draw works (step by step)</summary><pre class="mm-explain">${esc(r.explanation)}</pre></details>`;
      }
      out.innerHTML = html;
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
