"""Every revert of every MovieMinter function, checked through ChainClient's custom-error decoding, plus the
happy paths around them (claim expiry, double mint, allowlist proofs, tokenURI, royalties)."""

from __future__ import annotations

import pytest
from multiformats import CID

from movieminter.chain.client import ChainError, MovieConfig, explain_revert
from movieminter.chain.merkle import allowlist_tree
from tests.fixtures_chain import chain_now, create_movie, digest, mine

ZERO32 = b"\x00" * 32


def reverts(client, fn, args, sender, error, value=0, **expected_args):
    """Asserts that `fn(*args)` from `sender` reverts with custom error `error` (and these arguments)."""
    with pytest.raises(ChainError) as info:
        client.build_tx(fn, args, sender, value)
    assert info.value.error == error, str(info.value)
    for k, v in expected_args.items():
        assert info.value.error_args[k] == v, (k, info.value.error_args)
    assert info.value.hint  # every decoded error says how to fix it
    return info.value


@pytest.fixture
def people(deployed):
    return deployed.w3.eth.accounts


def config(c, **kw):
    acc = c.w3.eth.accounts
    base = dict(manifest_digest=digest("m"), segment_count=3, creator=acc[8], director=acc[9], mint_mode="open")
    base.update(kw)
    return [MovieConfig(**base).as_tuple()]


def test_create_movie_reverts(deployed, people):
    c, a = deployed, people[1]
    now = chain_now(c)
    reverts(c, "createMovie", config(c, segment_count=0), a, "InvalidSegmentCount")
    reverts(c, "createMovie", config(c, creator="0x" + "00" * 20), a, "ZeroAddress")
    reverts(c, "createMovie", config(c, director="0x" + "00" * 20), a, "ZeroAddress")
    reverts(
        c,
        "createMovie",
        config(c, creator_bps=5000, director_bps=5000, minters_bps=1),
        a,
        "InvalidShares",
        creatorBps=5000,
        directorBps=5000,
        mintersBps=1,
    )
    reverts(c, "createMovie", config(c, royalty_bps=10_001), a, "InvalidRoyalty")
    reverts(c, "createMovie", config(c, claim_window=0), a, "InvalidClaimWindow")
    reverts(c, "createMovie", config(c, max_claims=0), a, "InvalidMaxClaims", maxClaims=0)
    reverts(c, "createMovie", config(c, max_claims=9), a, "InvalidMaxClaims", maxClaims=9)
    reverts(c, "createMovie", config(c, manifest_digest=ZERO32), a, "InvalidDigest")
    reverts(c, "createMovie", config(c, mint_mode="lottery", entry_deadline=now - 1), a, "InvalidEntryDeadline")
    reverts(c, "createMovie", config(c, entry_deadline=now + 100), a, "InvalidEntryDeadline")  # open + deadline
    reverts(c, "createMovie", config(c, entry_fee=1), a, "InvalidEntryDeadline")
    reverts(c, "createMovie", config(c, mint_mode="allowlist"), a, "InvalidAllowlistRoot")
    reverts(c, "createMovie", config(c, allowlist_root=digest("r")), a, "InvalidAllowlistRoot")
    receipt = c.transact("createMovie", config(c), a)
    events = c.events(receipt)
    assert events[0]["event"] == "MovieCreated" and events[0]["args"]["segmentCount"] == 3
    assert c.call("movieCount") == 1


