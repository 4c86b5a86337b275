/* Watch page: ticket with the wallet, then the stitched movie with chapters crediting minters. */
(function () {
  "use strict";
  const P = window.MMPage;
  const { $, esc, short, api, notice, showError, sendTx } = P;

  window.MMPageInit = function (root) {
    const video = $(root, "#mm-video");
    let movie = null;

    async function open() {
      const id = $(root, "#mm-movie-id").value;
      if (id === "") return;
      movie = parseInt(id, 10);
      const t = await api(`api/v1/movies/${movie}/ticket` + (MMWallet.state.address ? "?address=" + MMWallet.state.address : ""));
      $(root, ".mm-title").textContent = t.title || `Movie ${movie}`;
      renderChapters(t.chapters || []);
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

    function renderChapters(items) {
      $(root, "#mm-chapters").innerHTML = items.map((c) => `<li data-index="${c.index}"><button type="button" class="mm-chapter" data-start="${c.start}">
        ${esc(c.title)}</button> <span class="mm-credit">${c.minter ? "minted by " + esc(short(c.minter)) : "not minted yet"}</span></li>`).join("");
    }

    async function play() {
      notice("Preparing the movie (stitching the minted segments)…");
      const w = await api(`api/v1/movies/${movie}/watch`);
      renderChapters(w.chapters);
      $(root, "#mm-player").hidden = false;
      video.querySelectorAll("track").forEach((t) => t.remove());
      const track = document.createElement("track");
      track.kind = "chapters"; track.src = P.resolve(w.chapters_url); track.default = true; track.srclang = "en";
      video.appendChild(track);
      video.src = P.resolve(w.stream_url);
      notice("Ready. " + w.public_notice, "ok");
    }

    $(root, "#mm-chapters").addEventListener("click", (e) => {
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
