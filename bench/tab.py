"""The minter tab at feature-film scale: time to an interactive timeline for a 1,080-segment movie, against
the same for a 6-segment movie, in the same run on the same machine.

    ./mm bench tab          (or .venv/bin/python bench/tab.py)

The whole stack the browser tests use: anvil with a fresh contract, the A1111 double, the app (uvicorn thread)
and Debian's chromium driven by Playwright with the test wallet. Both movies are published the way the tests do
(`MinterStack.publish`); the feature film is the example film stretched to 1,080 segments whose camera schedules,
seeds and prompts all differ (no two segments validate or draw alike). Each movie is opened once, in a fresh
browser profile, from a loaded tab: the clock starts when Open is clicked and stops at the first task the page
runs after the timeline's cells are in the DOM and painted (so the main thread is free to take a key press).
The app has not seen either movie before: its manifest is fetched from IPFS and parsed within that time (the
full validation starts then and runs in the background; the scene waits for it, see movieminter/app/movies.py).
Goal: 1,080 / 6 <= 3. Prints the table and writes bench/results/tab.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from _common import HERE, report

from tests.fixtures_browser import CHROMIUM_ARGS
from tests.fixtures_ui import MinterStack, feature_manifest

GOAL = 3.0

# Runs in the page: click Open, resolve with the milliseconds until the grid holds the movie's cells and the
# browser has painted them and come back for the next task.
TIME_OPEN = """async ([ref, count]) => {
  const root = document.querySelector('.mm-root');
  const grid = root.querySelector('#mm-grid');
  root.querySelector('#mm-ref').value = String(ref);
  const ready = () => grid.dataset.count === String(count) && grid.querySelector('.mm-cell');
  const done = new Promise((resolve) => {
    const obs = new MutationObserver(() => {
      if (!ready()) return;
      obs.disconnect();
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
    });
    obs.observe(grid, { childList: true, subtree: true, attributes: true });
  });
  const t0 = performance.now();
  root.querySelector('#mm-open').click();
  return (await done) - t0;
}"""


def varied_manifest(segments: int) -> dict:
    """The example film at `segments` segments, every segment its own seed, prompt and camera curves."""
    base = json.loads((HERE.parent / "examples" / "lighthouse.json").read_text())
    m = feature_manifest(base, segments)
    for seg in m["segments"]:
        i, n = seg["index"], seg["frame_count"]
        seg["seed"] = 1000 + i
        seg["prompts"] = {k: f"{v}, shot {i}" for k, v in seg["prompts"].items()}
        cam = seg.setdefault("camera", {})
        cam["zoom"] = f"0: (1.0), {n - 1}: ({1 + i / 100_000:.5f})"
        cam["translation_x"] = f"0: ({1 + i % 13 / 10:.1f}*sin(2*3.14159*t/{24 + i}))"
    return m


def start_stack(tmp: Path):
    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.chain.anvil import Anvil
    from movieminter.chain.client import ChainClient
    from movieminter.config import Settings
    from movieminter.testing.a1111_double import install_fake_models, start_double
    from movieminter.testing.server_thread import ServerThread

    anvil = Anvil().__enter__()
    install_fake_models(tmp / "a1111")
    double, a1111_url, stop_double = start_double(tmp / "a1111")
    address = ChainClient(anvil.url).deploy()
    chain = ChainClient(anvil.url, address)
    ctx = AppContext(
        Settings(data_dir=tmp / "app", a1111_url=a1111_url, chain="local", rpc_url=anvil.url, contract_address=address)
    )
    ctx.chain_id = 31337
    server = ServerThread(create_app(ctx)).start()

    def stop():
        server.stop()
        stop_double()
        anvil.__exit__(None, None, None)

    return MinterStack(anvil, chain, ctx, server, double), stop


def time_open(stack: MinterStack, browser, movie_id: int, count: int) -> float:
    page = stack.open_page(browser, account=1)
    try:
        ms = page.evaluate(TIME_OPEN, [movie_id, count])
        # and it is interactive: the keyboard reaches the last segment (not timed)
        page.locator("#mm-grid .mm-cell").first.focus()
        page.keyboard.press("End")
        page.wait_for_function(f"document.activeElement && document.activeElement.dataset.i === '{count - 1}'")
        return ms / 1000
    finally:
        page.context.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=1080)
    ap.add_argument("--small", type=int, default=6)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if not executable:
        raise SystemExit("Debian's chromium is missing: run ./mm setup (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        stack, stop = start_stack(Path(tmp))
        try:
            small = stack.publish(varied_manifest(args.small))
            big = stack.publish(varied_manifest(args.segments))
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                try:
                    t_small = time_open(stack, browser, small, args.small)
                    t_big = time_open(stack, browser, big, args.segments)
                finally:
                    browser.close()
        finally:
            stop()
    rows = [
        {"case": f"{args.small} segments: open -> interactive timeline", "seconds": t_small, "ratio": 1.0},
        {
            "case": f"{args.segments} segments: open -> interactive timeline",
            "seconds": t_big,
            "ratio": t_big / t_small,
            "goal": GOAL,
        },
    ]
    report("tab", rows, {"segments": args.segments, "small": args.small, "runs": 1})
    return 0 if t_big / t_small <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