def test_unknown_movie_and_segment(deployed, people):
    c, a = deployed, people[1]
    for fn, args in [
        ("enter", [7]),
        ("closeEntries", [7]),
        ("draw", [7]),
        ("claim", [7, 0]),
        ("mintSegment", [7, 0, digest("v"), digest("m")]),
        ("buyTicket", [7]),
        ("collect", [7]),
    ]:
        reverts(c, fn, args, a, "UnknownMovie", movieId=7)
    with pytest.raises(ChainError) as err:
        c.movie(7)
    assert err.value.error == "UnknownMovie" and "does not exist" in str(err.value)
    for view, args in [
        ("segments", [7, 0, 1]),
        ("winnerOf", [7, 0]),
        ("entrants", [7, 0, 1]),
        ("hasTicket", [7, a]),
        ("collectable", [7]),
        ("winnersOf", [7, 0, 1]),
    ]:
        with pytest.raises(ChainError):
            c.call(view, *args)
    movie_id = create_movie(c, mint_mode="open", segment_count=3)
    reverts(c, "claim", [movie_id, 3], a, "InvalidSegment", segment=3, segmentCount=3)
    reverts(c, "mintSegment", [movie_id, 5, digest("v"), digest("m")], a, "InvalidSegment")
    reverts(c, "mintSegment", [movie_id, 0, ZERO32, digest("m")], a, "InvalidDigest")
    reverts(c, "mintSegment", [movie_id, 0, digest("v"), ZERO32], a, "InvalidDigest")
    reverts(c, "mintSegment", [movie_id, 0, digest("v"), (1).to_bytes(32, "big")], a, "InvalidDigest")  # "prepared"
    assert c.segments(movie_id, 3, 5) == [] and len(c.segments(movie_id, 1, 99)) == 2


def test_open_mode_claims_expire_and_double_mint_fails(deployed, people):
    c = deployed
    alice, bob = people[1], people[2]
    movie_id = create_movie(c, mint_mode="open", segment_count=2, claim_window=600)
    reverts(c, "enter", [movie_id], alice, "WrongMintMode", expected="lottery", actual="open")
    reverts(c, "closeEntries", [movie_id], alice, "WrongMintMode")
    reverts(c, "draw", [movie_id], alice, "WrongMintMode")
    c.transact("claim", [movie_id, 0], alice)
    until = c.segments(movie_id, 0, 1)[0]["deadline"]
    reverts(c, "claim", [movie_id, 0], bob, "SegmentReserved", holder=alice, until=until)
    reverts(c, "claim", [movie_id, 0], alice, "SegmentReserved")  # no extending one's own live claim
    reverts(c, "mintSegment", [movie_id, 0, digest("v"), digest("m")], bob, "SegmentReserved", holder=alice)

    mine(c, seconds=601)  # the claim expires: the segment reopens for anyone
    assert c.segments(movie_id, 0, 1)[0]["status"] == "open"
    c.transact("claim", [movie_id, 0], bob)
    c.transact("mintSegment", [movie_id, 0, digest("v"), digest("m")], bob)
    reverts(c, "mintSegment", [movie_id, 0, digest("v2"), digest("m2")], bob, "AlreadyMinted", segment=0)
    reverts(c, "claim", [movie_id, 0], alice, "AlreadyMinted")
    # an unclaimed open segment can be minted directly
    c.transact("mintSegment", [movie_id, 1, digest("v1"), digest("m1")], alice)
    assert [s["account"] for s in c.segments(movie_id)] == [bob, alice]


def test_allowlist_mode(deployed, people):
    c = deployed
    alice, bob, carol = people[1], people[2], people[3]
    tree = allowlist_tree([(alice, 0), (bob, 1), (alice, 2)])
    movie_id = create_movie(c, mint_mode="allowlist", segment_count=4, claim_window=900, allowlist_root=tree.root)
    assert c.movie(movie_id)["allowlistRoot"] == "0x" + tree.root.hex()
    assert [s["status"] for s in c.segments(movie_id)] == ["allowlisted"] * 4
    reverts(c, "claim", [movie_id, 0], carol, "SegmentReserved")
    # without a proof, or with someone else's proof, or for another segment: refused
    reverts(c, "mintSegment", [movie_id, 0, digest("v"), digest("m")], alice, "NotAllowed", account=alice)
    reverts(
        c, "mintSegmentWithProof", [movie_id, 0, digest("v"), digest("m"), tree.get_proof([bob, 1])], bob, "NotAllowed"
    )
    reverts(
        c,
        "mintSegmentWithProof",
        [movie_id, 1, digest("v"), digest("m"), tree.get_proof([alice, 0])],
        alice,
        "NotAllowed",
    )
    c.transact("mintSegmentWithProof", [movie_id, 0, digest("v"), digest("m"), tree.get_proof([alice, 0])], alice)
    c.transact("mintSegmentWithProof", [movie_id, 1, digest("v1"), digest("m1"), tree.get_proof(1)], bob)
    segs = c.segments(movie_id)
    assert [(s["status"], s["account"]) for s in segs[:2]] == [("minted", alice), ("minted", bob)]
    # after the window, unminted segments open to anyone
    mine(c, seconds=901)
    assert [s["status"] for s in c.segments(movie_id)[2:]] == ["open", "open"]
    c.transact("mintSegment", [movie_id, 2, digest("v2"), digest("m2")], carol)
    assert c.segments(movie_id, 2, 1)[0]["account"] == carol


