"""Issue 17 on anvil: director approval gates MovieMinter's pool payouts (a rejection reopens the segment), the
winning take is the only version of its segment that can be minted, and votes stay under their gas goals."""

from __future__ import annotations

from movieminter.chain.community import CommunityClient
from tests.fixtures_chain import chain_now, create_movie, digest, mine
from tests.test_community import _takes_ballot, community_session, env, refused, season  # noqa: F401 (fixtures)

TICKET = 10**15


def _claim(chain, token: int, holder: str) -> int:
    """Claims the token's pool share; returns what was credited."""
    before = chain.call("credits", holder)
    chain.transact("claimSegmentRevenue", [[token]], holder)
    return chain.call("credits", holder) - before


# ------------------------------------------------------------------ approval before payout


def test_payout_waits_for_approval_and_a_rejected_share_stays_with_the_segment(env):  # noqa: F811
    chain, com, accounts = env
    w3 = chain.w3
    _, movie = season(chain, com, accounts, segments=2, ticket_price=TICKET)
    director, first, second, viewers = accounts[9], accounts[4], accounts[5], accounts[1:4]
    start_balance = w3.eth.get_balance(chain.contract_address)
    assert com.is_linked()
    com.set_approval_window(movie, 3600, director)
    token0, token1 = chain.token_id(movie, 0), chain.token_id(movie, 1)
    chain.transact("mintSegment", [movie, 0, digest("v0"), digest("m0")], first)
    chain.transact("mintSegment", [movie, 1, digest("v1"), digest("m1")], first)
    for viewer in viewers[:2]:
        chain.transact("buyTicket", [movie], viewer, value=TICKET)
    share = chain.movie(movie)["revenuePerSegment"]
    assert share > 0
    # Unsubmitted, then pending: held back (and still accruing to the segment).
    refused("SegmentNotApproved", chain.transact, "claimSegmentRevenue", [[token0]], first)
    com.submit_segment(movie, 0, first)
    com.submit_segment(movie, 1, first)
    assert not com.segment_approved(movie, 0)
    refused("SegmentNotApproved", chain.transact, "claimSegmentRevenue", [[token0, token1]], first)
    # Rejected: burnt, reopened; the held-back share stays with the segment, not with the rejected minter.
    com.review_segment(movie, 0, False, director, "wrong character")
    assert chain.segments(movie, 0, 1)[0]["status"] == "open"
    assert chain.call("claimableSegmentRevenue", token0) == share
    assert chain.call("credits", first) == 0
    chain.transact("mintSegment", [movie, 0, digest("v0 b"), digest("m0 b")], second)
    chain.transact("buyTicket", [movie], viewers[2], value=TICKET)
    com.submit_segment(movie, 0, second)
    refused("SegmentNotApproved", chain.transact, "claimSegmentRevenue", [[token0]], second)
    com.review_segment(movie, 0, True, director)
    assert com.segment_approved(movie, 0)
    full_share = chain.movie(movie)["revenuePerSegment"]
    assert _claim(chain, token0, second) == full_share  # everything since the first ticket
    # Segment 1: the director stays silent; the window passes; no rejection after it.
    mine(chain, seconds=3601)
    refused("NotSubmitted", com.review_segment, movie, 1, False, director, "too late")
    assert _claim(chain, token1, first) == full_share
    # Every wei of ticket revenue: creator + director + both segments, withdrawn; nothing left.
    chain.transact("collect", [movie], accounts[0])
    withdrawn = 0
    for who in {accounts[8], director, first, second}:
        credit = chain.call("credits", who)
        if credit:
            chain.transact("withdraw", [], who)
            withdrawn += credit
    assert withdrawn == 3 * TICKET
    assert w3.eth.get_balance(chain.contract_address) == start_balance


def test_unminted_reopened_segment_keeps_its_share_in_the_contract(env):  # noqa: F811
    """A rejected segment nobody mints again: its share is neither paid out nor lost; the next minter gets it."""
    chain, com, accounts = env
    w3 = chain.w3
    _, movie = season(chain, com, accounts, segments=3, ticket_price=TICKET)
    director, minter = accounts[9], accounts[4]
    start_balance = w3.eth.get_balance(chain.contract_address)
    com.set_approval_window(movie, 600, director)
    chain.transact("mintSegment", [movie, 2, digest("v"), digest("m")], minter)
    com.submit_segment(movie, 2, minter)
    for viewer in accounts[1:4]:
        chain.transact("buyTicket", [movie], viewer, value=TICKET)
    com.review_segment(movie, 2, False, director, "too dark")
    chain.transact("collect", [movie], accounts[0])
    for who in (accounts[8], director):
        chain.transact("withdraw", [], who)
    held = sum(chain.call("claimableSegmentRevenue", chain.token_id(movie, s)) for s in range(3))
    assert held == 3 * chain.movie(movie)["revenuePerSegment"] > 0
    assert w3.eth.get_balance(chain.contract_address) - start_balance == held


