"""The lottery: the swap-or-not permutation (bijection, Python == Solidity, uniformity), the commit-reveal seed
(independent of when and by whom it is recorded; readable from the views before anyone records it; withholding the
record gains nothing: past the hash's readable window the draw falls to a block fixed at close), the verifier and
the CLI (`lottery verify`, `lottery draw`)."""

from __future__ import annotations

import random

import pytest
from eth_utils import keccak
from scipy.stats import chisquare

from movieminter.chain import lottery
from movieminter.chain.anvil import Anvil
from movieminter.chain.client import ChainClient, ChainError
from movieminter.cli import main as cli_main
from tests.fixtures_chain import create_movie, digest, mine

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


def _mine_to(c: ChainClient, block: int) -> None:
    """Mines until the latest block is `block` (views run in the latest block; a transaction lands in the next)."""
    while block > c.w3.eth.block_number:  # in steps: one request mining thousands of blocks can outlast a timeout
        mine(c, blocks=min(block - c.w3.eth.block_number, 1000))


def _snapshot(c: ChainClient):
    return c.w3.provider.make_request("evm_snapshot", [])["result"]


def _revert(c: ChainClient, snap) -> None:
    c.w3.provider.make_request("evm_revert", [snap])


def _expected(c: ChainClient, movie_id: int, block: int, segments: int) -> tuple[str, list]:
    """The seed and the winners block `block`'s hash gives, computed in Python from the chain's header."""
    seed = lottery.lottery_seed(bytes(c.w3.eth.get_block(block)["hash"]), movie_id)
    entrants = c.call("entrants", movie_id, 0, 100)
    return "0x" + seed.hex(), [w or "0x" + "00" * 20 for w in lottery.winners(seed, entrants, segments)]


def test_winners_are_readable_before_anyone_records_them_and_a_winners_mint_records(deployed):
    """As soon as block B exists, every view shows the winners computed from blockhash(B) (no transaction needed),
    and a winner's own mint records the seed in the same transaction."""
    c = deployed
    acc = c.w3.eth.accounts
    movie_id, commit = _drawn_movie(c, acc[1:6], segments=4)  # 5 entrants, 4 segments
    assert [s["status"] for s in c.segments(movie_id)] == ["pending"] * 4  # B is not mined yet
    assert c.draw_status(movie_id)["state"] == "waiting" and c.movie(movie_id)["drawBlock"] == commit
    _mine_to(c, commit + 1)
    seed, winners = _expected(c, movie_id, commit, 4)
    info = c.movie(movie_id)
    assert (info["seed"], info["seedRecorded"], info["drawBlock"]) == (seed, False, commit)
    assert c.call("winnersOf", movie_id, 0, 4) == winners
    assert [(s["status"], s["account"]) for s in c.segments(movie_id)] == [("won", w) for w in winners]
    status = c.draw_status(movie_id)
    assert status["state"] == "readable" and status["readable_until"] == commit + 8191  # EIP-2935 on anvil
    check = lottery.verify_draw(c, movie_id)
    assert check.ok and not check.recorded and "not recorded yet" in check.text

    receipt = c.transact("mintSegment", [movie_id, 2, digest("v"), digest("m")], winners[2])  # no draw() sent
    events = [e["event"] for e in c.events(receipt)]
    assert events == ["Drawn", "Transfer", "SegmentMinted"]
    info = c.movie(movie_id)
    assert (info["seed"], info["seedRecorded"]) == (seed, True)
    assert info["claimDeadline"] == c.w3.eth.get_block(receipt["blockNumber"])["timestamp"] + 3600
    assert c.call("winnersOf", movie_id, 0, 4) == winners
    check = lottery.verify_draw(c, movie_id)
    assert check.ok and check.recorded and check.recorded_in_block == receipt["blockNumber"]


