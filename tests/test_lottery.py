"""The lottery: the swap-or-not permutation (bijection, Python == Solidity, uniformity), the commit-reveal seed
(independent of when draw() is called, re-commit after 256 blocks) and the verifier (CLI included)."""

from __future__ import annotations

import random

import pytest
from eth_utils import keccak
from scipy.stats import chisquare

from movieminter.chain import lottery
from movieminter.chain.client import ChainClient
from movieminter.cli import main as cli_main
from tests.fixtures_chain import create_movie, mine

SIZES = [1, 2, 3, 5, 13, 64, 255, 256, 1000, 1080]


def seeds(count: int, label: str = "seed") -> list[bytes]:
    return [keccak(text=f"{label}-{i}") for i in range(count)]


def test_permutation_is_a_bijection_on_chain(chain_session):
    c = chain_session
    for n in SIZES:
        for seed in seeds(2, f"bij{n}"):
            image = c.call("permutation", seed, n, 0, n)
            assert sorted(image) == list(range(n)), n


def test_python_and_solidity_agree(chain_session):
    c = chain_session
    rng = random.Random(6)
    for seed in seeds(15):
        for n in rng.sample(SIZES, 4) + [rng.randint(1, 5000)]:
            start = rng.randrange(n)
            count = min(n - start, 30)
            onchain = c.call("permutation", seed, n, start, count)
            assert onchain == lottery.permutation(seed, n, count, start), (seed.hex(), n)
            assert onchain[0] == lottery.permute(seed, start, n)
    assert c.call("SHUFFLE_ROUNDS") == lottery.ROUNDS
    block_hash = keccak(text="some block")
    assert c.call("lotterySeed", block_hash, 42) == lottery.lottery_seed(block_hash, 42)


def test_python_permutation_is_a_bijection_and_needs_range():
    for n in (1, 2, 7, 100):
        assert sorted(lottery.permute(b"\x01" * 32, i, n) for i in range(n)) == list(range(n))
    with pytest.raises(ValueError):
        lottery.permute(b"\x01" * 32, 5, 5)


def test_winners_are_uniform_chi_square():
    """Over many seeds, each of n entrants wins each segment equally often (Python mirror, proven identical
    to the contract above). Deterministic seeds: the test cannot flake."""
    n = 8
    counts = [[0] * n for _ in range(n)]  # counts[segment][entrant]
    for seed in seeds(500, "uniform"):
        for s, index in enumerate(lottery.permutation(seed, n)):
            counts[s][index] += 1
    flat = [x for row in counts for x in row]
    assert chisquare(flat).pvalue > 0.001
    for row in counts:
        assert chisquare(row).pvalue > 0.001
    # a fixed entrant's chance to win when there are fewer segments than entrants: no bias to early entrants
    wins_by_entrant = [0] * 30
    for seed in seeds(600, "fewer"):
        for w in lottery.winners(seed, [f"e{i}" for i in range(30)], 5):
            wins_by_entrant[int(w[1:])] += 1
    assert chisquare(wins_by_entrant).pvalue > 0.001


def _drawn_movie(c: ChainClient, entrants: list[str], segments: int = 4) -> tuple[int, int]:
    movie_id = create_movie(c, segment_count=segments, claim_window=3600)
    for p in entrants:
        c.transact("enter", [movie_id], p)
    mine(c, seconds=3601)
    receipt = c.transact("closeEntries", [movie_id], entrants[0])
    return movie_id, c.events(receipt)[0]["args"]["commitBlock"]


def test_seed_does_not_depend_on_when_or_who_draws(deployed):
    c = deployed
    acc = c.w3.eth.accounts
    movie_id, commit = _drawn_movie(c, acc[1:6])
    mine(c, blocks=commit - c.w3.eth.block_number + 1)  # the committed block exists: its hash is fixed
    results = []
    for wait, caller in [(0, acc[1]), (60, acc[7]), (240, acc[3])]:
        snap = c.w3.provider.make_request("evm_snapshot", [])["result"]
        mine(c, blocks=wait, seconds=wait * 12)
        receipt = c.transact("draw", [movie_id], caller)
        drawn = c.events(receipt)[0]
        assert drawn["event"] == "Drawn" and drawn["args"]["commitBlock"] == commit
        results.append((c.movie(movie_id)["seed"], c.call("winnersOf", movie_id, 0, 4)))
        c.w3.provider.make_request("evm_revert", [snap])
    assert results[0] == results[1] == results[2]
    block_hash = bytes(c.w3.eth.get_block(commit)["hash"])
    assert results[0][0] == "0x" + lottery.lottery_seed(block_hash, movie_id).hex()