def test_approval_window_is_bounded_and_approval_off_pays(env):  # noqa: F811
    chain, com, accounts = env
    _, movie = season(chain, com, accounts, segments=1, ticket_price=TICKET)
    director, minter = accounts[9], accounts[4]
    refused("InvalidWindow", com.set_approval_window, movie, 31 * 86400, director)
    com.set_approval_window(movie, 3600, director)
    chain.transact("mintSegment", [movie, 0, digest("v"), digest("m")], minter)
    chain.transact("buyTicket", [movie], accounts[1], value=TICKET)
    token = chain.token_id(movie, 0)
    refused("SegmentNotApproved", chain.transact, "claimSegmentRevenue", [[token]], minter)
    com.set_approval_window(movie, 0, director)
    assert _claim(chain, token, minter) == chain.movie(movie)["revenuePerSegment"]


def test_only_the_deployer_links_once_and_an_unlinked_community_refuses_takes_and_approval(env):  # noqa: F811
    chain, com, accounts = env
    refused("NotCommunity", chain.transact, "setCommunity", [accounts[3]], accounts[0])  # linked already
    refused("NotCommunity", chain.transact, "lockSegment", [1 << 32, 1], accounts[0])
    refused("NotCommunity", chain.transact, "reopenSegment", [1 << 32], accounts[0])
    other = CommunityClient.for_chain(chain)
    other.deploy(minter_address=chain.contract_address)
    assert not other.linked and not other.is_linked()
    cid = other.create_collective(accounts[7], 10, 10, 0)
    movie = create_movie(chain, mint_mode="open", segment_count=2)
    other.join_collective(movie, cid, accounts[9])
    now = chain_now(chain)
    refused("NotLinked", other.open_ballot, movie, accounts[9], start=now + 100, end=now + 200)
    refused("NotLinked", other.set_approval_window, movie, 60, accounts[9])
    other.open_ballot(movie, accounts[9], takes=False, options=2, start=now + 100, end=now + 200)  # ideas work


# ------------------------------------------------------------------ the winning take is the segment


def test_only_the_winning_take_by_its_author_mints_the_segment(env):  # noqa: F811
    chain, com, accounts = env
    voters = accounts[1:6]
    _, movie, passes, ballot = _takes_ballot(chain, com, accounts, voters)  # segment 1
    takes = [(digest(f"video {i}"), digest(f"meta {i}")) for i in range(3)]
    for i, (video, meta) in enumerate(takes):
        com.record_take(ballot, passes[i], video, meta, voters[i])
    # The ballot reserves the segment: nobody claims or mints it meanwhile, whatever the digests.
    refused("SegmentReserved", chain.transact, "claim", [movie, 1], accounts[6])
    refused("NotAllowed", chain.transact, "mintSegment", [movie, 1, *takes[2]], voters[2])
    now = chain_now(chain)
    refused("SegmentReserved", com.open_ballot, movie, accounts[9], segment=1, start=now + 10, end=now + 20)
    mine(chain, seconds=1000)
    for voter, pass_id, option in zip(voters, passes, [2, 2, 0, 2, 1], strict=True):
        com.vote(ballot, option, voter, pass_id)
    refused("BallotNotOver", com.settle_takes, ballot, accounts[6])
    mine(chain, seconds=1000)
    # Settling checks the takes against the recorded hash chain.
    forged = [(voters[0], *takes[2]), (voters[1], *takes[1]), (voters[2], *takes[0])]
    refused("TakesMismatch", com.transact, "settleTakes", [ballot, forged], accounts[6])
    winner = com.settle_takes(ballot, accounts[6])
    assert winner["take"] == 2 and winner["taker"] == voters[2]
    refused("AlreadySettled", com.settle_takes, ballot, accounts[6])
    # A losing take cannot be minted, by its author or anyone; nor the winning digests by another account.
    refused("NotAllowed", chain.transact, "mintSegment", [movie, 1, *takes[0]], voters[0])
    refused("NotAllowed", chain.transact, "mintSegment", [movie, 1, *takes[1]], voters[2])
    refused("NotAllowed", chain.transact, "mintSegment", [movie, 1, *takes[2]], accounts[6])
    refused("NotAllowed", chain.transact, "mintSegment", [movie, 1, takes[2][0], digest("other meta")], voters[2])
    chain.transact("mintSegment", [movie, 1, *takes[2]], voters[2])
    seg = chain.segments(movie, 1, 1)[0]
    assert seg["status"] == "minted" and seg["account"] == voters[2]
    assert seg["metadataDigest"] == "0x" + takes[2][1].hex()
    mine(chain, seconds=chain.movie(movie)["claimWindow"])
    refused("AlreadyMinted", com.release_takes, ballot, accounts[6])  # minted: nothing to release
    now = chain_now(chain)
    refused("AlreadyMinted", com.open_ballot, movie, accounts[9], segment=1, start=now + 10, end=now + 20)


