"""Issue 17 on anvil: season-pass revenue splits like ticket revenue (creator / leader / the minters of the
collective's movies), every wei accounted for; and a movie without approval keeps its segments (no rejection)."""

from __future__ import annotations

from movieminter.chain.community import CommunityClient
from tests.fixtures_chain import create_movie, digest
from tests.test_community import community_session, env, refused  # noqa: F401 (fixtures)

PRICE, EARLY = 35 * 10**14 + 7, 25 * 10**14 + 3  # odd prices: the shares and the pool division leave remainders
CREATOR_BPS, MINTERS_BPS = 1000, 3333


def _collective(com: CommunityClient, accounts, early_cap: int = 1) -> int:
    return com.create_collective(accounts[7], PRICE, EARLY, early_cap, accounts[8], CREATOR_BPS, MINTERS_BPS)


def _buy(com, cid, buyers) -> int:
    paid = 0
    for buyer in buyers:
        price, _ = com.next_pass_price(cid)
        com.buy_pass(cid, buyer)
        paid += price
    return paid


def _mint(chain, movie: int, segment: int, minter: str) -> int:
    chain.transact(
        "mintSegment", [movie, segment, digest(f"v{movie}.{segment}"), digest(f"m{movie}.{segment}")], minter
    )
    return chain.token_id(movie, segment)


def _owed(com, chain, cid, movies: dict[int, int], accounts) -> int:
    """What Community owes for the collective: credits of everyone plus every segment's unclaimed pass revenue
    plus the minters' share still waiting for a movie."""
    credits = sum(com.credits_of(a) for a in accounts)
    unclaimed = sum(
        com.call("claimablePassRevenue", chain.token_id(m, s)) for m, count in movies.items() for s in range(count)
    )
    return credits + unclaimed + com.pass_pool(cid)["waiting"]


def _claim(com, token_ids, holder) -> int:
    before = com.credits_of(holder)
    credited = com.claim_pass_revenue(token_ids, holder)
    assert com.credits_of(holder) - before == credited
    return credited


