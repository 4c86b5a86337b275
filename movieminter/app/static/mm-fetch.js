// mmFetch: fetch() for the Movie Minter API with the CSRF token.
// The app sets the cookie `mm_csrf` on the first response to a browser; every
// state-changing request (POST/PUT/PATCH/DELETE) to api/... must echo it in the
// `X-CSRF-Token` header. Use RELATIVE urls ("api/v1/jobs"), so calls work both
// standalone and under A1111's /movieminter/ proxy.
//   <script src="static/mm-fetch.js"></script>
//   const job = await mmFetch("api/v1/jobs", {method: "POST", json: {...}});
//   mmEvents("api/v1/jobs/3/events", {progress: (d) => ..., state: (d) => ...});
(function (global) {
  "use strict";
  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)mm_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  async function ensureToken() {
    if (!csrfToken()) await fetch(global.mmBase("healthz"), {credentials: "same-origin"});
    return csrfToken();
  }
  // Resolve a relative API path against the app's root (the page may be a
  // gradio UI mounted at /studio or /watch): mmBase("api/v1/jobs").
  global.mmBase = function (path) {
    const root = document.querySelector('meta[name="mm-root"]');
    const base = root ? root.content : (global.MM_ROOT || "./");
    return new URL(path.replace(/^\//, ""), new URL(base, document.baseURI)).toString();
  };
  global.mmFetch = async function (path, options) {
    const opts = Object.assign({method: "GET", credentials: "same-origin"}, options || {});
    const headers = new Headers(opts.headers || {});
    if (opts.json !== undefined) {
      headers.set("Content-Type", "application/json");
      opts.body = JSON.stringify(opts.json);
      delete opts.json;
    }
    if (!["GET", "HEAD", "OPTIONS"].includes(opts.method.toUpperCase())) {
      headers.set("X-CSRF-Token", await ensureToken());
    }
    opts.headers = headers;
    const response = await fetch(global.mmBase(path), opts);
    const type = response.headers.get("content-type") || "";
    const body = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) {
      const d = (body && body.detail) || {};
      const err = new Error(d.message || (typeof d === "string" ? d : response.statusText));
      err.hint = d.hint; err.status = response.status; err.body = body;
      throw err;
    }
    return body;
  };
  // Server-sent events: handlers by event name ("state", "progress").
  global.mmEvents = function (path, handlers) {
    const es = new EventSource(global.mmBase(path), {withCredentials: true});
    for (const [name, fn] of Object.entries(handlers || {})) {
      es.addEventListener(name, (e) => fn(JSON.parse(e.data), e));
    }
    return es;
  };
  // The A1111 tab posts {type: "movieminter-theme", theme} when A1111's theme
  // changes (the first theme comes as ?__theme= in the URL, which gradio reads).
  global.addEventListener("message", (e) => {
    if (e.origin !== global.location.origin || !e.data || e.data.type !== "movieminter-theme") return;
    document.body.classList.toggle("dark", e.data.theme === "dark");
  });
  // Inside A1111's tab the page tells the tab its height, and the tab sizes the iframe to it:
  // A1111's page is the only thing that scrolls (no inner scrollbar, no second footer).
  if (global.parent !== global) {
    document.documentElement.classList.add("mm-embedded");
    let last = 0;
    const report = () => {
      const root = document.querySelector(".mm-root, .mm-page");
      if (!root) return;
      const height = Math.ceil(root.getBoundingClientRect().bottom + global.scrollY) + 24;
      if (height === last) return;
      last = height;
      global.parent.postMessage({type: "movieminter-height", height}, global.location.origin);
    };
    const watch = () => {
      const root = document.querySelector(".mm-root, .mm-page");
      if (!root) return false;
      new ResizeObserver(report).observe(root);
      report();
      return true;
    };
    const start = () => {
      if (watch()) return;
      const obs = new MutationObserver(() => { if (watch()) obs.disconnect(); });
      obs.observe(document.documentElement, {childList: true, subtree: true});
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
})(window);
