/* The Movie Minter tab, part 6: takes ballots on a segment (docs/minter-guide.md). While a ballot takes takes,
 * a pass holder of the movie's collective clicks Render take: the same job renders, encodes and pins the
 * segment, then the wallet signs recordTake with the pinned digests (the job rests in take_recorded). Once
 * the ballot is settled, the winning take's author clicks Mint winning take: that job mints the segment with
 * the take's pinned files, nothing rendered again. Everyone else reads why they cannot.
 * The server says where the ballot stands for this wallet: api/v1/takes/movies/{id}/segments/{n}.
 */
(function () {
  "use strict";
  const T = window.MMTab;
  const { esc, st, api } = T;  // part 1's helpers (loaded first)

  function key() {
    const s = st.scene, w = st.wallet || {};
    return `${s.movie_id}/${s.index}/${w.signedIn ? w.address : ""}/${st.job ? st.job.id + st.job.state : ""}`;
  }

  async function load(k) {
    const s = st.scene;
    st.takes = { key: k, view: undefined };
    try {
      const view = await api(`api/v1/takes/movies/${s.movie_id}/segments/${s.index}`);
      if (st.takes && st.takes.key === k) st.takes.view = view;
    } catch (err) {
      if (st.takes && st.takes.key === k) st.takes.view = { ballot: null };  // no Community here: the usual actions
    }
    if (st.scene === s) T.drawActions();
  }

  // Called by drawActions with the actions it would show; a segment a takes ballot holds shows these instead.
  function takesActions(html) {
    const k = key();
    if (!st.takes || st.takes.key !== k) { load(k); return html; }
    const t = st.takes.view;
    if (!t || !t.ballot) return html;
    if (st.job && T.ACTIVE_JOB.has(st.job.state)) return "";  // the job box below shows it
    let out = `<div class="mm-takes" data-testid="takes"><p><b>Takes ballot #${t.ballot}</b> holds this segment: pass holders render takes,
      holders vote, the winning take becomes the segment. ${t.takes === 1 ? "1 take" : `${t.takes} takes`} recorded.</p>` +
      (t.yours.length ? `<p class="mm-ok" data-testid="your-take">Your take${t.yours.length > 1 ? "s" : ""}: ${t.yours.map((k2) => `Take ${k2 + 1}`).join(", ")} (recorded).</p>` : "") +
      `<p class="mm-muted" data-testid="takes-message">${esc(t.message)}</p>`;
    if (t.can_take) out += `<button type="button" class="mm-btn mm-btn-primary" data-act="take-render" data-ballot="${t.ballot}">Render take</button>`;
    if (t.can_resume) out += `<button type="button" class="mm-btn" data-act="take-resume" data-job="${t.job.id}">Resume take job</button>`;
    // No job here: the take was recorded elsewhere; the app mints the files the ballot settled on.
    if (t.can_mint) out += `<button type="button" class="mm-btn mm-btn-primary" data-act="take-mint"${t.job ? ` data-job="${t.job.id}"` : ""}>Mint winning take</button>`;
    return out + `</div>`;
  }

  async function onTakeAct(act, btn) {
    const s = st.scene;
    let job;
    if (act === "take-render") {
      ({ job } = await api(`api/v1/takes/movies/${s.movie_id}/segments/${s.index}/job`, { method: "POST", body: { ballot: Number(btn.dataset.ballot) } }));
    } else if (act === "take-resume") {
      job = await api(`api/v1/jobs/${btn.dataset.job}/retry`, { method: "POST" });
    } else if (act === "take-mint") {
      job = btn.dataset.job ? await api(`api/v1/takes/jobs/${btn.dataset.job}/mint`, { method: "POST" }) :
        (await api(`api/v1/takes/movies/${s.movie_id}/segments/${s.index}/mint`, { method: "POST" })).job;
    } else return;
    st.job = job;
    st.rejected = null;
    T.drawJob(job, null);
    T.followJob(job.id);
  }

  // A take job signs recordTake, not the mint: the words the job box and the wallet prompt use.
  const recording = (job) => !!(job && job.params && job.params.take_ballot && !(job.data || {})._take_won);

  Object.assign(T, { takesActions, onTakeAct, recordingTake: recording });
})();