def test_lottery_reverts_and_reservations(deployed, people):
    c = deployed
    alice, bob, carol, dave = people[1:5]
    movie_id = create_movie(c, segment_count=3, claim_window=1200, entry_fee=10**12)
    deadline = c.movie(movie_id)["entryDeadline"]
    reverts(c, "enter", [movie_id], alice, "WrongPayment", expected=10**12, sent=0)
    reverts(c, "enter", [movie_id], alice, "WrongPayment", value=10**12 + 1)
    c.transact("enter", [movie_id], alice, value=10**12)
    reverts(c, "enter", [movie_id], alice, "AlreadyEntered", value=10**12, account=alice)
    c.transact("enter", [movie_id], bob, value=10**12)
    assert c.call("hasEntered", movie_id, alice) and not c.call("hasEntered", movie_id, carol)
    reverts(c, "closeEntries", [movie_id], alice, "EntriesStillOpen", entryDeadline=deadline)
    reverts(c, "draw", [movie_id], alice, "EntriesNotClosed")
    reverts(c, "claim", [movie_id, 0], alice, "LotteryNotDrawn")
    reverts(c, "mintSegment", [movie_id, 0, digest("v"), digest("m")], alice, "LotteryNotDrawn")
    assert [s["status"] for s in c.segments(movie_id)] == ["pending"] * 3
    assert c.call("winnerOf", movie_id, 0) == "0x" + "00" * 20

    mine(c, seconds=3601)
    reverts(c, "enter", [movie_id], carol, "EntriesClosedAlready", value=10**12)
    receipt = c.transact("closeEntries", [movie_id], carol)
    commit = c.events(receipt)[0]["args"]["commitBlock"]
    assert commit == receipt["blockNumber"] + c.call("COMMIT_DELAY")
    reverts(c, "closeEntries", [movie_id], carol, "EntriesClosedAlready")
    err = reverts(c, "draw", [movie_id], carol, "DrawTooEarly", commitBlock=commit)
    assert "wait until that block" in err.hint
    mine(c, blocks=c.call("COMMIT_DELAY") + 1)  # estimates run in the latest block: it must be past the commit
    c.transact("draw", [movie_id], dave)
    reverts(c, "draw", [movie_id], dave, "AlreadyDrawn")

    winners = c.call("winnersOf", movie_id, 0, 3)
    assert sorted(winners[:2]) == sorted([alice, bob]) and winners[2] == "0x" + "00" * 20
    seg_alice, seg_bob = winners.index(alice), winners.index(bob)
    # a won segment is reserved for its winner; segment 2 (no winner) is open at once
    reverts(c, "mintSegment", [movie_id, seg_alice, digest("v"), digest("m")], bob, "NotAllowed", account=bob)
    reverts(c, "claim", [movie_id, seg_alice], carol, "SegmentReserved", holder=alice)
    c.transact("claim", [movie_id, 2], carol)
    reverts(c, "mintSegment", [movie_id, 2, digest("v"), digest("m")], dave, "SegmentReserved", holder=carol)
    c.transact("mintSegment", [movie_id, seg_alice, digest("va"), digest("ma")], alice)
    # the claim window ends: bob's unminted win opens to anyone
    mine(c, seconds=1201)
    assert c.segments(movie_id, seg_bob, 1)[0]["status"] == "open"
    c.transact("mintSegment", [movie_id, seg_bob, digest("vd"), digest("md")], dave)
    segs = c.segments(movie_id)
    assert segs[seg_alice]["account"] == alice and segs[seg_bob]["account"] == dave
    assert c.call("winnerOf", movie_id, seg_bob) == bob  # the draw itself never changes


