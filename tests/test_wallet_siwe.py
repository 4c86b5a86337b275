"""SIWE (EIP-4361) pairing through the real HTTP routes: nonce, verify, me, logout."""

from __future__ import annotations

import time

from eth_account import Account
from eth_account.messages import encode_defunct

from tests.fixtures_ui import TEST_KEYS

KEY = TEST_KEYS[0]
ADDR = Account.from_key(KEY).address
ORIGIN = "http://testserver"


def sign(text: str, key: str = KEY) -> str:
    return Account.sign_message(encode_defunct(text=text), private_key=key).signature.to_0x_hex()


def get_message(client, address=ADDR, chain_id=31337, domain="testserver", uri="http://testserver/"):
    r = client.get(
        "/api/v1/auth/nonce", params={"address": address, "chain_id": chain_id, "domain": domain, "uri": uri}
    )
    assert r.status_code == 200, r.text
    return r.json()


def verify(client, message, signature, origin=ORIGIN):
    return client.post(
        "/api/v1/auth/verify",
        json={"message": message, "signature": signature},
        headers={"Origin": origin, **client.csrf_headers()},
    )


def test_sign_in_me_and_logout(api_client):
    assert api_client.get("/api/v1/auth/me").json()["authenticated"] is False
    msg = get_message(api_client)
    assert "wants you to sign in with your Ethereum account" in msg["message"]
    assert f"Nonce: {msg['nonce']}" in msg["message"] and "Chain ID: 31337" in msg["message"]
    assert "Expiration Time:" in msg["message"]
    r = verify(api_client, msg["message"], sign(msg["message"]))
    assert r.status_code == 200, r.text
    assert r.json()["address"] == ADDR
    cookie = r.headers["set-cookie"].lower()
    assert "mm_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    me = api_client.get("/api/v1/auth/me").json()
    assert me["authenticated"] is True and me["address"] == ADDR and me["chain_id"] == 31337
    r = api_client.post("/api/v1/auth/logout", headers={"Origin": ORIGIN, **api_client.csrf_headers()})
    assert r.status_code == 200
    assert api_client.get("/api/v1/auth/me").json()["authenticated"] is False


def test_nonce_is_single_use(api_client):
    msg = get_message(api_client)
    sig = sign(msg["message"])
    assert verify(api_client, msg["message"], sig).status_code == 200
    again = verify(api_client, msg["message"], sig)
    assert again.status_code == 401
    assert "already used" in again.json()["detail"]["message"]
    assert again.json()["detail"]["hint"]


def test_signature_from_another_key_is_refused(api_client):
    msg = get_message(api_client)
    r = verify(api_client, msg["message"], sign(msg["message"], TEST_KEYS[1]))
    assert r.status_code == 401
    assert "signature does not match" in r.json()["detail"]["message"]
    assert api_client.get("/api/v1/auth/me").json()["authenticated"] is False


def test_wrong_chain_is_refused(api_client):
    msg = get_message(api_client, chain_id=1)
    r = verify(api_client, msg["message"], sign(msg["message"]))
    assert r.status_code == 400
    assert "chain 1" in r.json()["detail"]["message"] and "31337" in r.json()["detail"]["message"]


def siwe_text(nonce: str, domain: str, uri: str, chain_id: int = 31337) -> str:
    """An EIP-4361 message as a wallet on `domain` would be asked to sign it."""
    from siwe import SiweMessage

    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))  # noqa: E731
    return SiweMessage(
        domain=domain,
        address=ADDR,
        uri=uri,
        version="1",
        chain_id=chain_id,
        nonce=nonce,
        issued_at=iso(time.time()),
        expiration_time=iso(time.time() + 300),
    ).prepare_message()


def test_message_for_another_domain_is_refused(api_client):
    # The server never prepares a message for a domain it is not served under ...
    r = api_client.get(
        "/api/v1/auth/nonce",
        params={"address": ADDR, "chain_id": 31337, "domain": "evil.example", "uri": "http://evil.example/"},
    )
    assert r.status_code == 403 and "evil.example" in r.json()["detail"]["message"]
    # ... and refuses one signed for such a domain.
    nonce = api_client.get("/api/v1/auth/nonce").json()["nonce"]
    text = siwe_text(nonce, "evil.example", "http://evil.example/")
    r = verify(api_client, text, sign(text))
    assert r.status_code == 403
    assert "evil.example" in r.json()["detail"]["message"]


