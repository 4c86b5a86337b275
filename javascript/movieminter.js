// Movie Minter tab glue: size the iframe to the viewport and hand A1111's
// light/dark theme to the app (gradio's ?__theme= query parameter, and a
// postMessage when A1111's theme changes without a reload).
(function () {
  "use strict";
  function root() {
    return typeof gradioApp === "function" ? gradioApp() : document;
  }
  function theme() {
    const q = new URLSearchParams(window.location.search).get("__theme");
    if (q === "dark" || q === "light") return q;
    return document.body.classList.contains("dark") ? "dark" : "light";
  }
  function withTheme(src, t) {
    const url = new URL(src, document.baseURI);
    url.searchParams.set("__theme", t);
    return url.pathname + url.search + url.hash;
  }
  function size(frame) {
    if (frame.dataset.mmContentHeight) return; // the page said how tall it is (below)
    const top = frame.getBoundingClientRect().top;
    if (frame.offsetParent === null) return; // tab hidden
    frame.style.height = Math.max(480, window.innerHeight - Math.max(top, 0) - 16) + "px";
  }
  // The app's pages post their content height: the iframe takes it, so A1111's page is the
  // only scrollbar (until then the iframe fills the viewport).
  function fit(frame) {
    window.addEventListener("message", (e) => {
      if (e.source !== frame.contentWindow || e.origin !== window.location.origin) return;
      if (!e.data || e.data.type !== "movieminter-height") return;
      const h = Number(e.data.height);
      if (!(h > 0)) return;
      frame.dataset.mmContentHeight = String(h);
      frame.style.height = Math.max(480, Math.min(h, 200000)) + "px";
    });
  }
  function setup(frame) {
    if (frame.dataset.mmReady) return;
    frame.dataset.mmReady = "1";
    const t = theme();
    const want = withTheme(frame.getAttribute("src") || "movieminter/", t);
    if (new URL(frame.src, document.baseURI).searchParams.get("__theme") !== t) frame.src = want;
    frame.dataset.mmTheme = t;
    fit(frame);
    size(frame);
    window.addEventListener("resize", () => size(frame));
    new ResizeObserver(() => size(frame)).observe(document.body);
    new MutationObserver(() => {
      const now = theme();
      if (now !== frame.dataset.mmTheme) {
        frame.dataset.mmTheme = now;
        frame.contentWindow && frame.contentWindow.postMessage({type: "movieminter-theme", theme: now},
                                                               window.location.origin);
      }
    }).observe(document.body, {attributes: true, attributeFilter: ["class"]});
  }
  function find() {
    const frame = root().querySelector("#movieminter-frame");
    if (frame) setup(frame);
    return !!frame;
  }
  function start() {
    if (find()) return;
    const obs = new MutationObserver(() => { if (find()) obs.disconnect(); });
    obs.observe(document.documentElement, {childList: true, subtree: true});
  }
  if (typeof onUiLoaded === "function") onUiLoaded(start);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
