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
    r = client.get("/api/v1/auth/nonce", params={"address": address, "chain_id": chain_id,
                                                 "domain": domain, "uri": uri})
    assert r.status_code == 200, r.text
    return r.json()


def verify(client, message, signature, origin=ORIGIN):
    return client.post("/api/v1/auth/verify", json={"message": message, "signature": signature},
                       headers={"Origin": origin, **client.csrf_headers()})


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


def test_message_for_another_domain_is_refused(api_client):
    msg = get_message(api_client, domain="evil.example", uri="http://evil.example/")
    r = verify(api_client, msg["message"], sign(msg["message"]))
    assert r.status_code == 403
    assert "evil.example" in r.json()["detail"]["message"]


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
    text = SiweMessage(domain="testserver", address=ADDR, uri="http://testserver/", version="1",
                       chain_id=31337, nonce=nonce, issued_at=iso(past - 60),
                       expiration_time=iso(past)).prepare_message()
    r = verify(api_client, text, sign(text))
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]["message"]


def test_garbage_message_explains(api_client):
    r = verify(api_client, "hello", "0x00")
    assert r.status_code == 400
    assert "EIP-4361" in r.json()["detail"]["message"]
