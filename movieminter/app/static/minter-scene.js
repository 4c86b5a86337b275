/* The Movie Minter tab, part 3: the scene detail (prompts, camera plot, models), the token view, transactions. */
(function () {
  "use strict";
  const T = window.MMTab;
  const { $, esc, short, fmtDate, fmtTime, st, ui, api, showError, showInfo } = T;  // part 1's helpers (loaded first)

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
      if (cell.job && T.ACTIVE_JOB.has(cell.job.state)) T.followJob(cell.job.id);
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
    $("#mm-scene-status").innerHTML = `<span class="mm-swatch mm-s-${c.state}"></span><b>${esc(T.stateLabel(c))}</b>` +
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
    } else if (job && T.ACTIVE_JOB.has(job.state)) {
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
    if (w.signedIn && c.state !== "minted" && !(job && T.ACTIVE_JOB.has(job.state)) && (c.state === "yours" || (c.state === "open" && c.deadline && c.deadline < Date.now() / 1000))) {
      html += `<button type="button" class="mm-btn mm-btn-primary" data-act="render">Render &amp; Mint</button>`;
    }
    if (w.signedIn && c.state !== "minted" && T.takesActions) html = T.takesActions(html);  // a takes ballot holds it?
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
    const { hash, cost } = await T.sendSigned(prepared.tx, what, msg);
    const receipt = await waitReceipt(hash);
    if (!receipt || !receipt.status) {
      throw Object.assign(new Error(receipt && receipt.message ? receipt.message : "The transaction failed on chain."), { hint: (receipt && receipt.hint) || "Reload the timeline to see who holds the segment now." });
    }
    showInfo(msg, ({ claim: `Segment ${s.index} is yours for the claim window. Click Render &amp; Mint.`, enter: "You are entered in the lottery.",
      draw: "The draw is recorded: the winners are final." })[action] +
      (cost ? ` <span class="mm-muted" data-testid="tx-cost">Cost: ${esc(cost.text)}.</span>` : ""));
    await Promise.all([T.refreshTimeline(), T.loadLottery()]);
    if (!st.scene) return;
    const i = st.cells.findIndex((x) => x.index === st.scene.index);
    if (i >= 0) { st.scene.cell = st.cells[i]; drawActions(); }
  }

  Object.assign(T, { openScene, drawScene, drawActions, sendPrepared });
})();
