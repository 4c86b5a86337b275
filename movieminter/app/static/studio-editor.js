/* Director studio: the segment table editor (rows = the manifest's segments, one page of 50 in the DOM).
 * The JSON textarea stays the source of truth: table edits rewrite it, typing in it rebuilds the table.
 * Loaded before static/studio.js, which creates it with window.MMSegmentEditor(root, manifestBox, {...}). */
(function () {
  "use strict";
  const P = window.MMPage;
  const { $, esc, api } = P;

  // validate(): the page's full manifest check (its problems come back through problems());
  // readFile(input): the chosen file's text.
  window.MMSegmentEditor = function (root, manifestBox, { validate, readFile }) {
    const box = $(root, "#mm-seg-editor"), tbody = $(root, "#mm-seg-table tbody");
    const fieldset = $(root, "#mm-seg-fieldset"), msg = $(root, "#mm-editor-msg");
    const nextProblem = $(root, "#mm-next-problem");
    let model = null, byRow = new Map(), problemRows = [], validateTimer = null, flash = -1;
    const pages = P.pager($(root, "#mm-seg-pager"), (from, to) => renderRows(from, to));
    const COLS = { title: "title", frame_count: "frames", start_frame: "frames", diffusion_cadence: "cadence",
      prompts: "prompts", positive_prompt: "prompts", negative_prompt: "prompts", camera: "camera" };

    const promptsText = (p) => Object.entries(p || {}).sort((a, b) => Number(a[0]) - Number(b[0])).map(([k, v]) => `${k}: ${v}`).join("\n");
    const cameraText = (c) => Object.entries(c || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
    // "frame: text" / "key: value" lines -> object, or the first line that does not fit.
    function parseLines(text, keyRe, what) {
      const out = {};
      const lines = text.split("\n");
      for (let n = 0; n < lines.length; n++) {
        if (!lines[n].trim()) continue;
        const m = lines[n].match(keyRe);
        if (!m) throw new Error(`line ${n + 1}: ${what}`);
        out[m[1]] = m[2].trim();
      }
      return out;
    }
    const renumber = () => {
      let start = 0;
      model.segments.forEach((s, i) => { s.index = i; s.start_frame = start; start += Number(s.frame_count) || 0; });
    };
    function writeJson() {
      renumber();
      manifestBox.value = JSON.stringify(model, null, 2);
      scheduleValidate();
    }
    function scheduleValidate() {
      clearTimeout(validateTimer);
      validateTimer = setTimeout(() => validate().catch(() => {}), 500);
    }

    const cell = (i, f, inner) => `<td data-col="${f}">${inner}<p class="mm-field-msg mm-bad" data-msg="${f}" id="mm-msg-${i}-${f}"></p></td>`;
    function renderRows(from, to) {
      if (!model) return;
      let html = "";
      for (let i = from; i < to; i++) {
        const s = model.segments[i] || {};
        const d = (f) => `aria-describedby="mm-msg-${i}-${f}"`;
        html += `<tr data-i="${i}"${i === flash ? ' class="mm-flash"' : ""}><th scope="row">${i}</th>` +
          cell(i, "title", `<input type="text" data-f="title" value="${esc(s.title)}" aria-label="Segment ${i} title" ${d("title")}>`) +
          cell(i, "frames", `<input type="number" min="1" data-f="frame_count" value="${esc(s.frame_count)}" aria-label="Segment ${i} frames" ${d("frames")} class="mm-num">`) +
          cell(i, "cadence", `<input type="number" min="1" data-f="diffusion_cadence" value="${esc(s.diffusion_cadence === undefined ? "" : s.diffusion_cadence)}"
            placeholder="${esc((model.defaults || {}).diffusion_cadence || 1)}" aria-label="Segment ${i} diffusion cadence (empty: the movie's default)" ${d("cadence")} class="mm-num">`) +
          cell(i, "prompts", `<textarea rows="2" data-f="prompts" aria-label="Segment ${i} prompts, one frame: prompt per line" ${d("prompts")}>${esc(promptsText(s.prompts))}</textarea>`) +
          cell(i, "camera", `<textarea rows="2" data-f="camera" aria-label="Segment ${i} camera schedules, one key: schedule per line" ${d("camera")}>${esc(cameraText(s.camera))}</textarea>`) +
          `<td class="mm-order"><button type="button" data-act="up" aria-label="Move segment ${i} up" ${i === 0 ? "disabled" : ""}>↑</button>` +
          `<button type="button" data-act="down" aria-label="Move segment ${i} down" ${i === model.segments.length - 1 ? "disabled" : ""}>↓</button>` +
          `<button type="button" data-act="remove" aria-label="Remove segment ${i}">✕</button></td></tr>`;
      }
      tbody.innerHTML = html;
      renderMessages();
    }
    function renderMessages() {
      for (const tr of tbody.rows) {
        const errs = byRow.get(Number(tr.dataset.i)) || {};
        tr.classList.toggle("mm-row-bad", Object.keys(errs).length > 0);
        for (const p of tr.querySelectorAll("[data-msg]")) {
          const list = errs[p.dataset.msg] || [];
          p.textContent = list.join(" · ");
          const input = p.parentElement.querySelector("input, textarea");
          if (input) input.setAttribute("aria-invalid", list.length ? "true" : "false");
        }
      }
    }

    // Problems from /director/validate: each beside the field (or row) of the segment it names.
    function problems(list) {
      byRow = new Map();
      for (const p of list) {
        const m = /^\/segments\/(\d+)(?:\/([^/]+))?/.exec(p.pointer || "");
        if (!m) continue;
        const i = Number(m[1]), col = COLS[m[2]] || "title";
        const errs = byRow.get(i) || {};
        const where = m[2] && !COLS[m[2]] ? `${m[2]}: ` : "";
        (errs[col] = errs[col] || []).push(where + p.message + (p.hint ? ` (${p.hint})` : ""));
        byRow.set(i, errs);
      }
      problemRows = [...byRow.keys()].sort((a, b) => a - b);
      nextProblem.hidden = problemRows.length === 0;
      msg.className = "mm-field-msg " + (problemRows.length ? "mm-bad" : "mm-good");
      msg.textContent = problemRows.length ? `${problemRows.length} segment(s) have problems, first: segment ${problemRows[0]}.` : "";
      renderMessages();
    }
    nextProblem.addEventListener("click", () => {
      const after = problemRows.find((i) => i >= pages.from + pages.size) ?? problemRows.find((i) => i >= pages.from) ?? problemRows[0];
      if (after === undefined) return;
      pages.showRow(after);
      const tr = tbody.querySelector(`tr[data-i="${after}"]`);
      if (tr) { tr.scrollIntoView({ block: "center" }); (tr.querySelector('[aria-invalid="true"]') || tr.querySelector("input")).focus(); }
    });

    // The textarea -> the table (when its JSON parses; else the table waits, disabled, for valid JSON).
    function fromJson(resetPage) {
      const text = manifestBox.value.trim();
      if (!text) { model = null; box.hidden = true; return; }
      let parsed;
      try { parsed = JSON.parse(text); } catch (e) {
        fieldset.disabled = true;
        msg.className = "mm-field-msg mm-bad";
        msg.textContent = `The JSON above does not parse (${e.message}); the table shows its last valid version until it does.`;
        return;
      }
      if (!parsed || typeof parsed !== "object" || !Array.isArray(parsed.segments)) {
        fieldset.disabled = true;
        msg.className = "mm-field-msg mm-bad";
        msg.textContent = "The JSON above has no \"segments\" list, so there is no segment table.";
        return;
      }
      fieldset.disabled = false;
      model = parsed;
      box.hidden = false;
      msg.textContent = "";
      pages.set(model.segments.length, !resetPage);
    }
    let typing = null;
    manifestBox.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => { fromJson(false); if (model) scheduleValidate(); }, 400);
    });

    // The table -> the JSON.
    tbody.addEventListener("change", (e) => {
      const el = e.target.closest("[data-f]"), tr = e.target.closest("tr");
      if (!el || !tr || !model) return;
      const i = Number(tr.dataset.i), s = model.segments[i], f = el.dataset.f;
      const local = tr.querySelector(`[data-msg="${el.closest("td").dataset.col}"]`);
      try {
        if (f === "title") s.title = el.value;
        else if (f === "frame_count") s.frame_count = el.value === "" ? null : Number(el.value);
        else if (f === "diffusion_cadence") { if (el.value === "") delete s.diffusion_cadence; else s.diffusion_cadence = Number(el.value); }
        else if (f === "prompts") s.prompts = parseLines(el.value, /^\s*(\d+)\s*:\s?(.*)$/, "start it with the keyframe, e.g. 0: a lighthouse at dusk");
        else if (f === "camera") {
          const cam = parseLines(el.value, /^\s*([a-z0-9_]+)\s*:\s?(.*)$/, "write key: schedule, e.g. zoom: 0: (1.02)");
          if (Object.keys(cam).length) s.camera = cam; else delete s.camera;
        }
      } catch (err) {
        local.textContent = err.message; el.setAttribute("aria-invalid", "true");
        return;
      }
      writeJson();
    });
    tbody.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-act]");
      if (!b || !model) return;
      const i = Number(b.closest("tr").dataset.i), segs = model.segments;
      let to = i;
      if (b.dataset.act === "up" && i > 0) { [segs[i - 1], segs[i]] = [segs[i], segs[i - 1]]; to = i - 1; }
      else if (b.dataset.act === "down" && i < segs.length - 1) { [segs[i + 1], segs[i]] = [segs[i], segs[i + 1]]; to = i + 1; }
      else if (b.dataset.act === "remove") { segs.splice(i, 1); to = Math.min(i, segs.length - 1); }
      byRow = new Map();  // indexes moved: the next validation places the problems again
      writeJson();
      flash = to;
      pages.set(segs.length, true);
      pages.showRow(Math.max(0, to));
      const btn = tbody.querySelector(`tr[data-i="${to}"] button[data-act="${b.dataset.act === "remove" ? "remove" : b.dataset.act}"]`);
      if (btn && !btn.disabled) btn.focus();
    });
    $(root, "#mm-add-seg").addEventListener("click", () => {
      if (!model) return;
      const segs = model.segments, last = segs[segs.length - 1] || {};
      const seeds = segs.map((s) => Number(s.seed)).filter(Number.isFinite);
      segs.push({ index: segs.length, title: `Segment ${segs.length}`, start_frame: 0, frame_count: Number(last.frame_count) || 48,
        prompts: { 0: "" }, seed: seeds.length ? Math.max(...seeds) + 1 : 0 });
      flash = segs.length - 1;
      writeJson();
      pages.set(segs.length, true);
      pages.showRow(segs.length - 1);
      const input = tbody.querySelector(`tr[data-i="${segs.length - 1}"] [data-f="prompts"]`);
      if (input) input.focus();
    });

    // A Deforum settings file -> a segment (added at the end, or replacing the one given).
    $(root, "#mm-deforum-file").addEventListener("change", async (e) => {
      const out = $(root, "#mm-import-msg");
      const input = e.target;
      try {
        const settings = await readFile(input);
        if (!settings) return;
        if (!model) throw Object.assign(new Error("Choose or paste the movie's manifest first: the segment goes into it."), { hint: "" });
        const atText = $(root, "#mm-import-at").value;
        const body = { settings, manifest: manifestBox.value };
        if (atText !== "") body.at = parseInt(atText, 10);
        const r = await api("api/v1/director/deforum-import", { method: "POST", body });
        const at = body.at === undefined ? model.segments.length : body.at;
        if (at < model.segments.length) model.segments[at] = r.segment; else model.segments.push(r.segment);
        flash = at;
        writeJson();
        pages.set(model.segments.length, true);
        pages.showRow(at);
        out.className = "mm-field-msg mm-good";
        out.textContent = `Imported ${input.files[0].name} as segment ${at} (${r.segment.frame_count} frames, ${Object.keys(r.segment.prompts).length} keyframe prompt(s)).` +
          (r.notes.length ? " Notes: " + r.notes.join("; ") : "");
      } catch (err) {
        const d = (err.body || {}).detail || {};
        const probs = d.problems || (d.details || {}).problems || [];
        out.className = "mm-field-msg mm-bad";
        out.textContent = (err.message || String(err)) + (probs.length ? ": " + probs.slice(0, 5).map((p) => `${p.pointer || "/"} ${p.message}`).join("; ") : "") + (err.hint ? " — " + err.hint : "");
      } finally {
        input.value = "";  // choosing the same file again imports it again
      }
    });
    return { fromJson, problems };
  };
})();
