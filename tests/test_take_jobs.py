"""Take jobs without a browser (the A1111 double, local IPFS, anvil): a take is vetted before anything is
rendered, recorded once even when the app dies after the wallet sent it (the TakeRecorded event settles the
job on the next start, no second signature), and only the settled winner's job turns into the mint."""

from __future__ import annotations

import json
import time

import pytest

from movieminter.chain.community import CommunityClient
from tests.conftest import EXAMPLE_MANIFEST
from tests.fixtures_chain import chain_now, mine


@pytest.fixture
def takes_world(tmp_path, anvil, a1111):
    from movieminter.app.context import AppContext
    from movieminter.app.director import pin_manifest
    from movieminter.chain.client import ChainClient, MovieConfig
    from movieminter.config import Settings

    chain = ChainClient(anvil.url)
    chain = ChainClient(anvil.url, chain.deploy())
    com = CommunityClient(anvil.url)
    com.deploy(minter_address=chain.contract_address)
    ctx = AppContext(
        Settings(
            data_dir=tmp_path / "data",
            ipfs_backend="local",
            rpc_url=anvil.url,
            contract_address=chain.contract_address,
            community_address=com.contract_address,
            a1111_url=a1111[1],
        )
    )
    acc = chain.w3.eth.accounts
    pinned = pin_manifest(ctx.store, json.loads(EXAMPLE_MANIFEST.read_text()))
    config = MovieConfig(
        manifest_digest=pinned["digest"],
        segment_count=6,
        creator=acc[8],
        director=acc[9],
        mint_mode="open",
        claim_window=3600,
    )
    movie = chain.movie_id_from_receipt(chain.transact("createMovie", [config.as_tuple()], acc[0]))
    collective = com.create_collective(acc[7], 10**15, 10**15, 0)
    com.join_collective(movie, collective, acc[9])
    passes = {i: com.buy_pass(collective, acc[i]) for i in (1, 2)}
    now = chain_now(chain)
    ballot = com.open_ballot(movie, acc[9], segment=1, start=now + 900, end=now + 900 + 3600)
    yield dict(ctx=ctx, chain=chain, com=com, movie=movie, ballot=ballot, passes=passes, acc=acc)
    ctx.runner.stop()