def test_withholding_the_draw_past_256_blocks_changes_nothing(deployed):
    """Waiting past blockhash()'s 256 blocks cannot re-roll: the hash stays readable (EIP-2935, 8191 blocks) and
    whoever records it later, by draw() or by a claim, gets the winners everyone saw at block B + 1."""
    c = deployed
    acc = c.w3.eth.accounts
    movie_id, commit = _drawn_movie(c, acc[1:4], segments=5)  # 3 entrants: segments 3, 4 open from the draw
    _mine_to(c, commit + 1)
    seen = c.call("winnersOf", movie_id, 0, 5)
    seed, winners = _expected(c, movie_id, commit, 5)
    assert seen == winners
    _mine_to(c, commit + 300)
    assert c.call("winnersOf", movie_id, 0, 5) == seen and c.movie(movie_id)["seed"] == seed
    snap = _snapshot(c)
    receipt = c.transact("draw", [movie_id], acc[7])  # an outsider who waited
    drawn = c.events(receipt)[0]
    assert drawn["event"] == "Drawn" and drawn["args"]["commitBlock"] == commit
    assert c.movie(movie_id)["seed"] == seed and c.call("winnersOf", movie_id, 0, 5) == seen
    _revert(c, snap)
    receipt = c.transact("claim", [movie_id, 4], acc[7])  # a claim of an open segment records it too
    assert [e["event"] for e in c.events(receipt)] == ["Drawn", "SegmentClaimed"]
    assert c.movie(movie_id)["seed"] == seed and c.call("winnersOf", movie_id, 0, 5) == seen
    assert lottery.verify_draw(c, movie_id).ok


@pytest.fixture(scope="module")
def chain_without_history():
    """A chain without EIP-2935 (Cancun rules, like chains not yet on Prague): hashes readable for 256 blocks."""
    with Anvil(extra_args=["--hardfork", "cancun"]) as node:
        client = ChainClient(node.url)
        client.deploy()
        assert not client.has_block_history()
        yield client


def test_an_unrecorded_draw_falls_to_the_block_fixed_at_close(chain_without_history):
    """Nobody records while blockhash(B) is readable (256 blocks here): the draw does not re-commit to a block the
    late caller's timing picks; it falls to block B + 8192, fixed when the entries closed, whose hash does not exist
    until B's can no longer be read. Before it, nothing is readable and nothing can be recorded; after it, the seed
    is the same whoever records it and whenever."""
    c = chain_without_history
    acc = c.w3.eth.accounts
    movie_id, commit = _drawn_movie(c, acc[1:7], segments=6)
    _mine_to(c, commit + 256)  # the last block whose views can read blockhash(B)
    seed_b, winners_b = _expected(c, movie_id, commit, 6)
    assert c.call("winnersOf", movie_id, 0, 6) == winners_b
    status = c.draw_status(movie_id)
    assert status["state"] == "readable" and status["readable_until"] == commit + 256
    assert not status["history_contract"]

    fallback = commit + c.call("REDRAW_INTERVAL")
    assert fallback == commit + 8192
    for latest in (commit + 300, fallback - 1):  # anywhere in the gap: the same fixed fallback, nothing to pick
        _mine_to(c, latest)
        assert [s["status"] for s in c.segments(movie_id)] == ["pending"] * 6
        info = c.movie(movie_id)
        assert (int(info["seed"], 16), info["drawBlock"], info["commitBlock"]) == (0, fallback, commit)
        with pytest.raises(ChainError) as err:
            c.build_tx("draw", [movie_id], acc[7])
        assert err.value.error == "DrawBlockExpired"
        assert (err.value.error_args["expiredBlock"], err.value.error_args["nextBlock"]) == (commit, fallback)
        for fn, args in [("claim", [movie_id, 0]), ("mintSegment", [movie_id, 0, digest("v"), digest("m")])]:
            with pytest.raises(ChainError) as err:
                c.build_tx(fn, args, acc[1])
            assert err.value.error == "LotteryNotDrawn"
        status = c.draw_status(movie_id)
        assert status["state"] == "waiting" and status["draw_block"] == fallback

    _mine_to(c, fallback + 1)
    seed_f, winners_f = _expected(c, movie_id, fallback, 6)
    assert c.movie(movie_id)["seed"] == seed_f and c.call("winnersOf", movie_id, 0, 6) == winners_f
    results = []
    for wait, caller in [(0, acc[1]), (120, acc[8])]:  # recorded at once or later, by an entrant or not
        snap = _snapshot(c)
        mine(c, blocks=wait)
        receipt = c.transact("draw", [movie_id], caller)
        assert c.events(receipt)[0]["args"]["commitBlock"] == fallback
        results.append((c.movie(movie_id)["seed"], c.call("winnersOf", movie_id, 0, 6)))
        if wait == 0:
            check = lottery.verify_draw(c, movie_id)
            assert check.ok and (check.commit_block, check.block_number) == (commit, fallback)
            assert "moved 1 x 8192 blocks" in check.text
        _revert(c, snap)
    assert results[0] == results[1] == (seed_f, winners_f)
    assert seed_f != seed_b


