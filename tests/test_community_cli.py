"""`movieminter director collective|pass|ballot|approval|credits` against anvil, signed with keystores."""

from __future__ import annotations

import json
import re

import pytest

from movieminter.chain.client import ChainError
from movieminter.chain.keystore import import_keystore
from movieminter.cli import main as cli_main
from tests.fixtures_chain import create_movie, digest, mine
from tests.test_community import community_session, env  # noqa: F401 (fixtures)

PASSWORD = "cli keystore pw"
ROLES = {"buyer1": 1, "buyer2": 2, "minter": 4, "leader": 7, "creator": 8, "director": 9}


@pytest.fixture(scope="module")
def keystores(anvil, tmp_path_factory):
    folder = tmp_path_factory.mktemp("keystores")
    out = {}
    for role, index in ROLES.items():
        import_keystore(folder / f"{role}.json", anvil.private_keys[index], PASSWORD)
        out[role] = folder / f"{role}.json"
    return out


@pytest.fixture
def run(env, keystores, capsys, monkeypatch):  # noqa: F811
    chain, com, _ = env
    monkeypatch.setenv("MOVIEMINTER_KEYSTORE_PASSWORD", PASSWORD)
    monkeypatch.setenv("MOVIEMINTER_COMMUNITY_ADDRESS", com.contract_address)

    def director(*argv, signer: str | None = None, ok: bool = True) -> str:
        args = ["director", *argv, "--rpc", chain.rpc_url, "--contract", chain.contract_address]
        if signer:
            args += ["--keystore", str(keystores[signer])]
        code = cli_main(args)
        out = capsys.readouterr()
        assert (code == 0) == ok, out
        return out.out + out.err

    return director


def number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, text
    return int(match.group(1))


def test_a_season_from_the_terminal(env, run):  # noqa: F811
    chain, com, accounts = env
    leader, creator, director, minter = accounts[7], accounts[8], accounts[9], accounts[4]
    out = run(
        "collective", "create", "--price", "0.0035", "--early-price", "0.0025", "--early-cap", "1",
        "--creator", creator, "--creator-share", "10", signer="leader",
    )  # fmt: skip
    cid = number(r"collective (\d+) created", out)
    assert com.collective(cid).leader == leader and com.collective(cid).early_price == 25 * 10**14
    movie = create_movie(chain, mint_mode="open", segment_count=2)
    run("collective", "join", "--movie", str(movie), "--collective", str(cid), signer="leader", ok=False)
    run("collective", "join", "--movie", str(movie), "--collective", str(cid), signer="director")
    assert com.call("collectiveOf", movie) == cid

    before = chain.w3.eth.get_balance(accounts[1])
    out = run("pass", "buy", "--collective", str(cid), signer="buyer1")
    assert "0.0025 ETH (early tier" in out
    pass1 = number(r"pass (\d+) of collective", out)
    assert com.call("ownerOf", pass1) == accounts[1] and before - chain.w3.eth.get_balance(accounts[1]) > 25 * 10**14
    pass2 = number(r"pass (\d+) of collective", run("pass", "buy", "--collective", str(cid), signer="buyer2"))
    run("collective", "prices", "--collective", str(cid), "--price", "0.004", "--early-price", "0.001", signer="leader")
    assert com.next_pass_price(cid) == (4 * 10**15, False)
    to_creator, to_leader, to_minters = com.collectable(cid)  # collected when the prices changed: all credited
    assert (to_creator, to_leader, to_minters) == (0, 0, 0)
    assert com.credits_of(creator) + com.credits_of(leader) == 25 * 10**14 + 35 * 10**14

    # takes: open, two takes, vote, result
    out = run("ballot", "open", "--movie", str(movie), "--segment", "1", "--takes-minutes", "10", signer="director")
    ballot = number(r"ballot (\d+) opened", out)
    for signer, pass_id, label in (("buyer1", pass1, "a"), ("buyer2", pass2, "b")):
        run(
            "ballot", "take", "--ballot", str(ballot), "--pass", str(pass_id),
            "--content-digest", "0x" + digest(label).hex(), "--metadata-digest", "0x" + digest("m" + label).hex(),
            signer=signer,
        )  # fmt: skip
    assert [t["content_digest"] for t in com.takes(ballot)] == [digest("a"), digest("b")]
    chain.transact("buyTicket", [movie], accounts[3], value=10**15)
    out = run("ballot", "prepare-votes", "--ballot", str(ballot), signer="director")  # the movie's ticket buyers
    assert "prepared the vote words of 1 ticket voter(s)" in out
    run("ballot", "take", "--ballot", str(ballot), "--pass", str(pass1), "--content-digest", "0x12",
        "--metadata-digest", "0x" + "00" * 32, signer="buyer1", ok=False)  # fmt: skip
    mine(chain, seconds=601)
    run("ballot", "vote", "--ballot", str(ballot), "--option", "1", "--pass", str(pass1), signer="buyer1")
    out = run(
        "ballot", "vote", "--ballot", str(ballot), "--option", "0", "--pass", str(pass1), signer="buyer1", ok=False
    )
    assert "already has the vote" in out
    run("ballot", "vote", "--ballot", str(ballot), "--option", "1", "--pass", str(pass2), signer="buyer2")
    out = run("ballot", "result", "--ballot", str(ballot))
    assert "option 1: 2 vote(s)" in out and "option 1 leads (voting still open) with 2 vote(s)" in out
    mine(chain, seconds=24 * 3600 + 1)
    assert "option 1 won with 2 vote(s)" in run("ballot", "result", "--ballot", str(ballot))
    # the winning take becomes segment 1: settled, then minted by its author with its digests only
    out = run("ballot", "settle", "--ballot", str(ballot), signer="minter")
    assert f"take 1 by {accounts[2]} won" in out and "0x" + digest("mb").hex() in out
    with pytest.raises(ChainError):
        chain.transact("mintSegment", [movie, 1, digest("a"), digest("ma")], accounts[1])  # the losing take
    chain.transact("mintSegment", [movie, 1, digest("b"), digest("mb")], accounts[2])

    # approval: window, submit, reject with a reason (the segment reopens), a new version, approve
    chain.transact("mintSegment", [movie, 0, digest("v0"), digest("m0")], minter)
    run("approval", "window", "--movie", str(movie), "--seconds", "3600", signer="director")
    assert "held back" in run("approval", "status", "--movie", str(movie), "--segment", "0")
    assert "pending" in run("approval", "submit", "--movie", str(movie), "--segment", "0", signer="minter")
    assert "counts as approved from" in run("approval", "status", "--movie", str(movie), "--segment", "0")
    out = run("approval", "reject", "--movie", str(movie), "--segment", "0", "--reason", "off model", signer="leader")
    assert "review state now: unsubmitted" in out and "open again" in out
    assert com.rejections(movie) == [{"segment": 0, "director": leader, "reason": "off model"}]
    assert chain.segments(movie, 0, 1)[0]["status"] == "open"
    chain.transact("mintSegment", [movie, 0, digest("v0 new"), digest("m0 new")], minter)
    run("approval", "submit", "--movie", str(movie), "--segment", "0", signer="minter")
    assert "approved" in run("approval", "approve", "--movie", str(movie), "--segment", "0", signer="director")
    assert "is paid to its holder" in run("approval", "status", "--movie", str(movie), "--segment", "0")
    assert com.review_of(movie, 0) == "approved" and com.review_of(movie, 1) == "unsubmitted"

    # credits
    out = run("credits", str(movie))
    assert f"Directed by {director[:6]}…{director[-4:]}" in out
    assert f"Collective led by {leader[:6]}…{leader[-4:]}" in out
    assert f"Segment 1: {accounts[2][:6]}…" in out and f"Segment 0: {minter[:6]}…" in out
    assert f"Season pass holders: {accounts[1][:6]}…{accounts[1][-4:]}, {accounts[2][:6]}…" in out
    data = json.loads(run("credits", str(movie), "--json"))
    assert data["segments"][0]["minter"]["address"] == minter and data["leader"]["address"] == leader


