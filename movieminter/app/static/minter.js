/* The Movie Minter tab: movie loader, segment timeline, scene detail, Render & Mint.
 * Mounted by movieminter/app/ui/minter.py into a gr.HTML element. Talks to the
 * REST API with relative URLs (works at / and under /movieminter/); the wallet
 * part is static/wallet.js (window.MMWallet).
 *
 * This file loads the tab's parts (minter-base, -timeline, -scene, -jobs, -lists, -takes: they share
 * window.MMTab), in order, then mounts it. gradio inserts head scripts dynamically, so they run in
 * no set order: window.MMMinter exists once every part has run, and "mm-minter-ready" says when.
 */
(function () {
  "use strict";
  if (window.MMTab) return;
  const T = (window.MMTab = {});
  const here = document.currentScript ? document.currentScript.src.replace(/[^/]*$/, "") : "static/";
  const PARTS = ["minter-base.js", "minter-timeline.js", "minter-scene.js", "minter-jobs.js", "minter-lists.js", "minter-takes.js"];
  let left = PARTS.length;
  for (const part of PARTS) {
    const s = document.createElement("script");
    s.src = here + part;
    s.async = false;  // dynamically inserted scripts run in insertion order only when not async
    s.onload = () => { if (--left === 0) ready(); };
    s.onerror = () => console.error("Movie Minter: cannot load " + s.src);
    document.head.appendChild(s);
  }

  // ---------------------------------------------------------------- mount
  function mount(element) {
    const { $, ui, st } = T;  // the parts' shared helpers and state (loaded by now)
    T.root = element.querySelector(".mm-root") || element;
    if (T.root.dataset.mounted) return;
    T.root.dataset.mounted = "1";
    // The elements the parts use, by the name they use them under (ui.x is the element #mm-<id>).
    const IDS = { wallet: "wallet", walletMenu: "wallet-menu", recent: "recent", openBtn: "open", ref: "ref", movieHead: "movie",
      timelineWrap: "timeline", grid: "grid", legend: "legend", scene: "scene", sceneTitle: "scene-title", sceneBody: "scene-body" };
    for (const [name, id] of Object.entries(IDS)) ui[name] = $(`#mm-${id}`);

    ui.wallet.addEventListener("click", T.onWalletClick);
    ui.walletMenu.addEventListener("click", T.onWalletClick);
    ui.walletMenu.addEventListener("keydown", (e) => { if (e.key === "Escape") { ui.walletMenu.hidden = true; ui.wallet.querySelector("button").focus(); } });
    $("#mm-load").addEventListener("submit", (e) => { e.preventDefault(); T.openMovie(ui.ref.value); });
    ui.recent.addEventListener("click", (e) => { const b = e.target.closest("[data-ref]"); if (b) { ui.ref.value = b.dataset.ref; T.openMovie(b.dataset.ref); } });
    ui.grid.addEventListener("click", T.onGridClick);
    ui.grid.addEventListener("keydown", T.onGridKey);
    T.initTimeline();
    ui.movieHead.addEventListener("click", T.onHeadClick);
    ui.sceneBody.addEventListener("click", T.onSceneClick);
    $("#mm-scene-close").addEventListener("click", () => { ui.scene.hidden = true; if (st.source) st.source.close(); st.job = null; T.focusCell(st.focus); });
    document.addEventListener("mm-wallet", (e) => { T.renderWallet(e.detail); if (st.scene && ui.scene && !ui.scene.hidden) T.drawActions(); });

    window.MMWallet.config().catch((err) => { st.configError = err; }).then(() => { T.renderWallet(window.MMWallet.state); T.listsReady(); });
    T.loadRecent();
    T.mountLists();
    const m = /movie=([^&]+)/.exec(window.location.hash || "");
    const seg = /segment=(\d+)/.exec(window.location.hash || "");  // a shared token link opens its scene
    if (m) { ui.ref.value = decodeURIComponent(m[1]); T.openMovie(ui.ref.value).then(() => { if (seg && st.movie) T.openScene(Number(seg[1])); }); }
    T.root.dataset.ready = "1";
  }

  function ready() {
    window.MMMinter = { mount, openMovie: T.openMovie, refreshTimeline: T.refreshTimeline, state: T.st,
      loadCatalog: T.loadCatalog, loadMine: T.loadMine, loadShare: T.loadShare };
    document.dispatchEvent(new CustomEvent("mm-minter-ready"));
  }
})();