def test_tickets_and_withdraw_reverts(deployed, people):
    c = deployed
    viewer = people[5]
    free = create_movie(c, mint_mode="open", ticket_price=0)
    reverts(c, "buyTicket", [free], viewer, "TicketsNotForSale")
    assert c.call("hasTicket", free, viewer)  # a free movie: everyone may watch
    paid = create_movie(c, mint_mode="open", ticket_price=10**15)
    assert not c.call("hasTicket", paid, viewer)
    reverts(c, "buyTicket", [paid], viewer, "WrongPayment", expected=10**15, sent=10**14, value=10**14)
    c.transact("buyTicket", [paid], viewer, value=10**15)
    assert c.call("hasTicket", paid, viewer)
    reverts(c, "buyTicket", [paid], viewer, "AlreadyHasTicket", value=10**15)
    reverts(c, "withdraw", [], viewer, "NothingToWithdraw", account=viewer)
    token = c.token_id(paid, 0)
    reverts(c, "claimSegmentRevenue", [[token]], viewer, "NotSegmentHolder", tokenId=token)


def test_token_uri_is_the_metadata_cidv1_and_royalty(deployed, people):
    c = deployed
    alice = people[1]
    movie_id = create_movie(c, mint_mode="open", royalty_bps=750)
    meta = digest("metadata json")
    c.transact("mintSegment", [movie_id, 0, digest("video"), meta], alice)
    uri = c.call("tokenURI", c.token_id(movie_id, 0))
    expected = str(CID("base32", 1, "dag-pb", ("sha2-256", meta)))
    assert uri == "ipfs://" + expected
    from movieminter.ipfs.cid import digest_to_cid

    assert digest_to_cid(meta) == expected
    with pytest.raises(ChainError) as err:
        c.call("tokenURI", c.token_id(movie_id, 1))
    assert err.value.error == "ERC721NonexistentToken"
    receiver, amount = c.call("royaltyInfo", c.token_id(movie_id, 0), 10_000)
    assert (receiver, amount) == (c.movie(movie_id)["creator"], 750)
    assert c.call("supportsInterface", bytes.fromhex("2a55205a"))  # ERC-2981
    assert c.call("supportsInterface", bytes.fromhex("80ac58cd"))  # ERC-721


def test_many_digests_give_the_same_cid_on_chain_and_in_python(deployed):
    c = deployed
    movie_id = create_movie(c, mint_mode="open", segment_count=8)
    accounts = c.w3.eth.accounts
    for s in range(8):
        c.transact("mintSegment", [movie_id, s, digest(f"v{s}"), digest(f"meta{s}")], accounts[s % 5])
    for s in range(8):
        uri = c.call("tokenURI", c.token_id(movie_id, s))
        assert uri == "ipfs://" + str(CID("base32", 1, "dag-pb", ("sha2-256", digest(f"meta{s}"))))


def test_explain_revert_texts():
    assert "already minted" in explain_revert(
        "0x"
        + bytes.fromhex(_selector("AlreadyMinted(uint256,uint256)")).hex()
        + (1).to_bytes(32, "big").hex()
        + (2).to_bytes(32, "big").hex()
    )
    assert "refused: nope" in explain_revert(
        "0x08c379a0" + (32).to_bytes(32, "big").hex() + (4).to_bytes(32, "big").hex() + b"nope".ljust(32, b"\0").hex()
    )
    assert "overflow" in explain_revert("0x4e487b71" + (0x11).to_bytes(32, "big").hex())
    assert "rejected" in explain_revert("0xdeadbeef")


