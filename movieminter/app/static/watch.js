/* Watch page: what the movie is before paying (poster, runtime, director, exact price), a ticket with the
   wallet, then the stitched movie with chapter marks on the scrub bar and the current chapter highlighted.
   The chapter list renders only the rows in view (a feature has ~1,080 chapters). */
(function () {
  "use strict";
  const P = window.MMPage;
  const { $, esc, short, api, notice, showError, sendTx } = P;
  const ROW = 34; // px per chapter row (fixed, so the visible window is computed, not measured)

  // 75 -> "1:15", 3725 -> "1:02:05"
  function clock(sec) {
    const s = Math.max(0, Math.floor(sec)), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
  }

  // Index of the chapter playing at time t (chapters sorted by start): binary search.
  function chapterAt(items, t) {
    let lo = 0, hi = items.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid].start <= t + 1e-6) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  // A chapter's credit: its minter, and whether it waits for the director's approval (a placeholder plays).
  function credit(c) {
    if (!c.minter) return "not minted yet";
    return "minted by " + short(c.minter) + (c.awaiting ? ", " + c.awaiting : "");
  }

  window.MMPageInit = function (root) {
    const video = $(root, "#mm-video");
    const box = $(root, "#mm-chapters-box"), list = $(root, "#mm-chapters");
    const range = $(root, "#mm-scrub-range");
    let movie = null, chapters = [], runtime = 0, current = -1, followList = true;

    function renderAbout(t) {
      $(root, "#mm-about").hidden = false;
      const dir = $(root, "#mm-director");
      dir.textContent = short(t.director); dir.title = t.director || "";
      const rt = $(root, "#mm-runtime");
      rt.textContent = t.runtime_seconds === null || t.runtime_seconds === undefined ? "—" : clock(t.runtime_seconds);
      rt.dataset.seconds = t.runtime_seconds === null || t.runtime_seconds === undefined ? "" : String(t.runtime_seconds);
      $(root, "#mm-segcount").textContent = t.segment_count ? `${t.segment_count} (${t.minted_count || 0} minted)` : "—";
      $(root, "#mm-price").textContent = P.eth(t.price_wei);
      const img = $(root, "#mm-poster"), note = $(root, "#mm-poster-note");
      if (t.poster_url) {
        img.onload = () => { img.hidden = false; note.textContent = `First frame of segment ${t.poster_segment}, as minted.`; };
        img.onerror = () => { img.hidden = true; note.textContent = `No poster: segment ${t.poster_segment}'s video gave no still.`; };
        img.alt = `Poster of ${t.title}: the first frame of segment ${t.poster_segment}`;
        img.src = P.resolve(t.poster_url);
      } else {
        img.hidden = true; img.removeAttribute("src");
        note.textContent = "No poster yet: no segment is minted.";
      }
    }

    async function open() {
      const id = $(root, "#mm-movie-id").value;
      if (id === "") return;
      movie = parseInt(id, 10);
      const t = await api(`api/v1/movies/${movie}/ticket` + (MMWallet.state.address ? "?address=" + MMWallet.state.address : ""));
      $(root, ".mm-title").textContent = t.title || `Movie ${movie}`;
      renderAbout(t);
      setChapters(t.chapters || []);
      const buy = $(root, "#mm-buy");
      if (!MMWallet.state.signedIn) {
        $(root, "#mm-ticket-status").textContent = `A ticket costs ${P.eth(t.price_wei)}. Connect your wallet to buy one or to watch with the one you have.`;
        buy.hidden = true; return;
      }
      if (!t.has_ticket) {
        $(root, "#mm-ticket-status").textContent = `A ticket costs ${P.eth(t.price_wei)}; it goes to the creator, the director and the minters.`;
        buy.hidden = false; buy.textContent = `Buy ticket (${P.eth(t.price_wei)})`; return;
      }
      buy.hidden = true;
      $(root, "#mm-ticket-status").textContent = "You have a ticket. Enjoy the movie.";
      await play();
    }

    // ---- chapters: the list (virtual) and the marks on the scrub bar
    function setChapters(items) {
      chapters = items;
      runtime = items.length ? items[items.length - 1].end : 0;
      current = -1;
      list.style.height = items.length * ROW + "px";
      box.scrollTop = 0;
      renderRows();
      renderMarks();
    }

    function renderRows() {
      const first = Math.max(0, Math.floor(box.scrollTop / ROW) - 4);
      const last = Math.min(chapters.length, first + Math.ceil((box.clientHeight || 360) / ROW) + 8);
      let html = "";
      for (let i = first; i < last; i++) {
        const c = chapters[i], on = i === current;
        html += `<li data-index="${c.index}" style="top:${i * ROW}px"${on ? ' class="mm-current" aria-current="true"' : ""}>` +
          `<button type="button" class="mm-chapter" data-start="${c.start}" title="${esc(c.title)}">` +
          `<span class="mm-chapter-time">${clock(c.start)}</span> ${esc(c.title)}</button> ` +
          `<span class="mm-credit" title="${esc(c.minter || "")}">${esc(credit(c))}</span></li>`;
      }
      list.innerHTML = html;
    }
    let rowsQueued = false;
    box.addEventListener("scroll", () => {
      if (rowsQueued) return;
      rowsQueued = true;
      requestAnimationFrame(() => { rowsQueued = false; renderRows(); });
    });
    // While the viewer scrolls the list, playback does not pull it back to the current chapter.
    box.addEventListener("pointerenter", () => { followList = false; });
    box.addEventListener("pointerleave", () => { followList = true; });

    // One SVG path for all the ticks (1,080 chapters stay one DOM node), one for the minted spans that play.
    function renderMarks() {
      const x = (t) => (runtime ? (t / runtime) * 1000 : 0).toFixed(2);
      let ticks = "", minted = "";
      chapters.forEach((c, i) => {
        if (i > 0) ticks += `M${x(c.start)} 0V12`;
        if (c.minted && !c.awaiting) minted += `M${x(c.start)} 3H${x(c.end)}V9H${x(c.start)}Z`;
      });
      $(root, ".mm-scrub-ticks").setAttribute("d", ticks);
      $(root, ".mm-scrub-minted").setAttribute("d", minted);
      $(root, "#mm-scrub").dataset.chapters = String(chapters.length);
      range.max = String(runtime || 0);
    }

    function highlight(t) {
      const i = chapterAt(chapters, t);
      range.value = String(t);
      if (i === current) return;
      current = i;
      const c = chapters[i], rect = $(root, ".mm-scrub-current");
      if (c && runtime) {
        rect.setAttribute("x", ((c.start / runtime) * 1000).toFixed(2));
        rect.setAttribute("width", (((c.end - c.start) / runtime) * 1000).toFixed(2));
      }
      $(root, "#mm-now").textContent = c ? `Chapter ${i + 1} of ${chapters.length}: ${c.title} — ${credit(c)}` : "";
      if (c && followList) {
        const top = i * ROW;
        if (top < box.scrollTop || top + ROW > box.scrollTop + box.clientHeight) box.scrollTop = Math.max(0, top - ROW * 2);
      }
      renderRows();
    }
    video.addEventListener("timeupdate", () => highlight(video.currentTime));
    video.addEventListener("seeked", () => highlight(video.currentTime));
    range.addEventListener("input", () => { if (video.src) video.currentTime = parseFloat(range.value); });
    // The chapter under the pointer, as the scrub bar's tooltip.
    range.addEventListener("pointermove", (e) => {
      const r = range.getBoundingClientRect();
      const c = chapters[chapterAt(chapters, ((e.clientX - r.left) / r.width) * runtime)];
      range.title = c ? `${clock(c.start)} ${c.title}` : "";
    });

    async function play() {
      notice("Preparing the movie (stitching the minted segments)…");
      const w = await api(`api/v1/movies/${movie}/watch`);
      setChapters(w.chapters);
      $(root, "#mm-player").hidden = false;
      video.querySelectorAll("track").forEach((t) => t.remove());
      const track = document.createElement("track");
      track.kind = "chapters"; track.src = P.resolve(w.chapters_url); track.default = true; track.srclang = "en";
      video.appendChild(track);
      video.src = P.resolve(w.stream_url);
      highlight(0);
      notice("Ready. " + w.public_notice, "ok");
    }

    list.addEventListener("click", (e) => {
      const b = e.target.closest(".mm-chapter");
      if (b && video.src) { video.currentTime = parseFloat(b.dataset.start) + 0.01; video.play().catch(() => {}); }
    });
    $(root, "#mm-open").addEventListener("click", () => open().catch(showError));
    $(root, "#mm-buy").addEventListener("click", async () => {
      try { await sendTx(`api/v1/movies/${movie}/ticket/tx`, {}, "buy a ticket"); await open(); } catch (err) { showError(err); }
    });
    P.wireWallet(root, (st) => { if (movie !== null && st.signedIn) open().catch(showError); });
    P.wireRevenue(root);
    const qs = new URLSearchParams(location.search);
    if (qs.get("movie")) { $(root, "#mm-movie-id").value = qs.get("movie"); open().catch(showError); }
  };
})();
