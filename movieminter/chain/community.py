"""Client for the Community contract (contracts/Community.sol): collectives, season passes, ballots (takes and
ideas), director approval and credits. See docs/community.md.

`CommunityClient` is a ChainClient on the Community artifact: `call`, `transact`, `build_tx`, `send`, `wait` and
`events` work the same way; reverts raise ChainError with the decoded Community error and a hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_utils import to_checksum_address

from movieminter.chain.client import REVERT_ERRORS, ChainClient, ChainError, load_artifact, revert_error
from movieminter.errors import MovieMinterError

NO_PASS = 2**256 - 1  # Community.NO_PASS: vote with a ticket
REVIEW_STATES = ("not required", "unsubmitted", "pending", "approved", "rejected")
WEI_PER_ETH = Decimal(10) ** 18

# Community errors that MovieMinter does not define (shared ones are explained by client.ERROR_TEXT).
COMMUNITY_ERROR_TEXT = {
    "UnknownCollective": ("collective {collectiveId} does not exist", "check the collective id"),
    "UnknownBallot": ("ballot {ballotId} does not exist", "check the ballot id"),
    "NotDirector": (
        "{account} is neither the director of movie {movieId} nor its collective's leader",
        "send from the director's or the leader's wallet",
    ),
    "NotLeader": ("{account} does not lead collective {collectiveId}", "send from the leader's wallet"),
    "InvalidPassConfig": (
        "the pass prices or shares are invalid",
        "the early price must not exceed the price; creator + minters shares at most 10000 bps together, and a "
        "creator address with a creator share",
    ),
    "AlreadyInCollective": ("movie {movieId} already belongs to collective {collectiveId}", "a movie joins once"),
    "InvalidBallot": (
        "the ballot's settings are invalid",
        "the movie must be in a collective; start in the future, end after start; takes: a valid segment and "
        "no options; ideas: 2 to 8 options",
    ),
    "TakesClosed": ("takes for ballot {ballotId} closed at {start}", "record takes before the vote starts"),
    "TooManyOptions": ("ballot {ballotId} already has 8 takes", "no more takes fit in this ballot"),
    "NotEligible": (
        "{account} may not take part in ballot {ballotId} with pass {passId}",
        "use a pass of the movie's collective sold before the ballot opened, or a ticket if you hold no pass",
    ),
    "NotVoting": ("ballot {ballotId} takes votes from {start} to {end}", "vote during the window"),
    "InvalidOption": ("ballot {ballotId} has no option {option}", "pick one of the ballot's options"),
    "AlreadyVoted": (
        "ballot {ballotId} already has the vote of {account} / pass {passId}",
        "one vote per pass and per ticket holder",
    ),
    "NotSubmitted": (
        "segment {segment} of movie {movieId} is not waiting for review",
        "the movie must require approval, the segment's holder must submit it, and a segment counts as approved "
        "for good once approved or once its approval window ends",
    ),
    "NotLinked": (
        "MovieMinter {minter} is not linked to this Community contract",
        "takes ballots and approval need it: the MovieMinter deployer links it (`movieminter chain deploy` does)",
    ),
    "InvalidWindow": ("an approval window of {window} s is too long", "at most {max} seconds (30 days)"),
    "ReasonRequired": ("a rejection needs a reason", "say what to change (--reason)"),
    "BallotNotOver": ("ballot {ballotId} cannot be settled or released before {until}", "wait until then"),
    "TakesMismatch": (
        "the takes given for ballot {ballotId} are not the recorded ones",
        "pass every TakeRecorded take of the ballot, in take order",
    ),
    "AlreadySettled": ("ballot {ballotId} is already settled", "its winner may mint the segment"),
    "ApprovalNotRequired": (
        "movie {movieId} does not require approval: its segments count as approved and cannot be rejected",
        "turn approval on again (`movieminter director approval window`) before reviewing newly submitted segments",
    ),
}


def _community_error(exc: ChainError) -> ChainError:
    if exc.error in COMMUNITY_ERROR_TEXT:
        template, hint = COMMUNITY_ERROR_TEXT[exc.error]
        return ChainError(template.format(**exc.error_args), hint, error=exc.error, args=exc.error_args)
    return exc


@dataclass(frozen=True)
class Collective:
    id: int
    leader: str
    creator: str
    creator_bps: int
    minters_bps: int
    price: int  # wei
    early_price: int  # wei
    early_cap: int
    sold: int

    @property
    def price_eth(self) -> Decimal:
        return Decimal(self.price) / WEI_PER_ETH

    @property
    def early_price_eth(self) -> Decimal:
        return Decimal(self.early_price) / WEI_PER_ETH


class CommunityClient(ChainClient):
    """The Community contract deployed next to a MovieMinter (`minter_address`)."""

    def __init__(
        self, rpc_url: str, contract_address: str | None = None, *, timeout: float = 30.0, deploy_block: int = 0
    ):
        super().__init__(rpc_url, contract_address, timeout=timeout, deploy_block=deploy_block)
        self.artifact = load_artifact("Community")

    @classmethod
    def for_chain(
        cls, chain: ChainClient, contract_address: str | None = None, *, deploy_block: int = 0
    ) -> CommunityClient:
        """`deploy_block`: the block Community was deployed in (settings.community_deploy_block; 0 = unknown)."""
        return cls(chain.rpc_url, contract_address, deploy_block=deploy_block)

    def __repr__(self) -> str:
        return f"CommunityClient(rpc_url={self.rpc_url!r}, contract_address={self.contract_address!r})"

    # -- plumbing: Community errors decoded with Community's ABI

    def call(self, function: str, *args, sender: str | None = None, block: str | int = "latest"):
        try:
            return getattr(self.contract.functions, function)(*args).call(
                {"from": sender} if sender else {}, block_identifier=block
            )
        except REVERT_ERRORS as exc:
            raise self._revert(exc) from None
        except OSError as exc:
            raise self._unreachable(exc) from None

    def build_tx(self, function: str, args: list | tuple, sender: str, value: int = 0) -> dict:
        try:
            return super().build_tx(function, args, sender, value)
        except ChainError as exc:
            raise self._retranslate(exc) from None

    def wait(self, tx_hash, timeout: float = 120.0) -> dict:
        try:
            return super().wait(tx_hash, timeout)
        except ChainError as exc:
            raise self._retranslate(exc) from None

    def _revert(self, exc) -> ChainError:
        return _community_error(revert_error(exc))

    def _retranslate(self, exc: ChainError) -> ChainError:
        return _community_error(exc)

    def deploy(self, account=None, minter_address: str | None = None, *, link: bool = True) -> str:
        """Deploys Community for the MovieMinter at `minter_address`, from `account` or anvil's first account, then
        links it (MovieMinter.setCommunity) when that MovieMinter has none yet and `account` deployed it: approval
        gates payouts and takes ballots decide mints only through the linked Community. `self.linked` tells."""
        if not minter_address:
            raise MovieMinterError("deploying Community needs the MovieMinter address", hint="deploy MovieMinter first")
        factory = self.w3.eth.contract(abi=self.artifact["abi"], bytecode=self.artifact["bytecode"])
        data = factory.constructor(to_checksum_address(minter_address)).data_in_transaction
        tx_hash: Any  # HexBytes from the node, a 0x-hex str from sign_and_send
        if account is None:
            tx_hash = self.w3.eth.send_transaction({"from": self.w3.eth.accounts[0], "data": data})
        else:
            gas = self.w3.eth.estimate_gas({"from": account.address, "data": data})
            tx_hash = self.sign_and_send(
                {"data": data, "value": "0x0", "gas": hex(gas + gas // 10), "chainId": hex(self.chain_id)}, account
            )
        receipt = self.wait(tx_hash)
        self.contract_address = to_checksum_address(receipt["contractAddress"])
        self.deploy_block = int(receipt["blockNumber"])
        self.linked = link and self._link(account, minter_address)
        return self.contract_address

    def _link(self, account, minter_address: str) -> bool:
        minter = ChainClient(self.rpc_url, minter_address)
        if int(minter.call("community"), 16) != 0:
            return False  # linked to another Community already (a second deployment)
        sender = account.address if account is not None else self.w3.eth.accounts[0]
        try:
            tx = minter.build_tx("setCommunity", [self.contract_address], sender)
        except ChainError as exc:
            if exc.error == "NotCommunity":
                return False  # not the MovieMinter's deployer
            raise
        if account is None:
            minter.transact("setCommunity", [self.contract_address], sender)
        else:
            minter.wait(minter.sign_and_send(tx, account))
        return True

    def is_linked(self) -> bool:
        """Whether the MovieMinter this Community reads is linked to it (approval and takes ballots need it)."""
        minter = ChainClient(self.rpc_url, self.call("minter"))
        return to_checksum_address(minter.call("community")) == self.contract_address

    def _event_arg(self, receipt, event: str, arg: str):
        for ev in self.events(receipt):
            if ev["event"] == event:
                return ev["args"][arg]
        raise MovieMinterError(f"no {event} event in this receipt", hint="was it the right transaction?")

    # -- collectives and passes

    def create_collective(
        self,
        leader: str,
        price: int,
        early_price: int,
        early_cap: int,
        creator: str | None = None,
        creator_bps=0,
        minters_bps=0,
    ) -> int:
        creator = creator or "0x" + "00" * 20
        args = [price, early_price, early_cap, creator, creator_bps, minters_bps]
        return self._event_arg(self.transact("createCollective", args, leader), "CollectiveCreated", "collectiveId")

    def collective(self, collective_id: int) -> Collective:
        return Collective(collective_id, *self.call("collective", collective_id))

    def next_pass_price(self, collective_id: int) -> tuple[int, bool]:
        price, early = self.call("nextPassPrice", collective_id)
        return price, early

    def buy_pass(self, collective_id: int, buyer: str) -> int:
        """Buys the next pass at its current price; returns the pass token id."""
        price, _ = self.next_pass_price(collective_id)
        receipt = self.transact("buyPass", [collective_id], buyer, value=price)
        return self._event_arg(receipt, "PassBought", "passId")

    def join_collective(self, movie_id: int, collective_id: int, director: str) -> dict:
        return self.transact("joinCollective", [movie_id, collective_id], director)

    def can_watch(self, movie_id: int, account: str) -> bool:
        return self.call("canWatch", movie_id, to_checksum_address(account))

    def pass_holders(self, collective_id: int, start: int = 0, count: int = 2**32) -> list[str]:
        return list(self.call("passHolders", collective_id, start, count))

    def passes_of(self, collective_id: int, account: str) -> list[int]:
        """Pass ids of the collective `account` holds now (scans the collective's passes: a view, no gas)."""
        account = to_checksum_address(account)
        return [collective_id << 32 | i for i, who in enumerate(self.pass_holders(collective_id)) if who == account]

    # -- ballots

    def open_ballot(
        self,
        movie_id: int,
        sender: str,
        *,
        start: int,
        end: int,
        segment: int = 0,
        takes: bool = True,
        options: int = 0,
        options_digest: bytes = b"\0" * 32,
    ) -> int:
        args = [movie_id, segment, takes, options, start, end, options_digest]
        return self._event_arg(self.transact("openBallot", args, sender), "BallotOpened", "ballotId")

    def record_take(
        self, ballot_id: int, pass_id: int, content_digest: bytes, metadata_digest: bytes, taker: str
    ) -> int:
        args = [ballot_id, pass_id, content_digest, metadata_digest]
        return self._event_arg(self.transact("recordTake", args, taker), "TakeRecorded", "take")

    def vote(self, ballot_id: int, option: int, voter: str, pass_id: int | None = None) -> dict:
        return self.transact("vote", [ballot_id, option, NO_PASS if pass_id is None else pass_id], voter)

    def ballot(self, ballot_id: int) -> dict:
        movie_id, segment, takes, start, end, pass_cap, tallies = self.call("ballot", ballot_id)
        option, votes, final = self.call("winner", ballot_id) if tallies else (None, 0, False)
        return {
            "ballot": ballot_id,
            "movie": movie_id,
            "segment": segment,
            "kind": "takes" if takes else "idea",
            "start": start,
            "end": end,
            "pass_cap": pass_cap,
            "tallies": list(tallies),
            "leader": option,
            "leader_votes": votes,
            "final": final,
        }

    def takes(self, ballot_id: int) -> list[dict]:
        """The takes recorded for a ballot (from TakeRecorded logs), in take order."""
        logs = self.logs(self.contract.events.TakeRecorded, {"ballotId": ballot_id})
        return [
            {
                "take": log["args"]["take"],
                "taker": log["args"]["taker"],
                "content_digest": bytes(log["args"]["contentDigest"]),
                "metadata_digest": bytes(log["args"]["metadataDigest"]),
            }
            for log in sorted(logs, key=lambda e: e["args"]["take"])
        ]

    def settle_takes(self, ballot_id: int, sender: str) -> dict | None:
        """Names the winner of a finished takes ballot on chain (from the recorded takes); returns the winning
        take, or None when nobody voted (the segment opens again)."""
        takes = self.takes(ballot_id)
        arg = [(t["taker"], t["content_digest"], t["metadata_digest"]) for t in takes]
        receipt = self.transact("settleTakes", [ballot_id, arg], sender)
        for ev in self.events(receipt):
            if ev["event"] == "TakesSettled":
                return takes[ev["args"]["take"]]
        return None

    def release_takes(self, ballot_id: int, sender: str) -> dict:
        return self.transact("releaseTakes", [ballot_id], sender)

    def prepare_ticket_votes(self, ballot_id: int, accounts: list[str], sender: str) -> dict:
        return self.transact("prepareTicketVotes", [ballot_id, [to_checksum_address(a) for a in accounts]], sender)

    def ticket_voters_to_prepare(self, chain: ChainClient, ballot_id: int, movie_id: int) -> list[str]:
        """The movie's ticket holders whose first vote in the ballot would write a fresh storage word (~63,000
        gas): none of the collective's passes (they vote with those), not prepared, not voted nearby. A
        prepared vote costs ~46,000; preparing costs its sender ~22,000 per voter."""
        since = int(chain.movie(movie_id)["createdBlock"])  # no ticket of the movie before it
        buyers = sorted(
            {
                e["args"]["buyer"]
                for e in chain.logs(chain.contract.events.TicketBought, {"movieId": movie_id}, start=since)
            }
        )
        if not buyers:
            return []
        collective = int(self.call("collectiveOf", movie_id))
        held = self.call_many("passesHeld", [(collective, a) for a in buyers])
        ready = self.call_many("ticketVotePrepared", [(ballot_id, a) for a in buyers])
        return [a for a, passes, done in zip(buyers, held, ready, strict=True) if not passes and not done]

    def winning_take(self, ballot_id: int) -> dict | None:
        """The take that won a finished takes ballot (None while voting runs or if nobody voted)."""
        info = self.ballot(ballot_id)
        if info["kind"] != "takes" or not info["final"] or info["leader_votes"] == 0:
            return None
        return self.takes(ballot_id)[info["leader"]]

    # -- approval

    def set_approval_window(self, movie_id: int, seconds: int, sender: str) -> dict:
        return self.transact("setApprovalWindow", [movie_id, seconds], sender)

    def submit_segment(self, movie_id: int, segment: int, holder: str) -> dict:
        return self.transact("submitSegment", [movie_id, segment], holder)

    def review_segment(self, movie_id: int, segment: int, approve: bool, sender: str, reason: str = "") -> dict:
        return self.transact("reviewSegment", [movie_id, segment, approve, reason], sender)

    def review_of(self, movie_id: int, segment: int) -> str:
        return REVIEW_STATES[self.call("reviewOf", movie_id, segment)]

    def segment_approved(self, movie_id: int, segment: int) -> bool:
        """Whether MovieMinter pays the segment's pool share now (no approval required, or approved)."""
        return self.call("segmentApproved", movie_id << 32 | segment)

    def auto_approve_at(self, movie_id: int, segment: int) -> int:
        return self.call("autoApproveAt", movie_id, segment)

    def rejections(self, movie_id: int) -> list[dict]:
        logs = self.logs(self.contract.events.SegmentRejected, {"movieId": movie_id})
        return [
            {"segment": e["args"]["segment"], "director": e["args"]["director"], "reason": e["args"]["reason"]}
            for e in logs
        ]

    # -- revenue

    def collectable(self, collective_id: int) -> tuple[int, int, int]:
        """(creator, leader, minters) shares in wei of the passes sold since the last collect; `collect` adds the
        minters' share to the segments' pool and gives the leader the remainder of its division."""
        to_creator, to_leader, to_minters = self.call("collectable", collective_id)
        return to_creator, to_leader, to_minters

    def pass_pool(self, collective_id: int) -> dict:
        """The collective's minters' pool: wei per segment so far, its segments, and the share waiting for a
        movie (collected while the collective had none)."""
        per_segment, segments, waiting = self.call("passPool", collective_id)
        return {"per_segment": per_segment, "segments": segments, "waiting": waiting}

    def claimable_pass_revenue(self, movie_id: int, segment: int) -> int:
        return self.call("claimablePassRevenue", movie_id << 32 | segment)

    def claim_pass_revenue(self, token_ids: list[int], holder: str) -> int:
        """Credits the tokens' pass revenue to `holder` (withdraw it with `withdraw`); returns the wei credited."""
        receipt = self.transact("claimPassRevenue", [list(token_ids)], holder)
        return sum(ev["args"]["amount"] for ev in self.events(receipt) if ev["event"] == "PassRevenueClaimed")

    def credits_of(self, account: str) -> int:
        return self.call("credits", to_checksum_address(account))

    # -- credits

    def movie_credits(self, movie_id: int) -> dict:
        """Director, creator, collective leader, minters by segment and pass holders (addresses; None = nobody)."""
        director, creator, leader, minters = self.call("creditsOf", movie_id)
        collective_id = self.call("collectiveOf", movie_id)
        holders = self.pass_holders(collective_id) if collective_id else []
        zero = "0x" + "00" * 20

        def addr(a):
            return None if int(a, 16) == 0 else to_checksum_address(a)

        return {
            "movie": movie_id,
            "director": addr(director),
            "creator": addr(creator),
            "leader": addr(leader) if leader != zero else None,
            "minters": [addr(m) for m in minters],
            "pass_holders": sorted(set(holders), key=holders.index),
        }