def wait_state(ctx, job_id: int, want: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while (job := ctx.journal.get(job_id)).state != want:
        assert time.monotonic() < deadline, (job.state, job.error)
        time.sleep(0.1)
    return job


def test_only_pass_holders_queue_a_take_and_only_while_takes_are_open(takes_world):
    from movieminter.app.rights import NoRight
    from movieminter.app.takes import CannotTake, queue_take

    w = takes_world
    ctx, acc = w["ctx"], w["acc"]
    with pytest.raises(CannotTake, match="Only holders of collective"):
        queue_take(ctx, w["movie"], 1, w["ballot"], acc[3])
    with pytest.raises(CannotTake, match="is not taking takes of segment 2"):
        queue_take(ctx, w["movie"], 2, w["ballot"], acc[1])
    mine(w["chain"], seconds=1000)  # the vote started: takes are closed
    with pytest.raises(CannotTake, match="Takes are closed"):
        queue_take(ctx, w["movie"], 1, w["ballot"], acc[1])
    # Nor is a plain Render & Mint job admitted on the segment: only the winning take becomes it.
    with pytest.raises(NoRight, match="is up for takes in ballot"):
        ctx.runner.submit(
            chain_id=31337, contract=w["chain"].contract_address, movie_id=w["movie"], segment=1, wallet=acc[1]
        )
    assert ctx.journal.list() == []  # nothing was queued, nothing rendered


def test_a_take_sent_before_the_app_died_is_recorded_once(takes_world):
    from movieminter.app.my_work import my_work
    from movieminter.app.runner import JobRunner
    from movieminter.app.takes import CannotTake, mint_winning_take, queue_take

    w = takes_world
    ctx, chain, com, acc = w["ctx"], w["chain"], w["com"], w["acc"]
    job, created = queue_take(ctx, w["movie"], 1, w["ballot"], acc[1])
    assert created and job.params == {"take_ballot": w["ballot"], "take_pass": w["passes"][1]}
    job = wait_state(ctx, job.id, "awaiting_signature")
    tx = job.data["awaiting_signature"]["tx"]
    assert job.data["awaiting_signature"]["function"] == "recordTake" and tx["to"] == com.contract_address
    # The wallet sends it; the app dies before the browser could report the hash.
    ctx.runner.stop()
    sent = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")}
    chain.wait(chain.w3.eth.send_transaction(sent))
    again = JobRunner(ctx, hub=ctx.events)
    again.start()
    job = wait_state(ctx, job.id, "take_recorded", timeout=30)
    again.stop()
    (take,) = com.takes(w["ballot"])
    assert take["taker"] == acc[1] and "0x" + take["metadata_digest"].hex() == job.data["pinned"]["metadata_digest"]
    assert job.data["take_recorded"]["take"] == 0
    states = [t["to"] for t in ctx.journal.transitions(job.id)]
    assert states.count("awaiting_signature") == 1 and states[-1] == "take_recorded"
    # Queuing it again is the same job: nothing rendered or recorded twice.
    same, created = queue_take(ctx, w["movie"], 1, w["ballot"], acc[1])
    assert not created and same.id == job.id and same.state == "take_recorded"
    # The wallet's list shows the take waiting for its vote.
    (row,) = my_work(ctx, acc[1])["items"]
    assert (row["kind"], row["ballot"], row["take"], row["winner"]) == ("take", w["ballot"], 0, None)
    mine(chain, seconds=1000)
    com.vote(w["ballot"], 0, acc[2], pass_id=w["passes"][2])
    # Not a winner (yet): the job cannot turn into the mint.
    mine(chain, seconds=4000)
    with pytest.raises(CannotTake, match="the director settles it"):
        mint_winning_take(ctx, job.id, acc[1])
    assert ctx.journal.get(job.id).state == "take_recorded"
    # Settled: the list puts the won take first among what needs the wallet.
    com.settle_takes(w["ballot"], acc[9])
    work = my_work(ctx, acc[1])
    assert work["needs_action"] == 1 and [(r["kind"], r["winner"]) for r in work["items"]] == [("take_won", 0)]


def test_a_winning_take_recorded_elsewhere_is_minted_from_its_settled_files(takes_world):
    """The author recorded the take from the CLI (no job here): the tab mints the files the ballot settled on,
    with no render, and a second click is the same job."""
    from movieminter.app.takes import CannotTake, mint_take_from_chain, take_view
    from movieminter.ipfs.cid import cid_to_digest

    w = takes_world
    ctx, chain, com, acc, ballot = w["ctx"], w["chain"], w["com"], w["acc"], w["ballot"]
    video, metadata = ctx.store.add_bytes(b"a take from the CLI"), ctx.store.add_bytes(b'{"name": "take"}')
    com.record_take(ballot, w["passes"][2], cid_to_digest(video), cid_to_digest(metadata), acc[2])
    mine(chain, seconds=1000)
    com.vote(ballot, 0, acc[1], pass_id=w["passes"][1])
    mine(chain, seconds=4000)
    with pytest.raises(CannotTake):  # nothing to mint before the director settles
        mint_take_from_chain(ctx, w["movie"], 1, acc[2])
    com.settle_takes(ballot, acc[9])

    view = take_view(ctx, w["movie"], 1, acc[2])
    assert view["can_mint"] and view["job"] is None and "the files the ballot names" in view["message"]
    assert not take_view(ctx, w["movie"], 1, acc[1])["can_mint"]  # the voter is not the author
    with pytest.raises(CannotTake, match="only its author mints it"):
        mint_take_from_chain(ctx, w["movie"], 1, acc[1])

    job, created = mint_take_from_chain(ctx, w["movie"], 1, acc[2])
    assert created
    job = wait_state(ctx, job.id, "awaiting_signature")
    assert job.data["pinned"]["video_cid"] == video and job.data["pinned"]["metadata_cid"] == metadata
    assert job.data["awaiting_signature"]["function"] == "mintSegment"
    tx = job.data["awaiting_signature"]["tx"]
    sent = chain.w3.eth.send_transaction({k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")})
    ctx.runner.submit_tx(job.id, sent.to_0x_hex())
    job = wait_state(ctx, job.id, "minted")
    seg = chain.segments(w["movie"], 1, 1)[0]
    assert seg["account"] == acc[2] and seg["metadataDigest"] == "0x" + cid_to_digest(metadata).hex()
    assert seg["contentDigest"] == "0x" + cid_to_digest(video).hex()
    assert "rendering" not in [t["to"] for t in ctx.journal.transitions(job.id)]  # nothing rendered
    again, created = mint_take_from_chain(ctx, w["movie"], 1, acc[2])
    assert not created and again.id == job.id