def test_draw_recommits_after_256_blocks(deployed):
    c = deployed
    acc = c.w3.eth.accounts
    movie_id, commit = _drawn_movie(c, acc[1:4])
    mine(c, blocks=commit - c.w3.eth.block_number + 300)  # the committed hash is gone from the EVM
    receipt = c.transact("draw", [movie_id], acc[1])
    event = c.events(receipt)[0]
    assert event["event"] == "DrawRecommitted" and event["args"]["expiredBlock"] == commit
    new_commit = event["args"]["commitBlock"]
    assert new_commit == receipt["blockNumber"] + c.call("COMMIT_DELAY")
    assert c.movie(movie_id)["commitBlock"] == new_commit and int(c.movie(movie_id)["seed"], 16) == 0
    mine(c, blocks=c.call("COMMIT_DELAY") + 1)
    c.transact("draw", [movie_id], acc[2])
    block_hash = bytes(c.w3.eth.get_block(new_commit)["hash"])
    assert c.movie(movie_id)["seed"] == "0x" + lottery.lottery_seed(block_hash, movie_id).hex()
    assert lottery.verify_draw(c, movie_id).ok


def test_verify_draw_and_cli(deployed, capsys):
    c = deployed
    acc = c.w3.eth.accounts
    movie_id, commit = _drawn_movie(c, acc[1:8], segments=5)  # 7 entrants, 5 segments
    mine(c, blocks=commit - c.w3.eth.block_number + 1)
    c.transact("draw", [movie_id], acc[1])
    check = lottery.verify_draw(c, movie_id, [0, 4])
    assert check.ok and not check.mismatches
    assert check.onchain == check.expected and len(set(check.expected)) == 5
    assert "VERIFIED" in check.text and f"block {commit}" in check.text
    # the explanation's last step names the same winner as the contract
    for seg in (0, 4):
        block = check.text.split(f"Segment {seg}: start at index {seg}")[1]
        index = int(block.split("winner: entrant #")[1].split()[0])
        assert check.entrants[index] == c.call("winnerOf", movie_id, seg)

    code = cli_main(["lottery", "verify", str(movie_id), "--rpc", c.rpc_url, "--contract", c.contract_address,
                     "--segment", "2"])
    out = capsys.readouterr().out
    assert code == 0 and "VERIFIED" in out and "round 23" in out

    class Tampered(ChainClient):  # a contract that reported other winners would be caught
        def call(self, function, *args, **kw):
            result = super().call(function, *args, **kw)
            return list(reversed(result)) if function == "winnersOf" else result

    bad = lottery.verify_draw(Tampered(c.rpc_url, c.contract_address), movie_id)
    assert not bad.ok and bad.mismatches and "NOT VERIFIED" in bad.text


def test_verify_refuses_undrawn_and_non_lottery(deployed):
    c = deployed
    open_movie = create_movie(c, mint_mode="open")
    with pytest.raises(Exception, match="not a lottery"):
        lottery.verify_draw(c, open_movie)
    lot = create_movie(c)
    with pytest.raises(Exception, match="not been drawn"):
        lottery.verify_draw(c, lot)


def test_segments_view_of_1080_segments_in_one_call(deployed):
    c = deployed
    acc = c.w3.eth.accounts
    movie_id, commit = _drawn_movie(c, acc[1:10], segments=1080)
    mine(c, blocks=commit - c.w3.eth.block_number + 1)
    c.transact("draw", [movie_id], acc[1])
    winners = c.call("winnersOf", movie_id, 0, 9)
    c.transact("mintSegment", [movie_id, 0, keccak(text="v"), keccak(text="m")], winners[0])
    data = c.contract.encode_abi("segments", [movie_id, 0, 1080])
    gas = c.w3.eth.estimate_gas({"to": c.contract_address, "data": data})
    assert gas < c.w3.eth.get_block("latest")["gasLimit"]  # fits anvil's default call gas cap
    rows = c.segments(movie_id)  # one eth_call
    assert len(rows) == 1080
    assert [r["status"] for r in rows[:9]] == ["minted"] + ["won"] * 8
    assert {r["status"] for r in rows[9:]} == {"open"}


def test_lottery_without_entrants_opens_every_segment_at_the_draw(deployed):
    c = deployed
    acc = c.w3.eth.accounts
    movie_id = create_movie(c, segment_count=3, claim_window=3600)
    mine(c, seconds=3601)
    receipt = c.transact("closeEntries", [movie_id], acc[1])
    assert c.events(receipt)[0]["args"]["entrantCount"] == 0
    mine(c, blocks=c.call("COMMIT_DELAY") + 1)
    c.transact("draw", [movie_id], acc[1])
    assert [s["status"] for s in c.segments(movie_id)] == ["open"] * 3
    assert c.call("winnersOf", movie_id, 0, 3) == ["0x" + "00" * 20] * 3
    c.transact("mintSegment", [movie_id, 1, keccak(text="v"), keccak(text="m")], acc[4])
    assert c.segments(movie_id, 1, 1)[0]["account"] == acc[4]
    check = lottery.verify_draw(c, movie_id)
    assert check.ok and check.expected == [None] * 3