def test_a_ballot_without_votes_or_an_absent_winner_reopens_the_segment(env):  # noqa: F811
    chain, com, accounts = env
    holders = accounts[1:3]
    _, movie, passes, ballot = _takes_ballot(chain, com, accounts, holders)  # segment 1
    com.record_take(ballot, passes[0], digest("a"), digest("a meta"), holders[0])
    mine(chain, seconds=2000)
    assert com.settle_takes(ballot, accounts[6]) is None  # nobody voted
    assert [e["args"]["segment"] for e in com.contract.events.TakesReleased.get_logs(from_block=0)] == [1]
    chain.transact("mintSegment", [movie, 1, digest("free"), digest("free meta")], accounts[6])
    # Segment 2: the winner does not mint within the claim window after the vote: anyone may release it.
    now = chain_now(chain)
    second = com.open_ballot(movie, accounts[9], segment=2, start=now + 100, end=now + 200)
    com.record_take(second, passes[1], digest("b"), digest("b meta"), holders[1])
    mine(chain, seconds=100)
    com.vote(second, 0, holders[0], passes[0])
    mine(chain, seconds=100)
    com.settle_takes(second, accounts[6])
    refused("BallotNotOver", com.release_takes, second, accounts[6])
    mine(chain, seconds=chain.movie(movie)["claimWindow"])
    com.release_takes(second, accounts[6])
    chain.transact("mintSegment", [movie, 2, digest("late"), digest("late meta")], accounts[6])
    refused("AlreadyMinted", chain.transact, "mintSegment", [movie, 2, digest("b"), digest("b meta")], holders[1])


# ------------------------------------------------------------------ gas goals


def test_vote_and_take_gas_goals(env):  # noqa: F811
    """Issue 17: a vote <= 50,000 gas, a take record <= 40,000 (a ticket voter's word prepared, or reused)."""
    chain, com, accounts = env
    holders, viewers = accounts[1:3], accounts[3:6]
    cid, movie = season(chain, com, accounts, segments=3, ticket_price=TICKET)
    passes = [com.buy_pass(cid, h) for h in holders]
    for viewer in viewers:
        chain.transact("buyTicket", [movie], viewer, value=TICKET)
    now = chain_now(chain)
    ballots = [com.open_ballot(movie, accounts[9], segment=s, start=now + 100, end=now + 1000) for s in (0, 1)]
    for b in ballots:
        gas = com.transact("recordTake", [b, passes[0], digest("v"), digest("m")], holders[0])["gasUsed"]
        assert gas <= 40_000, gas
        com.record_take(b, passes[1], digest("w"), digest("n"), holders[1])
    com.prepare_ticket_votes(ballots[0], viewers[:2], accounts[9])
    mine(chain, seconds=100)
    gas = {
        "pass": com.vote(ballots[0], 0, holders[0], passes[0])["gasUsed"],
        "ticket, prepared": com.vote(ballots[0], 1, viewers[0])["gasUsed"],
        "ticket, next ballot": com.vote(ballots[1], 1, viewers[0])["gasUsed"],
        "ticket, unprepared": com.vote(ballots[0], 1, viewers[2])["gasUsed"],
    }
    assert max(gas["pass"], gas["ticket, prepared"], gas["ticket, next ballot"]) <= 50_000, gas
    # An unprepared first ticket vote writes a fresh slot: 17,100 more than into a prepared word.
    assert gas["ticket, unprepared"] - gas["ticket, prepared"] == 17_100, gas
    assert com.call("ticketVoted", ballots[0], viewers[0]) and not com.call("ticketVoted", ballots[0], viewers[1])
    assert com.ballot(ballots[0])["tallies"] == [1, 2]
    refused("AlreadyVoted", com.vote, ballots[0], 0, viewers[0])
    # The prepared word's sentinel bit marks no ballot: a prepared voter has voted in none.
    assert not any(com.call("ticketVoted", b, viewers[1]) for b in ballots)