def test_phishing_domain_named_in_the_request_headers_is_still_refused(api_client):
    """A signature a phishing site collected names the phishing domain. The expected domain comes
    from configuration, so naming that domain in Host, X-Forwarded-Host or Origin changes nothing."""
    nonce = api_client.get("/api/v1/auth/nonce").json()["nonce"]
    text = siwe_text(nonce, "evil.example", "https://evil.example/")
    signature = sign(text)
    body = {"message": text, "signature": signature}
    csrf = api_client.csrf_headers()
    # No Origin (not a browser): the old check took X-Forwarded-Host, then Host, as "this page".
    r = api_client.post("/api/v1/auth/verify", json=body, headers={**csrf, "X-Forwarded-Host": "evil.example"})
    assert r.status_code == 403, r.text
    assert "not an address Movie Minter is served under" in r.json()["detail"]["message"]
    r = api_client.post(
        "/api/v1/auth/verify", json=body, headers={**csrf, "Host": "evil.example", "Origin": "https://evil.example"}
    )
    assert r.status_code == 403, r.text
    assert api_client.get("/api/v1/auth/me").json()["authenticated"] is False


def test_sign_in_domains_are_the_configured_addresses(tmp_path):
    """Standalone behind a public URL (MOVIEMINTER_PUBLIC_URLS): that domain signs in, with its
    scheme; loopback keeps working; other domains do not."""
    from fastapi.testclient import TestClient

    from movieminter.app.context import AppContext
    from movieminter.app.server import create_app
    from movieminter.config import Settings

    ctx = AppContext(Settings(data_dir=tmp_path / "data", public_urls="https://mm.example.org"))
    ctx.chain_id = 31337
    with TestClient(create_app(ctx, ui=False, run_jobs=False, proxy_secret=""), base_url="https://mm.example.org") as c:
        c.get("/healthz")
        csrf = {"X-CSRF-Token": c.cookies.get("mm_csrf"), "Origin": "https://mm.example.org"}
        msg = c.get("/api/v1/auth/nonce", params={"address": ADDR, "chain_id": 31337}).json()["message"]
        assert msg.startswith("mm.example.org wants you to sign in") and "URI: https://mm.example.org/" in msg
        r = c.post("/api/v1/auth/verify", json={"message": msg, "signature": sign(msg)}, headers=csrf)
        assert r.status_code == 200, r.text
        # The right host with the wrong scheme is not this site.
        nonce = c.get("/api/v1/auth/nonce").json()["nonce"]
        text = siwe_text(nonce, "mm.example.org", "http://mm.example.org/")
        r = c.post("/api/v1/auth/verify", json={"message": text, "signature": sign(text)}, headers=csrf)
        assert r.status_code == 403 and "does not belong" in r.json()["detail"]["message"]
        # Loopback is always this app (a tunnel, the machine itself).
        nonce = c.get("/api/v1/auth/nonce").json()["nonce"]
        text = siwe_text(nonce, "localhost:7870", "http://localhost:7870/movieminter/")
        r = c.post("/api/v1/auth/verify", json={"message": text, "signature": sign(text)}, headers=csrf)
        assert r.status_code == 200, r.text


def test_nonce_from_another_browser_is_refused(api_client, api_client_factory):
    msg = get_message(api_client)
    other = api_client_factory()
    r = verify(other, msg["message"], sign(msg["message"]))
    assert r.status_code == 401


def test_expired_message_is_refused(api_client):
    from siwe import SiweMessage

    nonce = api_client.get("/api/v1/auth/nonce").json()["nonce"]
    past = time.time() - 60
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))  # noqa: E731
    text = SiweMessage(
        domain="testserver",
        address=ADDR,
        uri="http://testserver/",
        version="1",
        chain_id=31337,
        nonce=nonce,
        issued_at=iso(past - 60),
        expiration_time=iso(past),
    ).prepare_message()
    r = verify(api_client, text, sign(text))
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]["message"]


def test_garbage_message_explains(api_client):
    r = verify(api_client, "hello", "0x00")
    assert r.status_code == 400
    assert "EIP-4361" in r.json()["detail"]["message"]
