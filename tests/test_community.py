"""Community contract on anvil: collectives, season passes, takes and votes, approval, credits."""

from __future__ import annotations

import json

import pytest
from eth_utils import keccak, to_checksum_address

from movieminter.chain.client import ChainError
from movieminter.chain.community import NO_PASS, CommunityClient
from tests.fixtures_chain import chain_now, create_movie, digest, mine

ETH = 10**18
PRICE = 35 * 10**14  # 0.0035 ETH, the seed's example
EARLY = 25 * 10**14


@pytest.fixture(scope="session")
def community_session(chain_session) -> CommunityClient:
    # Other modules import this fixture, which makes it a fixture of theirs too: deploy once per chain, since only
    # the first Community deployed for a MovieMinter is linked to it (approval, takes ballots).
    client = getattr(chain_session, "community_client", None)
    if client is None:
        client = CommunityClient.for_chain(chain_session)
        client.deploy(minter_address=chain_session.contract_address)
        chain_session.community_client = client
    return client


@pytest.fixture
def env(chain_session, community_session):
    """(MovieMinter client, Community client, accounts); every change is rolled back after the test."""
    w3 = chain_session.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        yield chain_session, community_session, w3.eth.accounts
    finally:
        w3.provider.make_request("evm_revert", [snapshot])


def season(chain, com, accounts, *, early_cap=2, segments=3, ticket_price=10**15):
    """A collective led by accounts[7] (creator accounts[8] at 10 %) with an open movie by director accounts[9]."""
    leader, creator, director = accounts[7], accounts[8], accounts[9]
    cid = com.create_collective(leader, PRICE, EARLY, early_cap, creator, 1000)
    movie = create_movie(chain, mint_mode="open", segment_count=segments, ticket_price=ticket_price)
    com.join_collective(movie, cid, director)
    return cid, movie


def refused(error: str, fn, *args, **kwargs) -> ChainError:
    with pytest.raises(ChainError) as info:
        fn(*args, **kwargs)
    assert info.value.error == error, info.value
    return info.value


# ------------------------------------------------------------------ passes and collectives


