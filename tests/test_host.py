"""The host glue inside real host venvs: A1111 1.10's (gradio 3.41, fastapi
0.94, pydantic 1) and Forge's (gradio 4.40, pydantic 2), with the stand-in
for A1111's module surface in tests/hosts/stubs. The app child is the real
`movieminter serve` from the app venv (MOVIEMINTER_VENV), rendering against
the A1111+Deforum double; pages are driven in Debian's chromium."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLE_MANIFEST, ROOT, free_port

pytestmark = [pytest.mark.hosts, pytest.mark.slow]

HOSTS = ["a1111", "forge"]
STUBS = ROOT / "tests" / "hosts" / "stubs"
APP_VENV = Path(sys.prefix)  # the app venv running these tests
WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def host_python(kind: str) -> Path:
    py = ROOT / ".hosts" / kind / "bin" / "python"
    if not py.exists():
        pytest.skip(f".hosts/{kind} is missing: run ./mm setup")
    return py


def freeze(py: Path) -> list[str]:
    return subprocess.run(
        [str(py), "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True
    ).stdout.splitlines()


class Host:
    """tests/hosts/launch_host.py in a host venv, as A1111 would run."""

    def __init__(
        self, kind: str, tmp: Path, *, cmdline: str = "", options: dict | None = None, extra_env: dict | None = None
    ):
        self.kind, self.tmp = kind, tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = tmp / "data"
        self.calls = tmp / "stub-calls.txt"
        config = {"movieminter_data_dir": str(self.data_dir), **(options or {})}
        (tmp / "config.json").write_text(json.dumps(config))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MOVIEMINTER_", "PYTHON"))}
        env.update(
            PYTHONPATH=str(STUBS),
            MOVIEMINTER_VENV=str(APP_VENV),
            MM_STUB_CONFIG=str(tmp / "config.json"),
            MM_STUB_CALLS=str(self.calls),
            COMMANDLINE_ARGS=cmdline,
            **(extra_env or {}),
        )
        self.log = open(tmp / "host.log", "wb")
        self.proc = subprocess.Popen(
            [
                str(host_python(kind)),
                str(ROOT / "tests/hosts/launch_host.py"),
                "--ext",
                str(ROOT),
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, auth=None) -> Host:
        deadline = time.time() + 180
        while time.time() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                r = httpx.get(self.url + "/movieminter/healthz", timeout=2, auth=auth)
                if r.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("host or app did not start:\n" + self.output())

    def output(self) -> str:
        app_log = self.data_dir / "app.log"
        return (
            (self.tmp / "host.log").read_text(errors="replace")[-4000:]
            + "\n--- app.log ---\n"
            + (app_log.read_text(errors="replace")[-4000:] if app_log.exists() else "")
        )

    def app_port(self) -> int:
        ports = re.findall(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", (self.data_dir / "app.log").read_text())
        return int(ports[-1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def wait_dead(pid: int, timeout: float = 30) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------- install.py
@pytest.mark.parametrize("kind", HOSTS)
def test_install_builds_its_own_venv_and_never_touches_the_host(kind, tmp_path):
    py = host_python(kind)
    before = freeze(py)
    lock = tmp_path / "requirements.lock"
    lock.write_text("iniconfig==2.3.1\n")  # a real, small install from PyPI
    venv = tmp_path / "app-venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOVIEMINTER_", "PYTHON", "PIP_"))}
    # As A1111's launch_utils.run_extension_installer runs it: host python, A1111 root on PYTHONPATH.
    env.update(
        PYTHONPATH=str(STUBS),
        MOVIEMINTER_VENV=str(venv),
        MOVIEMINTER_REQUIREMENTS=str(lock),
        MM_STUB_CALLS=str(tmp_path / "calls.txt"),
    )

    def run(**extra):
        return subprocess.run(
            [str(py), str(ROOT / "install.py")], env={**env, **extra}, capture_output=True, text=True, timeout=600
        )

    first = run()
    assert first.returncode == 0, first.stderr + first.stdout
    assert "installing the app's locked requirements" in first.stdout
    app_py = venv / "bin" / "python"
    probe = subprocess.run(
        [str(app_py), "-c", "import iniconfig, movieminter; print(movieminter.__file__)"],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if k != "PYTHONPATH"},
    )
    assert probe.returncode == 0 and probe.stdout.strip() == str(ROOT / "movieminter" / "__init__.py"), probe.stderr

    second = run()  # the stamp matches: nothing to do, nothing printed
    assert second.returncode == 0 and second.stdout == "" and second.stderr == ""

    lock.write_text("iniconfig==2.3.1\n# changed\n")  # a new lock: the stamp no longer matches
    assert "installing" in run().stdout

    skipped = run(COMMANDLINE_ARGS="--xformers --skip-install", MOVIEMINTER_VENV=str(tmp_path / "never"))
    assert skipped.returncode == 0 and "--skip-install" in skipped.stdout
    assert not (tmp_path / "never").exists()

    lock.write_text("this is not a requirement !!\n")
    broken = run()
    assert broken.returncode == 1
    assert "pip could not install" in broken.stderr and "full log:" in broken.stderr
    assert Path(re.search(r"full log: (\S+)", broken.stderr).group(1)).exists()

    assert freeze(py) == before, "install.py changed the host venv"
    assert not (tmp_path / "calls.txt").exists() or "run_pip" not in (tmp_path / "calls.txt").read_text()


def find_python(version: str) -> str | None:
    """A Python `version` (3.10 is A1111 1.10's) with venv and ensurepip, if this machine has one."""
    import glob

    for cand in [
        f"/usr/bin/python{version}",
        *glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")),
    ]:
        if (
            os.path.exists(cand)
            and subprocess.run([cand, "-c", "import venv, ensurepip"], capture_output=True).returncode == 0
        ):
            return cand
    return None


def test_install_from_a1111s_python_310_builds_the_venv_with_that_same_python(tmp_path):
    """A1111 1.10 and Forge run Python 3.10 and the lock installs there: the app venv is made with
    A1111's own interpreter, never a second one from PATH. An interpreter older than 3.10 is refused
    with what to do."""
    py310 = find_python("3.10")
    if py310 is None:
        pytest.fail("no Python 3.10 with venv on this machine: the host test needs A1111's Python", pytrace=False)
    lock = tmp_path / "requirements.lock"
    lock.write_text("iniconfig==2.3.1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOVIEMINTER_", "PYTHON", "PIP_"))}
    env.update(PYTHONPATH=str(STUBS), MOVIEMINTER_VENV=str(tmp_path / "venv"), MOVIEMINTER_REQUIREMENTS=str(lock))
    done = subprocess.run([py310, str(ROOT / "install.py")], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    base = subprocess.run(
        [str(tmp_path / "venv/bin/python"), "-c", "import sys; print(sys.version_info[:2], sys._base_executable)"],
        capture_output=True,
        text=True,
    ).stdout.split(")", 1)
    assert base[0] + ")" == "(3, 10)", base
    assert Path(base[1].strip()).resolve() == Path(py310).resolve(), base
    py39 = find_python("3.9")
    if py39 is None:
        return
    bad = subprocess.run(
        [py310, str(ROOT / "install.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "MOVIEMINTER_VENV": str(tmp_path / "v2"), "MOVIEMINTER_PYTHON": py39},
    )
    assert bad.returncode == 1 and "needs Python >= 3.10" in bad.stderr and "MOVIEMINTER_PYTHON" in bad.stderr


# ------------------------------------------------------------ tab and proxy


@pytest.fixture(scope="module", params=HOSTS)
def host(request, tmp_path_factory, a1111_double_url):
    h = Host(
        request.param,
        tmp_path_factory.mktemp(f"host-{request.param}"),
        cmdline="--api",
        options={"movieminter_a1111_url": a1111_double_url},
    )
    try:
        yield h.wait()
    finally:
        h.stop()


@pytest.fixture(params=HOSTS)
def own_host(request, tmp_path_factory, a1111_double_url):
    """A host of the test's own, for tests that change its settings or end it (the suite runs in random
    order: the module's shared host must stay as every other test expects it)."""
    h = Host(
        request.param,
        tmp_path_factory.mktemp(f"own-host-{request.param}"),
        cmdline="--api",
        options={"movieminter_a1111_url": a1111_double_url},
    )
    try:
        yield h.wait()
    finally:
        h.stop()


@pytest.fixture(params=HOSTS)
def minting_host(request, tmp_path_factory, a1111_double_url, chain_session):
    """A host with the extension, the A1111 double and the session's chain (a job is checked
    against the chain before it renders)."""
    h = Host(
        request.param,
        tmp_path_factory.mktemp(f"minting-host-{request.param}"),
        cmdline="--api",
        options={
            "movieminter_a1111_url": a1111_double_url,
            "movieminter_chain": chain_session.rpc_url,
            "movieminter_contract": chain_session.contract_address,
        },
    )
    h.chain = chain_session
    snapshot = chain_session.w3.provider.make_request("evm_snapshot", [])["result"]  # the session chain is shared
    try:
        yield h.wait()
    finally:
        h.stop()
        chain_session.w3.provider.make_request("evm_revert", [snapshot])


@pytest.mark.browser
def test_tab_iframe_loads_the_app_and_sse_progress_arrives_through_the_proxy(minting_host, chromium):
    host = minting_host
    from movieminter.chain.client import MovieConfig

    manifest = json.loads(EXAMPLE_MANIFEST.read_text())
    chain = host.chain
    acc = chain.w3.eth.accounts
    movie_id = chain.movie_id_from_receipt(
        chain.transact(
            "createMovie",
            [
                MovieConfig(  # an open movie to mint from
                    manifest_digest="0x" + "11" * 32,
                    segment_count=len(manifest["segments"]),
                    creator=acc[8],
                    director=acc[9],
                    mint_mode="open",
                    claim_window=3600,
                ).as_tuple()
            ],
            acc[0],
        )
    )
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(host.url + "/?__theme=dark")
        # gradio 3.41: a plain button in .tab-nav; gradio 4: role=tab. Both are buttons.
        page.locator("button", has_text="Movie Minter").first.click(timeout=60000)
        frame_el = page.wait_for_selector("#movieminter-frame", state="visible", timeout=60000)
        # The tab glue passed the host's theme and sized the frame to the viewport.
        page.wait_for_function("document.querySelector('#movieminter-frame').src.includes('__theme=dark')")
        assert frame_el.bounding_box()["height"] >= 480
        frame = frame_el.content_frame()
        frame.wait_for_load_state()
        assert frame.url.startswith(host.url + "/movieminter/")
        frame.wait_for_selector(".gradio-container", timeout=60000)  # gradio 6 UI through the proxy
        assert "dark" in frame.evaluate("document.body.className + document.documentElement.className")
        # The frame takes the page's height: A1111's page is the only scrollbar, and no second footer.
        frame.wait_for_selector(".mm-root[data-ready='1']", timeout=60000)
        page.wait_for_function("document.querySelector('#movieminter-frame').dataset.mmContentHeight")
        fits = frame.evaluate(
            "({doc: document.scrollingElement.scrollHeight, view: innerHeight,"
            " root: Math.ceil(document.querySelector('.mm-root').getBoundingClientRect().bottom),"
            " footers: [...document.querySelectorAll('footer')].filter((f) => f.offsetHeight > 0).length})"
        )
        assert fits["doc"] <= fits["view"] + 1 and fits["root"] <= fits["view"], fits
        assert fits["footers"] == 0, fits

        # A job from the page (same origin, CSRF cookie), then its progress over SSE through the proxy.
        events = frame.evaluate(
            """async ([manifest, wallet, movieId, contract]) => {
            const token = document.cookie.match(/mm_csrf=([^;]+)/)[1];
            const r = await fetch('/movieminter/api/v1/jobs', {method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
                body: JSON.stringify({movie_id: movieId, segment: 1, wallet: wallet, chain_id: 31337,
                                      contract: contract, manifest})});
            if (r.status !== 201) return {error: r.status + ' ' + await r.text()};
            const job = (await r.json()).job;
            return await new Promise((resolve) => {
                const seen = [];
                const es = new EventSource('/movieminter/api/v1/jobs/' + job.id + '/events');
                es.addEventListener('progress', async (e) => {
                    const d = JSON.parse(e.data);
                    seen.push(d);
                    if (d.stage === 'rendering' && d.frame >= 3 && d.frame < d.frames) {
                        es.close();
                        // Streamed, not buffered: the job is still rendering when the event arrives.
                        const now = await (await fetch('/movieminter/api/v1/jobs/' + job.id)).json();
                        resolve({seen, stillOpen: true, jobId: job.id, stateOnArrival: now.state});
                    }
                });
                es.addEventListener('state', (e) => seen.push(JSON.parse(e.data)));
                setTimeout(() => { es.close(); resolve({seen, timeout: true}); }, 60000);
            });
        }""",
            [manifest, WALLET, movie_id, chain.contract_address],
        )
        assert "error" not in events, events
        assert events.get("stillOpen"), events  # frames arrived one by one while the render ran
        assert events["stateOnArrival"] == "rendering", events
        frames = [e["frame"] for e in events["seen"] if e.get("stage") == "rendering" and "frame" in e]
        assert frames and frames[-1] >= 3 and frames[-1] < 48

        # A gradio 6 event (queue join + its SSE stream) through the proxy:
        # cancel the running job from the Jobs page.
        jobs = page.goto(host.url + "/movieminter/jobs/")
        assert jobs.status == 200
        page.get_by_label("Job id").fill(str(events["jobId"]))
        page.get_by_role("button", name="Cancel job").click()
        page.wait_for_function("document.querySelector('#mm-jobs-status').innerText.includes('Job ')", timeout=30000)
        deadline = time.time() + 30
        while httpx.get(f"{host.url}/movieminter/api/v1/jobs/{events['jobId']}").json()["state"] != "cancelled":
            assert time.time() < deadline, "the job was not cancelled"
            time.sleep(0.2)
    finally:
        context.close()


# ------------------------------------------------- every asset a page loads
# Fetched at load: gradio's iframe resizer, and the app's font (in A1111's page: inside the tab's iframe).
LOADED = ("iframeResizer.contentWindow.min.js", ".woff2")


def load_and_record(page, url: str, ready, expect: tuple[str, ...] = ()) -> list[tuple]:
    """Opens `url` and returns (status, method, url) of every response of the page and its frames
    (a failed request as status 0), once `ready` (a selector, or a function of the page) is done and
    a response for each of LOADED and `expect` (URL substrings: API calls made at load) arrived."""
    seen: list[tuple] = []
    page.on("response", lambda r: seen.append((r.status, r.request.method, r.url)))
    page.on(
        "requestfailed",
        lambda r: (
            "ERR_ABORTED" not in (r.failure or "") and seen.append((0, r.method, r.url + " " + (r.failure or "")))
        ),
    )
    page.goto(url)
    if callable(ready):
        ready(page)
    else:
        page.wait_for_selector(ready, timeout=60000)
    deadline = time.time() + 30
    while not all(any(part in u for _s, _m, u in seen) for part in LOADED + expect):
        missing = [p for p in LOADED + expect if not any(p in u for _s, _m, u in seen)]
        assert time.time() < deadline, f"{url}: never requested {missing}"
        page.wait_for_timeout(100)
    page.wait_for_timeout(500)
    # What the page links (web app manifest, icons, styles, scripts), whether the browser fetched it or not.
    for frame in page.frames:
        for link in frame.evaluate(
            "[...document.querySelectorAll('link[href], script[src]')].map((e) => e.href || e.src)"
        ):
            if link.startswith(url.split("/movieminter")[0]):
                seen.append((page.request.get(link).status, "GET", link + " (linked)"))
    return seen


def same_origin(seen: list[tuple], origin: str) -> list[tuple]:
    return [s for s in seen if s[2].startswith(origin)]


@pytest.mark.browser
def test_pages_through_the_proxy_load_every_asset(tmp_path, chromium, deployed, a1111_double_url):
    """gradio 3.41 (A1111 1.10) host, chain and contract configured: no same-origin request of the
    tab or of any app page answers 4xx/5xx (gradio's iframeResizer and fonts, the manifest ...)."""
    from tests.fixtures_chain import create_movie

    movie = create_movie(deployed)
    h = Host(
        "a1111",
        tmp_path,
        cmdline="--api",
        options={
            "movieminter_chain": deployed.rpc_url,
            "movieminter_contract": deployed.contract_address,
            "movieminter_a1111_url": a1111_double_url,
        },
    )
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        h.wait()
        pages = [
            (
                "/movieminter/",
                ".mm-root[data-ready='1'] [data-act='connect']",
                ("api/v1/auth/config", "api/v1/movies/recent", "api/v1/auth/me"),
            ),
            ("/movieminter/studio/", ".mm-page .mm-connect", ("api/v1/auth/me",)),
            (
                f"/movieminter/studio/?movie={movie}",
                ".mm-page .mm-connect",
                (f"api/v1/director/movies/{movie}/activity", f"api/v1/director/movies/{movie}/lottery"),
            ),
            (f"/movieminter/watch/?movie={movie}", ".mm-page .mm-connect", (f"api/v1/movies/{movie}/ticket",)),
            ("/movieminter/jobs/", "#mm-jobs-table", ()),
        ]
        for path, ready, calls in pages:
            page = context.new_page()
            seen = load_and_record(page, h.url + path, ready, calls)
            mine = same_origin(seen, h.url)
            assert mine and [s for s in mine if not 200 <= s[0] < 400] == [], (path, mine)
            page.close()

        def open_tab(page):  # the tab itself: A1111's page with the app in its iframe
            page.locator("button", has_text="Movie Minter").first.click(timeout=60000)
            frame = page.wait_for_selector("#movieminter-frame", state="visible").content_frame()
            frame.wait_for_selector(".mm-root[data-ready='1'] [data-act='connect']", timeout=60000)

        # A context of its own: in the one above, the app's font (fetched by /movieminter/ already) may come
        # from the browser's cache, which reports no response: the test waited for it in vain.
        tab = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
        seen = load_and_record(tab, h.url + "/", open_tab, ("/movieminter/api/v1/auth/config",))
        assert any("/movieminter/static/js/iframeResizer" in u for _s, _m, u in seen)
        assert [s for s in same_origin(seen, h.url) if not 200 <= s[0] < 400] == []
    finally:
        context.close()
        h.stop()


@pytest.mark.browser
def test_tab_explains_a_chain_it_cannot_reach(host, chromium):
    """A1111's default settings: chain "local" with no anvil running, no contract address. The page
    loads every asset; the API's 503 says what is missing and where to set it, and the tab shows it."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        seen = load_and_record(
            page, host.url + "/movieminter/", ".mm-root[data-ready='1'] [data-act='connect']", ("api/v1/auth/config",)
        )
        bad = [s for s in same_origin(seen, host.url) if not 200 <= s[0] < 400]
        assert [(s[0], s[2].split("?")[0]) for s in bad] == [(503, host.url + "/movieminter/api/v1/auth/config")]
        alert = page.locator("#mm-wallet-error")
        alert.wait_for(state="visible")
        text = alert.inner_text()
        assert "cannot reach the chain at http://127.0.0.1:8545" in text and "Settings > Movie Minter" in text
        r = httpx.get(host.url + "/movieminter/api/v1/movies/open?ref=1")
        assert r.status_code == 503 and "MOVIEMINTER_CONTRACT_ADDRESS" in r.json()["detail"]["hint"]
    finally:
        context.close()


def test_proxy_streams_ranges_and_guards_the_app_port(host):
    # One proxy serves every browser: it must not keep one browser's cookies for the next.
    for _ in range(2):
        assert "mm_csrf=" in httpx.get(host.url + "/movieminter/healthz").headers.get("set-cookie", "")
    with httpx.Client(base_url=host.url, timeout=30) as c:
        whole = c.get("/movieminter/static/mm-fetch.js")
        assert whole.status_code == 200
        part = c.get("/movieminter/static/mm-fetch.js", headers={"Range": "bytes=10-29"})
        assert part.status_code == 206 and part.content == whole.content[10:30]
        assert part.headers["content-range"] == f"bytes 10-29/{len(whole.content)}"
        assert c.get("/movieminter", follow_redirects=False).headers["location"].endswith("/movieminter/")
        # Cross-site POST through the proxy: refused by the app, with its message.
        r = c.post("/movieminter/api/v1/jobs", json={}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and "evil.example" in r.json()["detail"]["message"]
    # The app's own port answers nothing without the proxy's secret.
    r = httpx.get(f"http://127.0.0.1:{host.app_port()}/api/v1/jobs")
    assert r.status_code == 403 and r.json()["detail"]["error"] == "ProxyOnly"


def test_crashed_app_is_restarted(own_host):
    host = own_host
    first = httpx.get(host.url + "/movieminter/healthz").json()["pid"]
    os.kill(first, signal.SIGKILL)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            r = httpx.get(host.url + "/movieminter/healthz", timeout=2)
            if r.status_code == 200 and r.json()["pid"] != first:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the app was not restarted:\n" + host.output())


# ----------------------------------------- the addresses A1111 is served under (issue 13, items 4 and 5)
SHARE_URL = "https://0123456789abcdef01.gradio.live"
FOREIGN = "rebind.evil.example"


def siwe_text(nonce: str, domain: str, uri: str) -> str:
    from siwe import SiweMessage

    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))  # noqa: E731
    return SiweMessage(
        domain=domain,
        address=SIGNER.address,
        uri=uri,
        version="1",
        chain_id=31337,
        nonce=nonce,
        issued_at=iso(time.time()),
        expiration_time=iso(time.time() + 300),
    ).prepare_message()


def signed(text: str) -> str:
    from eth_account.messages import encode_defunct

    return SIGNER.sign_message(encode_defunct(text=text)).signature.to_0x_hex()


def _signer():
    from eth_account import Account

    from tests.fixtures_ui import TEST_KEYS

    return Account.from_key(TEST_KEYS[0])


SIGNER = _signer()


@pytest.mark.parametrize("kind", HOSTS)
def test_share_link_and_configured_addresses_are_served_and_nothing_else(kind, tmp_path, deployed):
    """A1111 --share (gradio 3.41 / 4.40): the app learns the share link from the launched Blocks and
    accepts it (pages, API, sign-in); a rebinding name is refused, and a sign-in message signed for a
    phishing domain is refused even with that domain as Host."""
    share_host = SHARE_URL.split("//", 1)[1]
    h = Host(
        kind,
        tmp_path,
        cmdline="--api --share",
        extra_env={"MM_STUB_SHARE_URL": SHARE_URL},
        options={
            "movieminter_chain": deployed.rpc_url,
            "movieminter_contract": deployed.contract_address,
            "movieminter_public_urls": "https://sd.example.org",
        },
    )
    try:
        h.wait()
        settings = httpx.get(h.url + "/movieminter/api/v1/settings").json()
        assert settings["host_urls"] == SHARE_URL and settings["public_urls"] == "https://sd.example.org"
        with httpx.Client(base_url=h.url, timeout=60) as c:
            share = {"Host": share_host}  # what gradio's tunnel delivers to A1111's port
            for host in (share_host, "sd.example.org", f"127.0.0.1:{h.port}", f"localhost:{h.port}"):
                assert c.get("/movieminter/api/v1/auth/me", headers={"Host": host}).status_code == 200, host
            page = c.get("/movieminter/", headers={**share, "Accept": "text/html"})
            assert page.status_code == 200 and "gradio" in page.text.lower()

            # DNS rebinding onto A1111's port, and a gradio.live name that is not ours.
            for host in (f"{FOREIGN}:{h.port}", FOREIGN, "ffffffffffffffff.gradio.live"):
                r = c.get("/movieminter/api/v1/jobs", headers={"Host": host})
                assert r.status_code == 403 and r.json()["detail"]["error"] == "HostNotAllowed", (host, r.text)
                assert "movieminter_public_urls" in r.json()["detail"]["hint"]
                page = c.get("/movieminter/studio/", headers={"Host": host, "Accept": "text/html"})
                assert page.status_code == 403 and "Settings &gt; Movie Minter" in page.text
            # The socket address is the proxy's to report: a browser's copy of the header is dropped.
            r = c.get(
                "/movieminter/api/v1/jobs",
                headers={"Host": f"10.9.8.7:{h.port}", "X-MovieMinter-Host-Server": f"10.9.8.7:{h.port}"},
            )
            assert r.status_code == 403

            # Sign in with Ethereum through the share link.
            c.get("/movieminter/healthz", headers=share)
            csrf = {"X-CSRF-Token": c.cookies.get("mm_csrf")}
            phishing = siwe_text(
                c.get("/movieminter/api/v1/auth/nonce", headers=share).json()["nonce"],
                "evil.example",
                "https://evil.example/",
            )
            body = {"message": phishing, "signature": signed(phishing)}
            r = c.post(
                "/movieminter/api/v1/auth/verify",
                json=body,
                headers={**csrf, "Host": "evil.example", "Origin": "https://evil.example"},
            )
            assert r.status_code == 403, r.text
            r = c.post("/movieminter/api/v1/auth/verify", json=body, headers={**csrf, **share, "Origin": SHARE_URL})
            assert r.status_code == 403 and "not an address Movie Minter is served under" in r.text
            assert c.get("/movieminter/api/v1/auth/me", headers=share).json()["authenticated"] is False

            msg = c.get(
                "/movieminter/api/v1/auth/nonce",
                headers=share,
                params={
                    "address": SIGNER.address,
                    "chain_id": 31337,
                    "domain": share_host,
                    "uri": SHARE_URL + "/movieminter/",
                },
            ).json()["message"]
            assert msg.startswith(f"{share_host} wants you to sign in")
            r = c.post(
                "/movieminter/api/v1/auth/verify",
                json={"message": msg, "signature": signed(msg)},
                headers={**csrf, **share, "Origin": SHARE_URL},
            )
            assert r.status_code == 200, r.text
            assert c.get("/movieminter/api/v1/auth/me", headers=share).json()["address"] == SIGNER.address
    finally:
        h.stop()


def test_served_urls_come_from_a1111s_own_launch(monkeypatch):
    """What the host glue tells the app: --server-name, the machine's names with --listen, the share
    link of the launched Blocks (None without --share); loopback names go without saying."""
    import socket
    import types

    from movieminter.host.extension import child_env, served_urls

    monkeypatch.setattr(socket, "gethostname", lambda: "studio-box")
    monkeypatch.setattr(socket, "getfqdn", lambda: "studio-box.lan")
    opts = types.SimpleNamespace(port=None, listen=False, server_name=None, tls_keyfile=None, api_auth=None)
    demo = types.SimpleNamespace(server_port=7861, server_name="127.0.0.1", share_url=None)
    assert served_urls(demo, opts) == []
    demo.share_url = SHARE_URL + "/"
    assert served_urls(demo, opts) == [SHARE_URL]
    opts.listen, demo.server_name = True, "0.0.0.0"
    assert served_urls(demo, opts) == ["http://studio-box:7861", "http://studio-box.lan:7861", SHARE_URL]
    opts.listen, opts.server_name, opts.tls_keyfile = False, "sd.internal", "key.pem"
    assert served_urls(demo, opts) == ["https://sd.internal:7861", SHARE_URL]
    assert (
        served_urls(None, types.SimpleNamespace(port=None, listen=False, server_name=None, tls_keyfile=None)) == []
    )  # --nowebui: no Blocks
    env = child_env(types.SimpleNamespace(opts=None, cmd_opts=opts), ",".join(served_urls(demo, opts)))
    assert env["MOVIEMINTER_HOST_URLS"] == "https://sd.internal:7861," + SHARE_URL


def test_reload_ui_with_a_new_share_link_restarts_the_app_with_it(monkeypatch):
    """A1111's "Reload UI" launches new Blocks with a new share link and calls app_started again."""
    import types

    from movieminter.host import extension

    restarts = []

    class Running:
        proc = object()
        a1111_url = ""

        def restart(self, env=None):
            restarts.append(env)

    monkeypatch.setattr(
        extension, "_state", {"app": Running(), "restart_timer": None, "own_url": "http://x", "host_urls": SHARE_URL}
    )
    monkeypatch.setattr(extension, "mount_proxy", lambda *a, **k: None)
    host_app = types.SimpleNamespace(router=types.SimpleNamespace(routes=[]))
    extension.on_app_started(
        types.SimpleNamespace(server_port=7860, server_name="127.0.0.1", share_url=SHARE_URL), host_app
    )
    assert restarts == []  # same link: the running app is kept
    extension.on_app_started(
        types.SimpleNamespace(
            server_port=7860, server_name="127.0.0.1", share_url="https://fedcba9876543210ff.gradio.live"
        ),
        host_app,
    )
    assert [env.get("MOVIEMINTER_HOST_URLS") for env in restarts] == ["https://fedcba9876543210ff.gradio.live"]


# ---------------------------------------------------------- auth and exit
def test_a1111_login_is_required_and_the_app_dies_with_a1111(tmp_path):
    h = Host("a1111", tmp_path, cmdline="--gradio-auth admin:pw1 --api-auth api:pw2")
    try:
        h.wait(auth=("api", "pw2"))
        with httpx.Client(base_url=h.url, timeout=30) as c:
            assert c.get("/movieminter/healthz").status_code == 401
            assert c.get("/movieminter/healthz", auth=("api", "wrong")).status_code == 401
            assert c.get("/movieminter/healthz", auth=("api", "pw2")).status_code == 200
            login = c.post("/login", data={"username": "admin", "password": "pw1"})
            assert login.status_code == 200, login.text
            r = c.get("/movieminter/healthz")  # gradio's login cookie now rides along
            assert r.status_code == 200
            app_pid = r.json()["pid"]
        h.proc.send_signal(signal.SIGKILL)  # A1111 dies without any chance to clean up
        h.proc.wait(10)
        assert wait_dead(app_pid), "the app outlived A1111 (its --parent-pid watchdog failed)"
    finally:
        h.stop()


# ------------------------------------------------------- settings → app env
def test_settings_section_reaches_the_app_as_env(monkeypatch):
    from movieminter.config import Settings
    from movieminter.host.extension import child_env
    from movieminter.host.settings import OPTIONS

    class Opts:
        movieminter_chain = "https://rpc.example/v1"
        movieminter_contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
        movieminter_ipfs_backend = "kubo"
        movieminter_ipfs_endpoint = "http://127.0.0.1:5001"
        movieminter_ipfs_token = "Bearer kubo-SECRET"
        movieminter_civitai_token = "civitai-SECRET"
        movieminter_data_dir = "/tmp/mm-data"
        movieminter_a1111_url = ""

    class CmdOpts:
        api_auth = "api:pw2,other:pw3"

    class Shared:
        opts, cmd_opts = Opts(), CmdOpts()

    env = child_env(Shared())
    settings = Settings.from_env(env)
    assert settings.rpc_url == "https://rpc.example/v1" and settings.ipfs_backend == "kubo"
    assert settings.civitai_token == "civitai-SECRET" and settings.a1111_auth == "api:pw2"
    assert str(settings.data_dir) == "/tmp/mm-data" and "MOVIEMINTER_A1111_URL" not in env
    assert "SECRET" not in repr(settings)
    assert {o[0] for o in OPTIONS} >= {"movieminter_chain", "movieminter_contract", "movieminter_civitai_token"}


def test_changed_settings_restart_the_app_with_the_new_values(own_host):
    host = own_host
    before = httpx.get(host.url + "/movieminter/healthz").json()["pid"]
    contract = "0x" + "ab" * 20
    # A1111's settings API calls opts.set(..., is_api=True), which runs our onchange.
    r = httpx.post(
        host.url + "/sdapi/v1/options",
        json={"movieminter_contract": contract, "movieminter_civitai_token": "via-the-api"},
    )
    assert r.status_code == 200, r.text
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            health = httpx.get(host.url + "/movieminter/healthz", timeout=2)
            if health.status_code == 200 and health.json()["pid"] != before:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        raise AssertionError("the app was not restarted:\n" + host.output())
    settings = httpx.get(host.url + "/movieminter/api/v1/settings").json()
    assert settings["contract_address"] == contract
    assert settings["civitai_token"] == "not set"  # tokens cannot be set through A1111's API


def test_the_app_stops_when_a1111_exits(own_host):
    """A1111 exits on SIGTERM, and the app child goes with it."""
    host = own_host
    pid = httpx.get(host.url + "/movieminter/healthz").json()["pid"]
    host.proc.send_signal(signal.SIGTERM)
    host.proc.wait(30)
    assert wait_dead(pid, 15), host.output()


def test_settings_section_hides_tokens_from_a1111s_options_api():
    from movieminter.host.settings import SECTION, add_settings

    class OptionInfo:
        def __init__(
            self,
            default=None,
            label="",
            component=None,
            component_args=None,
            onchange=None,
            section=None,
            restrict_api=False,
        ):
            self.default, self.label, self.component_args = default, label, component_args
            self.onchange, self.section, self.restrict_api = onchange, section, restrict_api

    class Opts:
        def __init__(self):
            self.added = {}

        def add_option(self, key, info):
            self.added[key] = info

    class Shared:
        opts = Opts()

    Shared.OptionInfo = OptionInfo
    changed = []
    add_settings(Shared, on_change=lambda: changed.append(1))
    added = Shared.opts.added
    assert all(i.section == SECTION for i in added.values())
    for key in ("movieminter_ipfs_token", "movieminter_civitai_token"):
        assert added[key].restrict_api and added[key].component_args == {"type": "password"}
    assert not added["movieminter_chain"].restrict_api
    added["movieminter_chain"].onchange()
    assert changed == [1]
