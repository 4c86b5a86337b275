/* The Movie Minter tab, part 4: Render & Mint jobs (progress, live frame preview, signing) and scene actions. */
(function () {
  "use strict";
  const T = window.MMTab;
  const { $, esc, fmtTime, st, ui, api, showError } = T;  // part 1's helpers (loaded first)

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
      if (!st.job || st.job.state !== job.state) T.refreshTimeline();  // the cell shows rendering / minted
      st.job = job;
      drawJob(job, st.progress);
      if (job.state === "awaiting_signature" && !job.data._tx_hash && !st.signing && !st.rejected) signMint(job);
      if (job.state === "minted" || job.state === "take_recorded" || job.state === "failed" || job.state === "cancelled") {
        src.close();
        T.refreshTimeline();  // also redraws the scene's status and actions
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
      try { hash = await window.MMWallet.sendTransaction(tx, T.recordingTake(job) ? "your take (recordTake)" : "the mint transaction"); } finally { document.removeEventListener("mm-cost", onCost); }
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
    const take = T.recordingTake(job);  // this job records a take (recordTake), not the mint
    const pct = job.state === "minted" || job.state === "take_recorded" ? 100 : job.state === "rendering" && p.frames ? Math.round(100 * (p.frame || 0) / p.frames) :
      ({ queued: 2, models_ready: 5, rendered: 70, encoded: 80, pinned: 88, awaiting_signature: 92 })[job.state] || null;
    const data = job.data || {};
    const mintCost = st.mintCost && st.mintCost.job === job.id ? st.mintCost.text : "";
    const hash = data._tx_hash || (data.minted && data.minted.tx_hash) || (st.txJob === job.id ? st.txHash : null);
    let html = `<div class="mm-job-head"><b data-testid="job-state">${esc(T.JOB_LABEL[job.state] || job.state)}</b>` +
      (p.stage && T.ACTIVE_JOB.has(job.state) ? ` <span class="mm-muted" data-testid="job-phase">${esc(T.PHASE_LABEL[p.phase] || T.PHASE_LABEL[p.stage] || String(p.phase || p.stage).toLowerCase().replace(/_/g, " "))}</span>` : "") +
      (frames ? ` <span class="mm-muted" data-testid="job-frames">${esc(frames)}</span>` : "") +
      (p.eta !== undefined && p.eta !== null && job.state === "rendering" ? ` <span class="mm-muted" data-testid="job-eta">ETA ${fmtTime(p.eta)}</span>` : "") + `</div>`;
    html += `<div class="mm-progress" role="progressbar" aria-label="Render and mint progress" aria-valuemin="0" aria-valuemax="100" ${pct === null ? "" : `aria-valuenow="${pct}"`}><span style="width:${pct === null ? 8 : pct}%" class="${pct === null ? "mm-indeterminate" : ""}"></span></div>`;
    const video = data.encoded ? `api/v1/movies/${job.movie_id}/segments/${job.segment}/video?job=${job.id}` : null;
    if (video) html += `<video class="mm-player" controls preload="metadata" src="${esc(video)}" aria-label="Preview of the rendered segment"></video>`;
    if (job.state === "awaiting_signature" && !hash) {
      if (st.rejected) {
        html += `<div class="mm-alert mm-alert-error" role="alert"><strong>${esc(st.rejected.message)}</strong><span class="mm-hint">The video is rendered and pinned; nothing will be rendered again. ${esc(st.rejected.hint || "")}</span></div>`;
      } else {
        html += `<p class="mm-muted">Check your wallet: sign ${take ? "the transaction that records your take" : "the mint transaction"}.${mintCost ? ` Cost: <b data-testid="tx-cost">${esc(mintCost)}</b>.` : ""}</p>`;
      }
      html += `<button type="button" class="mm-btn mm-btn-primary" data-act="sign">${take ? "Sign to record your take" : "Sign to mint"}</button>`;
    }
    if (hash) html += `<p>${mintCost ? `Cost: <span data-testid="tx-cost">${esc(mintCost)}</span> · ` : ""}Transaction <a href="${esc(T.explorerTx(hash))}" target="_blank" rel="noopener" data-testid="mint-tx">${esc(hash)}</a></p>`;
    if (job.state === "minted") {
      html += `<p class="mm-ok" data-testid="minted">Minted${data.minted && data.minted.block ? ` in block ${esc(data.minted.block)}` : ""} — the receipt is confirmed and the timeline is updated.</p>`;
    }
    if (job.state === "take_recorded") {
      html += `<p class="mm-ok" data-testid="take-recorded">Take ${esc(((data.take_recorded || {}).take || 0) + 1)} recorded in ballot ${esc((data.take_recorded || {}).ballot)}. If it wins the vote, mint it here.</p>`;
    }
    if (job.state === "failed" && job.error) {
      html += `<div class="mm-alert mm-alert-error" role="alert"><strong>${esc(job.error.message)}</strong>${job.error.hint ? `<span class="mm-hint">${esc(job.error.hint)}</span>` : ""}</div>`;
    }
    if (T.ACTIVE_JOB.has(job.state) && !hash) html += `<button type="button" class="mm-btn mm-btn-ghost" data-act="cancel">Cancel</button>`;
    const keep = st.frame && st.frame.img;  // keep the preview element (no flicker): re-placed below
    if (keep && keep.parentNode === box) keep.remove();
    box.innerHTML = html;
    placeFrame();
    T.drawActions();
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
      else if (act === "connect-here") await T.onWalletClick({ target: ui.wallet.querySelector("button") });
      else if (act === "claim" || act === "enter") await T.sendPrepared(act);
      else if (act === "render") await startJob();
      else if (act.startsWith("take-")) await T.onTakeAct(act, btn);  // minter-takes.js
      else if (act === "sign") { st.rejected = null; await signMint(st.job); }
      else if (act === "cancel") { st.job = await api(`api/v1/jobs/${st.job.id}/cancel`, { method: "POST" }); drawJob(st.job, st.progress); }
      else if (act === "retry") { st.job = await api(`api/v1/jobs/${st.job.id}/retry`, { method: "POST" }); st.rejected = null; drawJob(st.job, null); followJob(st.job.id); }
      else if (act === "previews") {
        btn.textContent = "Rendering previews…";
        const r = await api(`api/v1/movies/${s.movie_id}/segments/${s.index}/previews`, { method: "POST" });
        s.previews = r.previews; T.drawScene(); T.refreshTimeline();
      } else if (act === "acquire") {
        btn.textContent = "Downloading…";
        const r = await api(`api/v1/movies/${s.movie_id}/segments/${s.index}/models/acquire`, { method: "POST" });
        s.models = r.models; s.acquired = r.results; T.drawScene();
      }
    } catch (err) {
      showError("#mm-action-error", err);
      if (act === "claim" || act === "enter") {  // someone may have been faster: show the segment as it is now
        await Promise.all([T.refreshTimeline(), T.loadLottery()]);
        const i = st.cells.findIndex((x) => x.index === s.index);
        if (i >= 0) { st.scene.cell = st.cells[i]; T.drawActions(); }
      }
    } finally {
      if (document.body.contains(btn)) btn.disabled = false;
    }
  }

  async function onHeadClick(ev) {
    const btn = ev.target.closest("button[data-act='enter'], button[data-act='draw']");
    if (!btn || btn.disabled) return;
    btn.disabled = true;
    try { await T.sendPrepared(btn.dataset.act, "#mm-lottery-msg"); }
    catch (err) { showError("#mm-lottery-msg", err); T.loadLottery(); }
    finally { if (document.body.contains(btn)) btn.disabled = false; }
  }

  Object.assign(T, { followJob, drawJob, onSceneClick, onHeadClick });
})();