@pytest.fixture(scope="module")
def fresh_chain():
    """A chain of its own (Prague rules, EIP-2935): mining 8,000 blocks on the session's chain, under the
    per-test snapshot, is several times slower."""
    with Anvil() as node:
        client = ChainClient(node.url, timeout=300)  # one anvil_mine of ~8,000 blocks can take minutes under load
        client.deploy()
        assert client.has_block_history()
        yield client


@pytest.mark.slow
def test_with_block_history_the_fallback_is_the_same_ladder(fresh_chain):
    """With EIP-2935 B's hash is readable for 8191 blocks; then block B + 8192, fixed at close, takes over."""
    c = fresh_chain
    acc = c.w3.eth.accounts
    movie_id, commit = _drawn_movie(c, acc[1:4], segments=3)
    _mine_to(c, commit + 8191)
    seed_b, _ = _expected(c, movie_id, commit, 3)
    assert c.movie(movie_id)["seed"] == seed_b  # still readable by the views in block B + 8191
    _mine_to(c, commit + 8192)  # the one block where neither B's hash nor B + 8192's is readable
    assert int(c.movie(movie_id)["seed"], 16) == 0 and c.movie(movie_id)["drawBlock"] == commit + 8192
    mine(c)
    receipt = c.transact("draw", [movie_id], acc[2])
    assert c.events(receipt)[0]["args"]["commitBlock"] == commit + 8192
    seed_f, winners_f = _expected(c, movie_id, commit + 8192, 3)
    assert c.movie(movie_id)["seed"] == seed_f and c.call("winnersOf", movie_id, 0, 3) == winners_f
    assert lottery.verify_draw(c, movie_id).ok


def test_python_mirror_of_the_draw_block_ladder():
    assert lottery.draw_block_at(100, 50) == 100 and lottery.draw_block_at(100, 101) == 100
    assert lottery.draw_block_at(100, 100 + 8192) == 100  # the one block where no candidate is readable
    assert lottery.draw_block_at(100, 100 + 8193) == 100 + 8192
    assert lottery.hash_readable(100, 356, history=False) and not lottery.hash_readable(100, 357, history=False)
    assert lottery.hash_readable(100, 100 + 8191, history=True) and not lottery.hash_readable(100, 8292, history=True)
    # at most one candidate is readable at any block, on either kind of chain
    for history in (False, True):
        for n in range(101, 100 + 3 * 8192, 7):
            readable = [k for k in range(4) if lottery.hash_readable(100 + k * 8192, n, history)]
            assert len(readable) <= 1
            if readable:
                assert lottery.draw_block_at(100, n) == 100 + readable[0] * 8192


def test_cli_records_the_draw_as_soon_as_its_block_exists(deployed, capsys):
    c = deployed
    acc = c.w3.eth.accounts
    movie_id, commit = _drawn_movie(c, acc[1:4], segments=3)
    base = ["--rpc", c.rpc_url, "--contract", c.contract_address]
    assert cli_main(["lottery", "draw", str(movie_id), "--check", *base]) == 1
    assert f"the draw uses block {commit}" in capsys.readouterr().out
    _mine_to(c, commit + 1)
    assert cli_main(["lottery", "draw", str(movie_id), "--check", *base]) == 0
    assert "readable" in capsys.readouterr().out and not c.movie(movie_id)["seedRecorded"]
    assert cli_main(["lottery", "draw", str(movie_id), *base]) == 0
    out = capsys.readouterr().out
    assert "the draw is recorded (tx 0x" in out and c.movie(movie_id)["seedRecorded"]
    assert cli_main(["lottery", "draw", str(movie_id), "--json", *base]) == 0
    assert '"state": "recorded"' in capsys.readouterr().out  # nothing sent twice


def test_record_draw_waits_for_the_draw_block(deployed):
    import threading

    c = deployed
    acc = c.w3.eth.accounts
    movie_id, commit = _drawn_movie(c, acc[1:4], segments=3)
    miner = threading.Timer(0.5, lambda: mine(ChainClient(c.rpc_url, c.contract_address), blocks=6))
    miner.start()
    try:
        status = c.record_draw(movie_id, sender=acc[3], wait=True, timeout=60)
    finally:
        miner.join()
    assert status["state"] == "recorded" and status["tx"].startswith("0x") and status["draw_block"] == commit


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

    code = cli_main(
        ["lottery", "verify", str(movie_id), "--rpc", c.rpc_url, "--contract", c.contract_address, "--segment", "2"]
    )
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