def test_pass_sale_with_early_tier_and_every_wei_accounted(env):
    chain, com, accounts = env
    cid, _ = season(chain, com, accounts, early_cap=2)
    w3 = chain.w3
    start_balance = w3.eth.get_balance(com.contract_address)
    buyers = accounts[1:5]
    paid = []
    for buyer in buyers:
        price, early = com.next_pass_price(cid)
        assert early == (len(paid) < 2)
        assert price == (EARLY if early else PRICE)
        pass_id = com.buy_pass(cid, buyer)
        assert pass_id == cid << 32 | len(paid)
        assert com.call("ownerOf", pass_id) == buyer
        paid.append(price)
    refused("WrongPayment", com.transact, "buyPass", [cid], accounts[5], value=EARLY)  # the early tier is over
    assert com.collective(cid).sold == 4
    to_creator, to_leader, to_minters = com.collectable(cid)
    assert to_creator == sum(p * 1000 // 10000 for p in paid)
    assert to_minters == 0  # this collective has no minters' share: the leader gets the rest
    assert to_creator + to_leader + to_minters == sum(paid)
    # The leader changes prices: sold passes keep theirs (collected first), later ones pay the new price.
    com.transact("setPassPrices", [cid, 2 * PRICE, EARLY], accounts[7])
    refused("NotLeader", com.transact, "setPassPrices", [cid, PRICE, EARLY], accounts[1])
    com.buy_pass(cid, accounts[5])
    paid.append(2 * PRICE)
    com.transact("collect", [cid], accounts[0])
    withdrawn = 0
    for who in (accounts[7], accounts[8]):
        credit = com.credits_of(who)
        assert credit > 0
        com.transact("withdraw", [], who)
        withdrawn += credit
    assert withdrawn == sum(paid)
    assert w3.eth.get_balance(com.contract_address) - start_balance == sum(paid) - withdrawn == 0
    refused("NothingToWithdraw", com.transact, "withdraw", [], accounts[7])


def test_pass_counts_as_ticket_for_its_collectives_movies_only(env):
    chain, com, accounts = env
    cid, movie = season(chain, com, accounts)
    other = create_movie(chain, mint_mode="open")
    holder, friend = accounts[1], accounts[2]
    assert not com.can_watch(movie, holder)
    pass_id = com.buy_pass(cid, holder)
    assert com.can_watch(movie, holder)
    assert not com.can_watch(other, holder)  # not in the collective
    com.transact("transferFrom", [holder, friend, pass_id], holder)
    assert not com.can_watch(movie, holder) and com.can_watch(movie, friend)
    chain.transact("buyTicket", [movie], holder, value=10**15)
    assert com.can_watch(movie, holder)  # a MovieMinter ticket still works


def test_only_the_director_puts_a_movie_in_a_collective_and_the_leader_gets_directors_rights(env):
    chain, com, accounts = env
    leader = accounts[7]
    cid = com.create_collective(leader, PRICE, EARLY, 99)
    movie = create_movie(chain, mint_mode="open")
    now = chain_now(chain)
    refused("InvalidBallot", com.open_ballot, movie, accounts[9], start=now + 100, end=now + 200)  # no collective
    refused("NotDirector", com.join_collective, movie, cid, leader)
    com.join_collective(movie, cid, accounts[9])
    refused("AlreadyInCollective", com.join_collective, movie, cid, accounts[9])
    assert com.call("collectiveOf", movie) == cid
    com.open_ballot(movie, leader, start=now + 100, end=now + 200)  # the leader's right
    err = refused("NotDirector", com.open_ballot, movie, accounts[1], start=now + 100, end=now + 200)
    assert "director" in err.message and err.hint


# ------------------------------------------------------------------ takes and votes


def _takes_ballot(chain, com, accounts, holders):
    cid, movie = season(chain, com, accounts)
    passes = [com.buy_pass(cid, h) for h in holders]
    now = chain_now(chain)
    ballot = com.open_ballot(movie, accounts[9], segment=1, start=now + 1000, end=now + 2000)
    return cid, movie, passes, ballot


def test_takes_vote_and_the_winner(env):
    chain, com, accounts = env
    voters = accounts[1:6]
    cid, movie, passes, ballot = _takes_ballot(chain, com, accounts, voters)
    # Three takes by three pass holders; the take record stays under 40,000 gas.
    for i in range(3):
        receipt = com.transact("recordTake", [ballot, passes[i], digest(f"video {i}"), digest(f"meta {i}")], voters[i])
        assert receipt["gasUsed"] <= 40_000, receipt["gasUsed"]
    refused("NotEligible", com.record_take, ballot, passes[0], digest("x"), digest("y"), accounts[6])  # not its pass
    refused("NotVoting", com.vote, ballot, 0, voters[0], passes[0])  # before the window
    mine(chain, seconds=1000)
    refused("TakesClosed", com.record_take, ballot, passes[3], digest("late"), digest("late"), voters[3])
    late_pass = com.buy_pass(cid, accounts[6])  # bought after the ballot opened: no vote
    refused("NotEligible", com.vote, ballot, 0, accounts[6], late_pass)
    choices = [2, 2, 0, 2, 1]
    for voter, pass_id, option in zip(voters, passes, choices, strict=True):
        receipt = com.vote(ballot, option, voter, pass_id)
        assert receipt["gasUsed"] <= 50_000, receipt["gasUsed"]
    refused("AlreadyVoted", com.vote, ballot, 1, voters[0], passes[0])
    refused("InvalidOption", com.vote, ballot, 3, accounts[6], late_pass)
    # No double vote through a transfer: the pass is marked, whoever holds it.
    com.transact("transferFrom", [voters[0], accounts[6], passes[0]], voters[0])
    refused("AlreadyVoted", com.vote, ballot, 0, accounts[6], passes[0])
    info = com.ballot(ballot)
    assert info["tallies"] == [1, 1, 3] and info["leader"] == 2 and not info["final"]
    assert com.winning_take(ballot) is None  # voting still runs
    mine(chain, seconds=1000)
    refused("NotVoting", com.vote, ballot, 0, voters[1], passes[1])
    take = com.winning_take(ballot)
    assert take["taker"] == voters[2] and take["content_digest"] == digest("video 2")
    assert com.call("passVoted", ballot, passes[0]) and not com.call("passVoted", ballot, late_pass)


def test_ticket_holders_vote_once_and_pass_holders_vote_with_their_pass(env):
    chain, com, accounts = env
    holder, viewer, stranger = accounts[1], accounts[2], accounts[3]
    cid, movie, passes, ballot = _takes_ballot(chain, com, accounts, [holder])
    com.record_take(ballot, passes[0], digest("a"), digest("a"), holder)
    com.record_take(ballot, passes[0], digest("b"), digest("b"), holder)
    chain.transact("buyTicket", [movie], viewer, value=10**15)
    chain.transact("buyTicket", [movie], holder, value=10**15)
    mine(chain, seconds=1000)
    refused("NotEligible", com.vote, ballot, 0, stranger)  # no ticket, no pass
    refused("NotEligible", com.vote, ballot, 0, holder)  # holds a pass: votes with it, not with the ticket
    com.vote(ballot, 1, viewer)
    refused("AlreadyVoted", com.vote, ballot, 0, viewer)
    assert com.call("ticketVoted", ballot, viewer)
    com.vote(ballot, 1, holder, passes[0])
    assert com.ballot(ballot)["tallies"] == [0, 2]
    assert NO_PASS == com.call("NO_PASS")


def test_idea_ballot_result_is_public(env):
    chain, com, accounts = env
    cid, movie = season(chain, com, accounts)
    passes = [com.buy_pass(cid, a) for a in accounts[1:4]]
    now = chain_now(chain)
    refused("InvalidBallot", com.open_ballot, movie, accounts[9], takes=False, options=1, start=now + 10, end=now + 20)
    options = json.dumps(["dawn", "dusk", "night"]).encode()
    ballot = com.open_ballot(
        movie, accounts[9], takes=False, options=3, start=now + 10, end=now + 100, options_digest=keccak(options)
    )
    refused("InvalidBallot", com.record_take, ballot, passes[0], digest("t"), digest("t"), accounts[1])
    mine(chain, seconds=10)
    for voter, pass_id, option in zip(accounts[1:4], passes, [1, 0, 1], strict=True):
        com.vote(ballot, option, voter, pass_id)
    mine(chain, seconds=100)
    info = com.ballot(ballot)
    assert (info["kind"], info["tallies"], info["leader"], info["final"]) == ("idea", [1, 2, 0], 1, True)
    opened = com.contract.events.BallotOpened.get_logs(from_block=0, argument_filters={"ballotId": ballot})
    assert bytes(opened[0]["args"]["optionsDigest"]) == keccak(options)


# ------------------------------------------------------------------ approval


def test_approval_reject_with_reason_then_approve_or_auto_approve(env):
    chain, com, accounts = env
    cid, movie = season(chain, com, accounts)
    director, minter = accounts[9], accounts[4]
    for seg in (0, 1):
        chain.transact("mintSegment", [movie, seg, digest(f"v{seg}"), digest(f"m{seg}")], minter)
    assert com.review_of(movie, 0) == "not required"
    refused("NotDirector", com.set_approval_window, movie, 3600, minter)
    com.set_approval_window(movie, 3600, director)
    assert com.review_of(movie, 0) == "unsubmitted"
    refused("NotSegmentHolder", com.submit_segment, movie, 0, accounts[1])
    refused("NotSubmitted", com.review_segment, movie, 0, True, director)
    com.submit_segment(movie, 0, minter)
    receipt = com.submit_segment(movie, 1, minter)
    auto_at = com._event_arg(receipt, "SegmentSubmitted", "autoApproveAt")
    assert auto_at == chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] + 3600
    assert com.review_of(movie, 0) == "pending"
    refused("NotDirector", com.review_segment, movie, 0, True, minter)
    refused("ReasonRequired", com.review_segment, movie, 0, False, director, "")
    com.review_segment(movie, 0, False, director, "the horizon tilts")
    # Rejected: the token is burnt and the segment reopens; anyone may mint a new version.
    assert chain.segments(movie, 0, 1)[0]["status"] == "open"
    refused("ERC721NonexistentToken", chain.call, "ownerOf", chain.token_id(movie, 0))
    assert com.review_of(movie, 0) == "unsubmitted"
    assert com.rejections(movie) == [{"segment": 0, "director": director, "reason": "the horizon tilts"}]
    chain.transact("mintSegment", [movie, 0, digest("v0 again"), digest("m0 again")], accounts[5])
    com.submit_segment(movie, 0, accounts[5])
    com.review_segment(movie, 0, True, accounts[7], "")  # the leader has the director's rights
    assert com.review_of(movie, 0) == "approved"
    refused("NotSubmitted", com.review_segment, movie, 0, False, director, "too late")
    # Segment 1: the director stays silent; it is approved once the window has passed.
    mine(chain, seconds=auto_at - chain_now(chain) - 60)  # a margin: anvil time also runs with the wall clock
    assert chain_now(chain) < auto_at and com.review_of(movie, 1) == "pending"
    mine(chain, seconds=auto_at - chain_now(chain))
    assert chain_now(chain) >= auto_at and com.review_of(movie, 1) == "approved"


