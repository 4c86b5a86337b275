/* The Movie Minter tab, part 2: the segment timeline (a virtualized grid of up to thousands of cells). */
(function () {
  "use strict";
  const T = window.MMTab;
  const { $, esc, short, fmtDate, st, ui, api, showError } = T;  // part 1's helpers (loaded first)

  // ---------------------------------------------------------------- timeline
  async function refreshTimeline() {
    if (!st.movie) return;
    try {
      const data = await api(`api/v1/movies/${st.movie.movie_id}/segments`);
      st.cells = data.segments;
      drawTimeline();
      showError("#mm-timeline-error", null);
      if (st.scene) {  // the open scene shows the same segment's new status and buttons
        const fresh = st.cells.find((c) => c.index === st.scene.index);
        if (fresh) { st.scene.cell = fresh; T.drawActions(); }
      }
    } catch (err) {
      ui.timelineWrap.hidden = false;  // the section holds the error: a movie refused at once must say why
      showError("#mm-timeline-error", err);
    }
  }

  function stateLabel(c) {  // an allowlist's or a lottery win's segment is the wallet's to mint at once: no claim
    if (c.state === "rendering" && c.job && c.job.state === "awaiting_signature") return "needs your signature";
    if (c.state === "yours" && c.allowlisted) return "yours to mint (allowlist)";
    if (c.state === "yours" && c.chain_status === "won") return "yours to mint (won in the lottery)";
    if (c.state === "assigned" && c.chain_status === "won") return "won by someone else";
    return T.STATE_LABEL[c.state] || c.state;
  }

  function cellLabel(c) {
    let s = `Segment ${c.index}${c.title ? ": " + c.title : ""}, ${stateLabel(c)}`;
    if (c.state === "assigned" && c.holder) s += ` (${short(c.holder)})`;
    if (c.state === "minted" && c.holder) s += ` by ${short(c.holder)}`;
    return s;
  }

  // A feature film has ~1,080 segments: the grid holds only the rows in view (and a few either side) in the
  // DOM; a spacer above and one below stand in for the other rows, so the scrollbar, the scroll position, the
  // keyboard and aria-colindex still span every segment. The legend and "yours" count all of them.
  const TL = { cols: 1, rowH: 0, cellH: 0, first: -1, last: -1, n: -1, frame: 0, width: 0 };
  const TL_OVERSCAN = 2;  // rows drawn beyond each edge of the view
  const TL_CELL_MIN = 58;  // minter.css: .mm-grid columns are minmax(58px, 1fr)

  function cellHtml(c, i, movieId, tab) {
    const thumb = c.thumb ? ` style="background-image:url('api/v1/movies/${movieId}/segments/${c.index}/thumb')"` : "";
    const label = esc(cellLabel(c));
    return `<button type="button" class="mm-cell mm-s-${c.state}${c.thumb ? " mm-has-thumb" : ""}" role="gridcell" data-i="${i}" ` +
      `aria-colindex="${i + 1}" tabindex="${i === tab ? 0 : -1}" aria-label="${label}" title="${label}"${thumb}>` +
      `<span class="mm-cell-n" aria-hidden="true">${c.index}</span></button>`;
  }

  // Columns as CSS auto-fill makes them; the row pitch measured from a drawn cell (estimated before one is).
  function tlMeasure() {
    const cs = getComputedStyle(ui.grid);
    const width = ui.grid.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const colGap = parseFloat(cs.columnGap) || 0, rowGap = parseFloat(cs.rowGap) || 0;
    TL.cols = width > 0 ? Math.max(1, Math.floor((width + colGap) / (TL_CELL_MIN + colGap))) : 1;
    TL.width = width;
    const cell = ui.grid.querySelector(".mm-cell");
    const h = cell ? cell.getBoundingClientRect().height : Math.max(24, ((width - colGap * (TL.cols - 1)) / TL.cols) * 9 / 16);
    TL.rowH = h + rowGap;
    TL.cellH = h;
  }

  function drawWindow(force) {
    const n = st.cells.length;
    if (!n || !TL.rowH) return;
    const rows = Math.ceil(n / TL.cols);
    const top = ui.grid.scrollTop, view = ui.grid.clientHeight || 420;
    const first = Math.max(0, Math.floor(top / TL.rowH) - TL_OVERSCAN);
    const last = Math.min(rows - 1, Math.ceil((top + view) / TL.rowH) + TL_OVERSCAN);
    if (!force && first === TL.first && last === TL.last && n === TL.n) return;
    Object.assign(TL, { first, last, n });
    const a = first * TL.cols, b = Math.min(n, (last + 1) * TL.cols);
    const focused = ui.grid.contains(document.activeElement) ? document.activeElement : null;
    // one tab stop: the focused segment when it is drawn, else the first drawn one (focusin adopts it)
    const tab = st.focus >= a && st.focus < b ? st.focus : a;
    const movieId = st.movie.movie_id;
    // a full-width spacer holds the place of the rows not drawn (its own row gap included)
    const gap = TL.rowH - TL.cellH;
    const spacer = (r) => r ? `<div class="mm-grid-spacer" aria-hidden="true" style="height:${r * TL.rowH - gap}px"></div>` : "";
    let html = spacer(first);
    for (let i = a; i < b; i++) html += cellHtml(st.cells[i], i, movieId, tab);
    ui.grid.innerHTML = html + spacer(rows - 1 - last);
    if (focused) {  // keep the keyboard in the grid when the focused cell scrolled out of the drawn rows
      const cell = ui.grid.querySelector(`[data-i="${st.focus}"]`);
      (cell || ui.grid).focus({ preventScroll: true });
    }
  }

  function scheduleWindow() {
    if (TL.frame) return;
    TL.frame = requestAnimationFrame(() => { TL.frame = 0; if (st.movie && st.cells.length) drawWindow(false); });
  }

  function relayout() {  // width changed (window resize, the tab shown): columns and row pitch change
    if (!st.movie || !st.cells.length) return;
    tlMeasure();
    drawWindow(true);
    const measured = TL.rowH;
    tlMeasure();
    if (Math.abs(TL.rowH - measured) > 0.1) drawWindow(true);
  }

  function initTimeline() {
    ui.grid.tabIndex = -1;  // holds the focus while the focused cell is scrolled out of the DOM
    ui.grid.addEventListener("scroll", scheduleWindow, { passive: true });
    ui.grid.addEventListener("focusin", (e) => {
      const cell = e.target.closest(".mm-cell");
      if (cell) st.focus = Number(cell.dataset.i);
    });
    // "Go to segment": a long film is quicker to reach by number than by scrolling
    const jump = $("#mm-jump");
    if (jump) {
      jump.addEventListener("submit", (e) => {
        e.preventDefault();
        const want = Number($("#mm-jump-to").value);
        const i = st.cells.findIndex((c) => c.index === want);
        if (i >= 0) focusCell(i);
      });
    }
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        if (ui.grid.clientWidth && Math.abs(ui.grid.clientWidth - TL.width) > 1) relayout();
      }).observe(ui.grid);
    }
  }

  function drawTimeline() {
    const counts = { open: 0, yours: 0, assigned: 0, rendering: 0, minted: 0 };
    for (const c of st.cells) counts[c.state] = (counts[c.state] || 0) + 1;
    ui.timelineWrap.hidden = false;
    ui.grid.setAttribute("aria-rowcount", "1");
    ui.grid.setAttribute("aria-colcount", String(st.cells.length));
    if (st.focus >= st.cells.length) st.focus = 0;
    tlMeasure();
    if (TL.n !== st.cells.length) ui.grid.innerHTML = "";  // another movie: estimate the pitch afresh
    drawWindow(true);
    const measured = TL.rowH;
    tlMeasure();
    if (Math.abs(TL.rowH - measured) > 0.1) drawWindow(true);
    ui.legend.innerHTML = Object.keys(T.STATE_LABEL).map((k) =>
      `<span class="mm-legend-item"><span class="mm-swatch mm-s-${k}"></span>${esc(T.STATE_LABEL[k])} <b>${counts[k] || 0}</b></span>`).join("");
    ui.grid.dataset.count = String(st.cells.length);
    const jump = $("#mm-jump");
    if (jump) {
      jump.hidden = st.cells.length <= 60;  // a screenful needs no jump
      $("#mm-jump-to").max = String(st.cells.length - 1);
    }
    drawYours();
  }

  // Scroll the row of segment i into view (nearest edge) and draw it.
  function revealCell(i) {
    const row = Math.floor(i / TL.cols);
    const top = row * TL.rowH, bottom = top + TL.rowH, view = ui.grid.clientHeight;
    if (top < ui.grid.scrollTop) ui.grid.scrollTop = top;
    else if (bottom + 8 > ui.grid.scrollTop + view) ui.grid.scrollTop = bottom + 8 - view;
    drawWindow(false);
    return ui.grid.querySelector(`[data-i="${i}"]`);
  }

  // "You won segment 12: mint before DATE": the segments reserved for this wallet, with their deadlines.
  function drawYours() {
    const box = $("#mm-yours");
    if (!box) return;
    const verb = st.movie.mint_mode === "lottery" ? "won" : "claimed";
    const mine = st.cells.filter((c) => c.state === "yours");
    const me = (st.wallet && st.wallet.address || "").toLowerCase();
    const sign = st.cells.filter((c) => c.job && c.job.state === "awaiting_signature" && (c.job.wallet || "").toLowerCase() === me);
    box.hidden = mine.length === 0 && sign.length === 0;
    box.innerHTML = mine.slice(0, 20).map((c) =>
      `<div>${c.allowlisted ? "The allowlist gives you" : "You " + verb} segment ${c.index}${c.title ? " (" + esc(c.title) + ")" : ""}` +
      (c.deadline ? `: mint before ${esc(fmtDate(c.deadline))}.` : ".") + `</div>`).join("") +
      (mine.length > 20 ? `<div>…and ${mine.length - 20} more.</div>` : "") +
      sign.map((c) => `<div data-testid="needs-signature"><b>Segment ${c.index} needs your signature</b>: it is rendered and pinned; open it and click Sign to mint.</div>`).join("");
  }

  function focusCell(i) {
    const n = st.cells.length;
    if (!n) return;
    i = Math.max(0, Math.min(n - 1, i));
    const prev = ui.grid.querySelector('[tabindex="0"]');
    if (prev) prev.tabIndex = -1;
    st.focus = i;
    const cell = revealCell(i);
    if (!cell) return;
    cell.tabIndex = 0;
    cell.focus({ preventScroll: true });
  }

  function onGridKey(ev) {
    const cell = ev.target.closest(".mm-cell");
    if (!cell && ev.target !== ui.grid) return;
    const i = cell ? Number(cell.dataset.i) : st.focus;  // the grid itself holds the focus while it scrolled away
    const cols = TL.cols;
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols, PageDown: cols * 5, PageUp: -cols * 5 };
    if (ev.key in moves) { ev.preventDefault(); focusCell(i + moves[ev.key]); }
    else if (ev.key === "Home") { ev.preventDefault(); focusCell(0); }
    else if (ev.key === "End") { ev.preventDefault(); focusCell(st.cells.length - 1); }
    else if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); T.openScene(i); }
  }

  function onGridClick(ev) {
    const cell = ev.target.closest(".mm-cell");
    if (!cell) return;
    const i = Number(cell.dataset.i);
    focusCell(i);
    T.openScene(i);
  }

  Object.assign(T, { refreshTimeline, stateLabel, initTimeline, focusCell, onGridKey, onGridClick });
})();