def test_missing_community_address_is_explained(deployed, keystores, capsys, monkeypatch):
    monkeypatch.delenv("MOVIEMINTER_COMMUNITY_ADDRESS", raising=False)
    code = cli_main(["director", "credits", "0", "--rpc", deployed.rpc_url, "--contract", deployed.contract_address])
    assert code != 0
    assert "No Community contract given" in capsys.readouterr().err


def test_pass_revenue_from_the_terminal(env, run):  # noqa: F811
    chain, com, accounts = env
    leader, creator, minter = accounts[7], accounts[8], accounts[4]
    out = run(
        "collective", "create", "--price", "0.0035", "--early-price", "0.0035", "--creator", creator,
        "--creator-share", "60", "--minters-share", "41", signer="leader", ok=False,
    )  # fmt: skip
    assert "add up to 101%" in out
    out = run(
        "collective", "create", "--price", "0.0035", "--early-price", "0.0035", "--creator", creator,
        "--creator-share", "10", "--minters-share", "30", signer="leader",
    )  # fmt: skip
    assert "minters' share 30%, leader 60%" in out
    cid = number(r"collective (\d+) created", out)
    assert (com.collective(cid).creator_bps, com.collective(cid).minters_bps) == (1000, 3000)
    movie = create_movie(chain, mint_mode="open", segment_count=3)
    run("collective", "join", "--movie", str(movie), "--collective", str(cid), signer="director")
    for segment in (0, 2):
        chain.transact("mintSegment", [movie, segment, digest(f"v{segment}"), digest(f"m{segment}")], minter)
    run("pass", "buy", "--collective", str(cid), signer="buyer1")
    run("pass", "buy", "--collective", str(cid), signer="buyer2")
    out = run("pass", "collect", "--collective", str(cid), signer="buyer1")  # anyone may collect
    assert "credited creator 0.0007 ETH, leader 0.0042 ETH; minters' pool +0.0021 ETH" in out
    assert (com.credits_of(creator), com.credits_of(leader)) == (7 * 10**14, 42 * 10**14)
    out = run("pass", "claim-revenue", "--movie", str(movie), signer="minter")  # every segment it holds: 0 and 2
    assert "0.0014 ETH of pass revenue credited for segment(s) 0, 2" in out
    assert com.credits_of(minter) == 2 * 7 * 10**14
    out = run("pass", "claim-revenue", "--movie", str(movie), "--segment", "1", signer="minter", ok=False)
    assert "does not exist" in out  # segment 1 is not minted
    before = chain.w3.eth.get_balance(minter)
    assert "withdrew 0.0014 ETH" in run("pass", "withdraw", signer="minter")
    assert chain.w3.eth.get_balance(minter) > before and com.credits_of(minter) == 0
    # with approval turned off, a segment can no longer be rejected (issue 17)
    run("approval", "window", "--movie", str(movie), "--seconds", "600", signer="director")
    run("approval", "submit", "--movie", str(movie), "--segment", "0", signer="minter")
    run("approval", "window", "--movie", str(movie), "--seconds", "0", signer="director")
    out = run(
        "approval", "reject", "--movie", str(movie), "--segment", "0", "--reason", "late", signer="director", ok=False
    )
    assert f"movie {movie} does not require approval" in out
    assert chain.call("ownerOf", chain.token_id(movie, 0)) == minter
