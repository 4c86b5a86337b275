"""The Watch page (/watch?movie=ID): buy a ticket with the wallet, then play
the stitched movie with one chapter per segment crediting its minter.

Reachable at the app's own URL (standalone `movieminter serve`) as well as
through A1111's /movieminter/ proxy. Behaviour: static/watch.js.
"""

from __future__ import annotations

from movieminter.app.ui.studio import REVENUE, WALLET_BAR, page

BODY = (
    WALLET_BAR % {"title": "Watch"}
    + """
<section class="mm-card" aria-labelledby="mm-watch-h">
  <div class="mm-row">
    <label for="mm-movie-id">Movie id</label>
    <input type="number" id="mm-movie-id" min="0" class="mm-narrow">
    <button type="button" id="mm-open">Open</button>
  </div>
  <h2 id="mm-watch-h" class="mm-title">Pick a movie</h2>
  <div class="mm-about" id="mm-about" hidden>
    <figure class="mm-poster"><img id="mm-poster" alt="" hidden><figcaption id="mm-poster-note"></figcaption></figure>
    <dl class="mm-facts">
      <dt>Director</dt><dd id="mm-director"></dd>
      <dt>Runtime</dt><dd id="mm-runtime"></dd>
      <dt>Segments</dt><dd id="mm-segcount"></dd>
      <dt>Ticket</dt><dd id="mm-price"></dd>
    </dl>
  </div>
  <p id="mm-ticket-status" aria-live="polite"></p>
  <button type="button" id="mm-buy" class="mm-primary" hidden>Buy ticket</button>
  <div class="mm-player" id="mm-player" hidden>
    <video id="mm-video" controls playsinline preload="metadata"></video>
    <div class="mm-scrub" id="mm-scrub">
      <svg class="mm-scrub-marks" viewBox="0 0 1000 12" preserveAspectRatio="none" aria-hidden="true">
        <path class="mm-scrub-minted" d=""></path><path class="mm-scrub-ticks" d=""></path>
        <rect class="mm-scrub-current" x="0" y="0" width="0" height="12"></rect></svg>
      <input type="range" id="mm-scrub-range" min="0" max="0" step="0.05" value="0"
        aria-label="Seek; a mark at the start of each chapter">
    </div>
    <p class="mm-now" id="mm-now" aria-live="polite"></p>
  </div>
  <h3>Chapters</h3>
  <div class="mm-chapters-box" id="mm-chapters-box" tabindex="-1"><ol id="mm-chapters" class="mm-chapters"></ol></div>
  <p class="mm-public">Honest note: your ticket pays the people who made this movie and unlocks this player.
  The segments themselves are pinned to IPFS, and IPFS content is public: anyone who knows a segment's CID can
  fetch it from any gateway. Tickets are a way to pay, not copy protection.</p>
</section>
"""
    + REVENUE
)


def build(ctx):
    from movieminter.app.community_ui import with_community  # the pass and the ballots (static/community.js)
    from movieminter.app.credits_ui import with_credits  # the credits section (static/credits.js)

    return with_credits(with_community(page("Movie Minter · Watch", BODY, "watch"), ctx, "watch"), ctx)