def _selector(signature: str) -> str:
    from eth_utils import function_signature_to_4byte_selector

    return function_signature_to_4byte_selector(signature).hex()


def test_view_reverts(deployed, people):
    c = deployed
    movie_id = create_movie(c, segment_count=2)
    with pytest.raises(ChainError) as err:
        c.call("winnerOf", movie_id, 2)
    assert err.value.error == "InvalidSegment"
    with pytest.raises(ChainError) as err:  # the raw shuffle refuses an empty domain
        c.call("permutation", digest("s"), 0, 0, 1)
    assert err.value.error == "Error" and "index out of range" in str(err.value)
    assert c.call("permutation", digest("s"), 0, 0, 0) == []
    assert c.call("entrants", movie_id, 5, 10) == [] and c.call("winnersOf", movie_id, 9, 1) == []


def test_prepare_segments_moves_digest_storage_cost_off_the_minter(deployed, people):
    c = deployed
    alice = people[1]
    plain = create_movie(c, mint_mode="open", segment_count=3)
    prepared = create_movie(c, mint_mode="open", segment_count=3)
    reverts(c, "prepareSegments", [99, 0, 1], alice, "UnknownMovie")
    reverts(c, "prepareSegments", [prepared, 2, 2], alice, "InvalidSegment")
    receipt = c.transact("prepareSegments", [prepared, 0, 3], c.w3.eth.accounts[9])
    assert c.events(receipt)[0]["event"] == "SegmentsPrepared"
    assert [s["status"] for s in c.segments(prepared)] == ["open"] * 3  # nothing else changes
    assert c.segments(prepared, 0, 1)[0]["metadataDigest"] is None
    c.transact("mintSegment", [plain, 2, digest("warm"), digest("up")], alice)  # alice is a repeat holder below
    gas_plain = c.transact("mintSegment", [plain, 0, digest("v"), digest("m")], alice)["gasUsed"]
    gas_prepared = c.transact("mintSegment", [prepared, 0, digest("v"), digest("m")], alice)["gasUsed"]
    assert gas_plain - gas_prepared == 22_100 - 5_000  # the one digest slot: fresh write -> rewrite
    seg = c.segments(prepared, 0, 1)[0]
    assert (seg["status"], seg["contentDigest"]) == ("minted", "0x" + digest("v").hex())  # from SegmentMinted
    c.transact("prepareSegments", [prepared, 0, 3], alice)  # minted segments are skipped
    assert c.segments(prepared, 0, 1)[0]["metadataDigest"] == "0x" + digest("m").hex()


