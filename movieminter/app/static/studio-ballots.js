/* The Studio's ballots (director or collective leader): open a takes ballot on an unminted segment or an idea
 * ballot with 2-8 options; list the movie's ballots with their phase and tallies; Settle a finished takes
 * ballot (the server lists the recorded takes from the chain) and Release a segment whose winner did not mint
 * it within the claim window; Prepare ticket votes pre-pays ticket holders' first vote. The server prepares each transaction (api/v1/takes/...), the wallet signs it
 * (MMCommunity.send shows the cost first and follows the receipt).
 */
(function () {
  "use strict";
  if (window.MMBallots) return;
  const esc = (s) => String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const short = (a) => (a ? a.slice(0, 6) + "…" + a.slice(-4) : "—");
  const when = (t) => new Date(Number(t) * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  const api = (path, opts) => window.MMWallet.api(path, opts);
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const PHASE = { takes: "taking takes", "not started": "voting not started", voting: "voting", closed: "vote over" };

  function formHtml() {
    return `<fieldset class="mm-ballot-form"><legend>Open a ballot</legend>
      <div class="mm-grid">
        <label>Kind<select id="mm-ballot-kind"><option value="takes">Takes of a segment</option><option value="idea">An idea with options</option></select></label>
        <label data-for="takes">Segment<input type="number" id="mm-ballot-seg" min="0" value="0" class="mm-narrow"></label>
        <label>Minutes until voting starts<input type="number" id="mm-ballot-takes-min" min="1" step="1" value="60"></label>
        <label>Voting minutes<input type="number" id="mm-ballot-vote-min" min="1" step="1" value="1440"></label>
      </div>
      <label data-for="idea" hidden>Options, one per line (2 to 8)<textarea id="mm-ballot-options" rows="4" placeholder="Dawn&#10;Storm"></textarea></label>
      <p class="mm-hint">Takes: the collective's pass holders render and record takes of the segment until voting starts; the winner
      then mints it. Idea: holders vote on your options. Times are chain time; voting starts at least a minute from now.</p>
      <button type="button" class="mm-btn mm-primary" data-act="open-ballot">Open ballot</button></fieldset>`;
  }

  function rowHtml(b) {
    const what = b.kind === "takes" ? `Takes of segment ${b.segment}` : `Idea: ${b.options.map((o) => esc(o.label)).join(" / ")}`;
    const tallies = b.options.length ? b.options.map((o) => `${esc(o.label)}${o.taker ? ` (${esc(short(o.taker))})` : ""}: ${plural(o.votes, "vote", "votes")}`).join("<br>") : "no takes yet";
    let state = `${esc(PHASE[b.phase] || b.phase)}: ${b.phase === "takes" ? "takes until " + when(b.start) : b.phase === "closed" ? "ended " + when(b.end) : "until " + when(b.end)}`;
    if (b.winner) state += `<br>Take ${b.winner.take + 1} by ${esc(short(b.winner.taker))} won${b.segment_minted ? " and is minted" : `; it may mint until ${esc(when(b.release_at))}`}.`;
    else if (b.kind === "idea" && b.phase === "closed") state += b.leader === null ? "<br>Nobody voted." : `<br>Winner: ${esc(b.options[b.leader].label)}.`;
    if (b.released) state += "<br>Released: the segment is open again.";
    let act = "";
    if (b.can_settle) act += `<button type="button" class="mm-btn mm-btn-small" data-act="settle" data-ballot="${b.ballot}">Settle</button>`;
    if (b.can_release) act += `<button type="button" class="mm-btn mm-btn-small" data-act="release" data-ballot="${b.ballot}">Release</button>`;
    if (b.to_prepare) {
      act += `<button type="button" class="mm-btn mm-btn-small" data-act="prepare" data-ballot="${b.ballot}" data-testid="prepare-votes-${b.ballot}" ` +
        `aria-label="Prepare ${plural(b.to_prepare, "ticket vote", "ticket votes")} of ballot ${b.ballot}">Prepare votes (${b.to_prepare})</button>`;
    }
    return `<tr data-testid="studio-ballot-${b.ballot}"><td>${b.ballot}</td><td>${what}</td>
      <td data-testid="ballot-state-${b.ballot}">${state}</td><td data-testid="ballot-tallies-${b.ballot}">${tallies}</td><td>${act}</td></tr>`;
  }

  function bodyHtml(v) {
    return (v.can_open ? formHtml() : `<p class="mm-hint" data-testid="ballots-why">${esc(v.why_not)}</p>`) +
      `<div class="mm-community-msg mm-alert" hidden role="status"></div>` +
      (v.ballots.length ? `<div class="mm-table-box"><table class="mm-table mm-ballots"><caption>This movie's ballots</caption><thead><tr><th scope="col">#</th><th scope="col">Ballot</th>
        <th scope="col">State</th><th scope="col">Tallies</th><th scope="col">Action</th></tr></thead><tbody>${v.ballots.map(rowHtml).join("")}</tbody></table></div>` +
        (v.ballots.some((b) => b.to_prepare) ? `<p class="mm-hint" data-testid="prepare-votes-hint">Prepare votes: a ticket holder's first vote writes a new storage slot
          (about 63,000 gas). Prepared by you (about 22,000 gas per voter), it costs them about 46,000.</p>` : "")
        : `<p class="mm-muted">No ballot yet.</p>`);
  }

  function panel(section) {
    let movieId = null;
    const body = section.querySelector(".mm-ballots-body");
    const box = () => body.querySelector(".mm-community-msg");
    async function load(id) {
      if (id !== undefined) movieId = id;
      if (movieId === null || movieId === "") return;
      try {
        const v = await api(`api/v1/takes/movies/${encodeURIComponent(movieId)}/ballots`);
        section.hidden = !v.community;  // no Community contract configured: no ballots here
        if (!v.community) return;
        body.innerHTML = bodyHtml(v);
      } catch (err) {
        section.hidden = false;
        body.innerHTML = `<div class="mm-community-msg mm-alert" role="alert"></div>`;
        window.MMCommunity.sayError(box(), err);
      }
    }
    body.addEventListener("change", (e) => {
      if (e.target.id !== "mm-ballot-kind") return;
      const idea = e.target.value === "idea";
      body.querySelector('[data-for="idea"]').hidden = !idea;
      body.querySelector('[data-for="takes"]').hidden = idea;
    });
    body.addEventListener("click", async (e) => {
      const btn = e.target.closest("button[data-act]");
      if (!btn) return;
      const msg = box();
      btn.disabled = true;
      try {
        const act = btn.dataset.act, b = btn.dataset.ballot;
        if (act === "open-ballot") {
          const val = (id) => body.querySelector(id).value;
          const kind = val("#mm-ballot-kind");
          const req = { kind, segment: Number(val("#mm-ballot-seg") || 0), takes_minutes: Number(val("#mm-ballot-takes-min") || 0),
            vote_minutes: Number(val("#mm-ballot-vote-min") || 0), options: val("#mm-ballot-options").split("\n").map((s) => s.trim()).filter(Boolean) };
          const what = kind === "takes" ? `a takes ballot on segment ${req.segment}` : `an idea ballot with ${req.options.length} options`;
          await window.MMCommunity.send(`api/v1/takes/movies/${movieId}/ballots/tx`, req, what, msg);
        }
        if (act === "settle") await window.MMCommunity.send(`api/v1/takes/ballots/${b}/settle/tx`, {}, `settling ballot ${b}`, msg);
        if (act === "prepare") await window.MMCommunity.send(`api/v1/takes/ballots/${b}/prepare/tx`, {}, `preparing ballot ${b}'s ticket votes`, msg);
        if (act === "release") await window.MMCommunity.send(`api/v1/takes/ballots/${b}/release/tx`, {}, `releasing ballot ${b}'s segment`, msg);
        const done = msg.innerHTML;
        await load();
        window.MMCommunity.say(box(), done);
      } catch (err) { window.MMCommunity.sayError(msg, err); btn.disabled = false; }
    });
    document.addEventListener("mm-wallet", () => load());
    return { load };
  }

  function mount(element) {
    if (!(window.MMWallet && window.mmBase)) { setTimeout(() => mount(element), 50); return; }  // the page loads wallet.js
    const section = element.querySelector(".mm-ballots-panel");
    if (!section || section.dataset.mounted) return;
    section.dataset.mounted = "1";
    const p = panel(section);
    const idField = () => document.querySelector("#mm-movie-id");
    document.addEventListener("click", (e) => { if (e.target.closest && e.target.closest("#mm-load") && idField()) p.load(idField().value); });
    const qs = new URLSearchParams(location.search).get("movie");
    if (qs !== null) p.load(qs);
  }

  window.MMBallots = { mount };
})();