# ------------------------------------------------------------------ credits


def test_credits_list_director_creator_leader_minters_and_pass_holders(env):
    chain, com, accounts = env
    cid, movie = season(chain, com, accounts, segments=3)
    chain.transact("mintSegment", [movie, 0, digest("v0"), digest("m0")], accounts[4])
    chain.transact("mintSegment", [movie, 2, digest("v2"), digest("m2")], accounts[5])
    com.buy_pass(cid, accounts[1])
    com.buy_pass(cid, accounts[2])
    com.buy_pass(cid, accounts[1])
    credits = com.movie_credits(movie)
    assert credits["director"] == accounts[9] and credits["creator"] == accounts[8]
    assert credits["leader"] == accounts[7]
    assert credits["minters"] == [accounts[4], None, accounts[5]]
    assert credits["pass_holders"] == [accounts[1], accounts[2]]
    lone = create_movie(chain, mint_mode="open", segment_count=2)
    assert com.movie_credits(lone)["leader"] is None and com.movie_credits(lone)["pass_holders"] == []
    assert to_checksum_address(com.call("minter")) == chain.contract_address


@pytest.mark.parametrize("seed", range(4))
def test_pass_revenue_random_sales_account_for_every_wei(env, seed):
    """Random prices, early caps, shares, price changes and collects: paid == withdrawn + held, after every step."""
    import random

    chain, com, accounts = env
    rng = random.Random(seed)
    w3 = chain.w3
    price = rng.randrange(1, 10**16)
    cid = com.create_collective(
        accounts[7], price, rng.randrange(0, price + 1), rng.randrange(0, 4), accounts[8], rng.randrange(0, 10_001)
    )
    base = w3.eth.get_balance(com.contract_address)
    paid = withdrawn = 0
    for step in range(8):
        action = rng.choice(["buy", "buy", "collect", "withdraw", "reprice"])
        if action == "buy":
            price_now, _ = com.next_pass_price(cid)
            com.buy_pass(cid, accounts[1 + step % 5])
            paid += price_now
        elif action == "collect":
            com.transact("collect", [cid], accounts[0])
        elif action == "reprice":
            new = rng.randrange(1, 10**16)
            com.transact("setPassPrices", [cid, new, rng.randrange(0, new + 1)], accounts[7])
        else:
            for who in (accounts[7], accounts[8]):
                credit = com.credits_of(who)
                if credit:
                    com.transact("withdraw", [], who)
                    withdrawn += credit
        assert w3.eth.get_balance(com.contract_address) - base == paid - withdrawn
    com.transact("collect", [cid], accounts[0])
    owed = com.credits_of(accounts[7]) + com.credits_of(accounts[8])
    assert com.collectable(cid) == (0, 0, 0)
    assert withdrawn + owed == paid


def test_deploys_signed_by_a_keystore_account(env, anvil):
    """A real deployment signs with a keystore account (not a node-unlocked one)."""
    from eth_account import Account

    chain, _, _ = env
    client = CommunityClient.for_chain(chain)
    address = client.deploy(Account.from_key(anvil.private_keys[5]), minter_address=chain.contract_address)
    assert len(chain.w3.eth.get_code(address)) > 0 and client.contract_address == address
    assert client.call("minter") == chain.contract_address