def test_one_address_holds_at_most_max_claims_live_claims(deployed, people):
    """Squatting: a claim beyond the movie's maxClaims reverts TooManyClaims; minting or expiry frees the slot;
    an address whose claim on a segment expired unminted may not re-claim that segment for one more window."""
    c = deployed
    alice, bob = people[1], people[2]
    movie_id = create_movie(c, mint_mode="open", segment_count=6, claim_window=600, max_claims=2)
    assert c.movie(movie_id)["maxClaims"] == 2
    c.transact("claim", [movie_id, 0], alice)
    c.transact("claim", [movie_id, 1], alice)
    assert c.call("liveClaims", movie_id, alice) == 2
    err = reverts(c, "claim", [movie_id, 2], alice, "TooManyClaims", movieId=movie_id, account=alice, maxClaims=2)
    assert "limit per address" in str(err) and "mint a claimed segment" in err.hint
    c.transact("claim", [movie_id, 2], bob)  # the limit is per address
    other = create_movie(c, mint_mode="open", segment_count=2, claim_window=600)  # and per movie (default 1)
    c.transact("claim", [other, 0], alice)
    reverts(c, "claim", [other, 1], alice, "TooManyClaims", maxClaims=1)

    c.transact("mintSegment", [movie_id, 0, digest("v0"), digest("m0")], alice)  # minting frees a slot
    assert c.call("liveClaims", movie_id, alice) == 1
    c.transact("claim", [movie_id, 3], alice)
    reverts(c, "claim", [movie_id, 4], alice, "TooManyClaims")

    mine(c, seconds=601)  # alice's claims on 1 and 3 expire unminted: both slots are free again
    assert c.call("liveClaims", movie_id, alice) == 0
    until = c.segments(movie_id, 1, 1)[0]
    assert until["status"] == "open"
    err = reverts(c, "claim", [movie_id, 1], alice, "ClaimCooldown", segment=1, account=alice)
    assert err.error_args["until"] > chain_now(c)
    c.transact("claim", [movie_id, 4], alice)
    c.transact("claim", [movie_id, 5], alice)
    reverts(c, "claim", [movie_id, 2], alice, "TooManyClaims")  # bob's expired claim: open, but alice is full
    c.transact("claim", [movie_id, 1], bob)  # others may take the segment at once
    mine(c, seconds=1201)
    c.transact("claim", [movie_id, 3], alice)  # one window later the cooldown is over
    # an unclaimed open segment can still be minted directly: claims reserve, they are not required
    c.transact("mintSegment", [movie_id, 2, digest("v2"), digest("m2")], alice)


def test_a_winner_minted_token_is_a_whole_erc721_token(deployed, people):
    """A token minted by its lottery winner stores no owner slot (ownership is recomputed from the draw): owner,
    balance, approvals, transfers and revenue claims behave as for any token, and the first transfer writes it."""
    c = deployed
    alice, bob, carol, dave = people[1:5]
    movie_id = create_movie(c, segment_count=2, claim_window=3600, ticket_price=10**15)
    for p in (alice, bob):
        c.transact("enter", [movie_id], p)
    mine(c, seconds=3601)
    c.transact("closeEntries", [movie_id], carol)
    mine(c, blocks=5)
    c.transact("draw", [movie_id], carol)
    seg = c.call("winnersOf", movie_id, 0, 2).index(alice)
    token = c.token_id(movie_id, seg)
    receipt = c.transact("mintSegment", [movie_id, seg, digest("v"), digest("m")], alice)
    transfer = [e for e in c.events(receipt) if e["event"] == "Transfer"][0]["args"]
    assert (transfer["from"], transfer["to"], transfer["tokenId"]) == ("0x" + "00" * 20, alice, token)
    assert c.call("ownerOf", token) == alice and c.call("balanceOf", alice) == 1
    assert c.call("tokenURI", token).startswith("ipfs://b")
    reverts(c, "mintSegment", [movie_id, seg, digest("v2"), digest("m2")], alice, "AlreadyMinted")
    c.transact("buyTicket", [movie_id], dave, value=10**15)
    assert c.events(c.transact("claimSegmentRevenue", [[token]], alice))[0]["args"]["amount"] > 0

    c.transact("approve", [carol, token], alice)
    assert c.call("getApproved", token) == carol
    reverts(c, "transferFrom", [alice, dave, token], bob, "ERC721InsufficientApproval")
    c.transact("transferFrom", [alice, dave, token], carol)
    assert c.call("ownerOf", token) == dave and c.call("getApproved", token) == "0x" + "00" * 20
    assert (c.call("balanceOf", alice), c.call("balanceOf", dave)) == (0, 1)
    assert c.segments(movie_id, seg, 1)[0]["account"] == alice  # the minter, whoever holds it now
    reverts(c, "claimSegmentRevenue", [[token]], alice, "NotSegmentHolder")
    c.transact("buyTicket", [movie_id], bob, value=10**15)
    c.transact("claimSegmentRevenue", [[token]], dave)
    c.transact("transferFrom", [dave, bob, token], dave)  # from the written owner slot now
    assert c.call("ownerOf", token) == bob and c.call("balanceOf", bob) == 1
