/* Watch page credits: who made the movie (director, creator, collective leader, minters by segment, pass
   holders), from GET api/v1/movies/{id}/credits (the Community contract). Text only; addresses shortened,
   the full one in the tooltip. The section stays hidden when no Community contract is configured. */
(function () {
  "use strict";
  window.MMCreditsInit = function (root, base) {
    const section = root.querySelector(".mm-credits");
    const status = root.querySelector(".mm-credits-status");
    const list = root.querySelector(".mm-credits-list");
    let shown = null;

    function row(label, people) {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = people.length ? people.map((p) => p.short).join(", ") : "—";
      dd.title = people.map((p) => p.address).join("\n");
      list.append(dt, dd);
    }

    function render(c) {
      list.textContent = "";
      row("Director", c.director ? [c.director] : []);
      row("Creator", c.creator ? [c.creator] : []);
      if (c.leader) row("Collective leader", [c.leader]);
      for (const s of c.segments) {
        if (s.minter) row(`Segment ${s.index}`, [s.minter]);
        else {
          row(`Segment ${s.index}`, []);
          list.lastChild.textContent = "not minted yet";
        }
      }
      if (c.pass_holders.length) row("Season pass holders", c.pass_holders);
    }

    async function show(id) {
      if (id === null || id === "" || id === shown) return;
      shown = id;
      list.textContent = "";
      status.textContent = "Loading the credits…";
      try {
        const url = new URL(`api/v1/movies/${encodeURIComponent(id)}/credits`, new URL(base, document.baseURI));
        const r = await fetch(url, { credentials: "same-origin" });
        const body = await r.json();
        if (!r.ok) {
          const d = body.detail || {};
          section.hidden = d.error === "NoCommunity";
          status.textContent = d.message || r.statusText;
          return;
        }
        section.hidden = false;
        status.textContent = "";
        render(body);
      } catch (err) {
        status.textContent = "Could not load the credits: " + err;
      }
    }

    show(new URLSearchParams(location.search).get("movie"));
    document.addEventListener("click", (e) => {
      if (e.target.closest && e.target.closest("#mm-open")) show(document.querySelector("#mm-movie-id").value);
    });
  };
})();