def test_pass_revenue_splits_three_ways_before_and_after_movies_join(env):  # noqa: F811
    chain, com, accounts = env
    w3 = chain.w3
    leader, creator, director, m1, m2 = accounts[7], accounts[8], accounts[9], accounts[4], accounts[5]
    base = w3.eth.get_balance(com.contract_address)
    everyone = accounts[:10]
    credits0 = sum(com.credits_of(a) for a in everyone)  # other tests' leftovers on the shared contract
    cid = _collective(com, accounts)
    assert com.collective(cid).minters_bps == MINTERS_BPS

    # Passes sold before any movie: the minters' share waits in the pool.
    paid = _buy(com, cid, accounts[1:3])  # one early, one full price
    to_creator, to_leader, to_minters = com.collectable(cid)
    assert to_creator == EARLY * CREATOR_BPS // 10_000 + PRICE * CREATOR_BPS // 10_000
    assert to_minters == EARLY * MINTERS_BPS // 10_000 + PRICE * MINTERS_BPS // 10_000
    assert to_creator + to_leader + to_minters == paid
    com.transact("collect", [cid], accounts[0])
    assert com.pass_pool(cid) == {"per_segment": 0, "segments": 0, "waiting": to_minters}
    assert com.credits_of(creator) == to_creator and com.credits_of(leader) == to_leader

    # Movie A (3 segments) joins; the waiting share and the next passes go to its segments at the next collect.
    movie_a = create_movie(chain, mint_mode="open", segment_count=3)
    com.join_collective(movie_a, cid, director)
    paid += _buy(com, cid, accounts[3:4])
    _, _, new_minters = com.collectable(cid)
    leader_before = com.credits_of(leader)
    receipt = com.transact("collect", [cid], accounts[0])
    ev = next(e["args"] for e in com.events(receipt) if e["event"] == "RevenueCollected")
    pool = com.pass_pool(cid)
    assert pool["waiting"] == 0 and pool["segments"] == 3
    assert pool["per_segment"] == (to_minters + new_minters) // 3 > 0
    dust = (to_minters + new_minters) % 3
    assert ev["toMinters"] == 3 * pool["per_segment"] and ev["waiting"] == 0
    assert com.credits_of(leader) - leader_before == ev["toLeader"]
    assert ev["toLeader"] == PRICE - PRICE * CREATOR_BPS // 10_000 - PRICE * MINTERS_BPS // 10_000 + dust
    first_per_segment = pool["per_segment"]

    # Movie B (2 segments) joins: the passes sold before are collected first, for movie A alone.
    paid += _buy(com, cid, accounts[1:2])
    _, _, before_b = com.collectable(cid)
    movie_b = create_movie(chain, mint_mode="open", segment_count=2)
    com.join_collective(movie_b, cid, director)
    assert com.collectable(cid) == (0, 0, 0)
    assert com.pass_pool(cid)["per_segment"] == first_per_segment + before_b // 3
    token_a0, token_b0 = _mint(chain, movie_a, 0, m1), _mint(chain, movie_b, 0, m2)
    assert com.call("claimablePassRevenue", token_b0) == 0  # earns only from passes collected after it joined
    paid += _buy(com, cid, accounts[2:4])
    _, _, after_b = com.collectable(cid)
    com.transact("collect", [cid], accounts[0])
    share_b = after_b // 5
    assert com.pass_pool(cid)["segments"] == 5
    assert com.call("claimablePassRevenue", token_b0) == share_b > 0
    assert com.call("claimablePassRevenue", token_a0) == first_per_segment + before_b // 3 + share_b

    # Claims: partial (one token now, more passes, again), others' tokens refused, unminted ones too.
    refused("NotSegmentHolder", com.claim_pass_revenue, [token_a0], m2)
    refused("ERC721NonexistentToken", com.claim_pass_revenue, [chain.token_id(movie_a, 1)], m1)
    got = _claim(com, [token_a0], m1)
    assert got == first_per_segment + before_b // 3 + share_b
    assert _claim(com, [token_a0], m1) == 0  # nothing new
    paid += _buy(com, cid, accounts[1:2])
    com.transact("collect", [cid], accounts[0])
    again = _claim(com, [token_a0], m1)
    assert again == (PRICE * MINTERS_BPS // 10_000) // 5 > 0
    assert _claim(com, [token_b0], m2) == share_b + again

    # Every wei: the contract holds exactly what it owes (credits, unclaimed segment shares, waiting share).
    assert w3.eth.get_balance(com.contract_address) - base == paid
    assert _owed(com, chain, cid, {movie_a: 3, movie_b: 2}, everyone) - credits0 == paid
    withdrawn = 0
    for who in (leader, creator, m1, m2):
        withdrawn += com.credits_of(who)
        com.transact("withdraw", [], who)
    assert w3.eth.get_balance(com.contract_address) - base == paid - withdrawn
    assert _owed(com, chain, cid, {movie_a: 3, movie_b: 2}, everyone) - credits0 == paid - withdrawn


def test_pass_revenue_waits_for_approval_and_travels_with_the_token(env):  # noqa: F811
    chain, com, accounts = env
    director, minter, buyer_of_token, second = accounts[9], accounts[4], accounts[5], accounts[6]
    cid = _collective(com, accounts, early_cap=0)
    movie = create_movie(chain, mint_mode="open", segment_count=2)
    com.join_collective(movie, cid, director)
    com.set_approval_window(movie, 3600, director)
    token0, token1 = _mint(chain, movie, 0, minter), _mint(chain, movie, 1, minter)
    _buy(com, cid, accounts[1:4])
    com.transact("collect", [cid], accounts[0])
    share = com.pass_pool(cid)["per_segment"]
    assert share == 3 * (PRICE * MINTERS_BPS // 10_000) // 2 > 0
    # Held back while unsubmitted and pending, like MovieMinter.claimSegmentRevenue.
    refused("SegmentNotApproved", com.claim_pass_revenue, [token0], minter)
    com.submit_segment(movie, 0, minter)
    com.submit_segment(movie, 1, minter)
    refused("SegmentNotApproved", com.claim_pass_revenue, [token0, token1], minter)
    # A transfer carries the unclaimed share: the new holder claims it, the former one cannot.
    chain.transact("transferFrom", [minter, buyer_of_token, token0], minter)
    com.review_segment(movie, 0, True, director)
    refused("NotSegmentHolder", com.claim_pass_revenue, [token0], minter)
    assert _claim(com, [token0], buyer_of_token) == share
    # A rejected segment's share stays with the segment for its next minter (as ticket revenue does).
    com.review_segment(movie, 1, False, director, "off model")
    assert com.call("claimablePassRevenue", token1) == share and com.credits_of(minter) == 0
    _mint(chain, movie, 1, second)
    com.set_approval_window(movie, 0, director)  # approval off: paid without review
    assert _claim(com, [token1], second) == share


def test_shares_are_validated_at_creation(env):  # noqa: F811
    _, com, accounts = env
    refused("InvalidPassConfig", com.create_collective, accounts[7], PRICE, EARLY, 0, accounts[8], 5000, 5001)
    refused("InvalidPassConfig", com.create_collective, accounts[7], PRICE, EARLY, 0, None, 0, 10_001)
    cid = com.create_collective(accounts[7], PRICE, EARLY, 0, accounts[8], 5000, 5000)
    assert (com.collective(cid).creator_bps, com.collective(cid).minters_bps) == (5000, 5000)
    # All to the minters with no movie yet: it all waits, nothing is lost.
    everything = com.create_collective(accounts[7], PRICE, EARLY, 0, None, 0, 10_000)
    _buy(com, everything, accounts[1:2])
    com.transact("collect", [everything], accounts[0])
    assert com.pass_pool(everything)["waiting"] == PRICE and com.credits_of(accounts[7]) == 0


def test_a_segment_of_a_movie_without_approval_cannot_be_rejected(env):  # noqa: F811
    """Turning approval off makes every segment count as approved: the director can no longer burn one."""
    chain, com, accounts = env
    director, minter = accounts[9], accounts[4]
    movie = create_movie(chain, mint_mode="open", segment_count=2)
    com.set_approval_window(movie, 3600, director)
    token = _mint(chain, movie, 0, minter)
    com.submit_segment(movie, 0, minter)
    com.set_approval_window(movie, 0, director)
    assert com.segment_approved(movie, 0)
    err = refused("ApprovalNotRequired", com.review_segment, movie, 0, False, director, "changed my mind")
    assert f"movie {movie} does not require approval" in str(err)
    refused("ApprovalNotRequired", com.review_segment, movie, 0, True, director)
    assert chain.call("ownerOf", token) == minter and chain.segments(movie, 0, 1)[0]["status"] == "minted"
