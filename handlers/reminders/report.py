"""The vocabulary of a reminder pass: its options, what it plans, and what it reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class PassOptions:
    """Knobs of a pass; the defaults suit production, tests and the benchmark tune them."""

    concurrency: int = 32  # senders at once, over all platforms
    # A claim older than this is presumed dead (its sender crashed) and may be taken over. Must be
    # well above the longest a single send can take, Retry-After waits included.
    claim_timeout: timedelta = timedelta(minutes=10)
    max_attempts: int = 8  # then a failing reminder is given up (it stays `failed` in the log)
    # A Retry-After up to this long is waited out within the pass; a longer one (or the sum of
    # several) releases the claim, and a later pass retries after the pause.
    max_wait_in_pass: float = 30.0
    max_tries_in_pass: int = 6
    permanent_retry: timedelta = timedelta(hours=6)  # e.g. a refused send, or nobody with that e-mail (yet)
    transient_retry: timedelta = timedelta(0)  # next pass
    # Known send rates per platform (messages per second, e.g. {"slack": 50.0}), to pace rather
    # than provoke 429s; paced at RATE_HEADROOM of it (send.py). Without one, sends go as fast as
    # the concurrency allows and a 429's Retry-After pauses every sender to that platform.
    rates: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """One message the pass means to send (or, in a dry run, would send)."""

    meeting_id: int
    group: str
    meeting_start: datetime
    kind: str
    member_id: int  # the member; for a channel post, minus the channel binding's id
    recipient: str  # the member's name, or "#<channel id>"
    platform: str | None
    address: str  # Slack/Teams user id, the e-mail to look up, or the channel id
    locale: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    reminder: PlannedReminder
    detail: str = ""  # message ref, error, or why skipped (English, for logs and the log table)
    attempts: int = 0
    # Why, as a code the CLI can put in the user's language: "replaced_by" (then `about` is the
    # later kind), "not_configured" (`about` is the platform), "no_email" (no e-mail on the roster
    # and no chat identity), "not_found" (`about`: the platforms tried, comma-separated).
    code: str = ""
    about: str = ""


# Why a member is unreachable, as stored in the reminder log's `error` of an `unreachable` row and
# read back by the next pass and the draft's box for the secretariat: "<code>:<about>".
NOT_FOUND = "not_found"
NO_EMAIL = "no_email"


def unreachable_reason(code: str, about: str = "") -> str:
    return f"{code}:{about}"


def parse_unreachable(reason: str | None) -> tuple[str, str]:
    """(code, about) of a stored reason; an unknown text reads as "not found", about nothing."""
    code, _, about = (reason or "").partition(":")
    if code in (NOT_FOUND, NO_EMAIL):
        return code, about.strip()
    return NOT_FOUND, ""


@dataclass
class PassReport:
    """What a pass did. `planned` is everything it tried (or would try, in a dry run)."""

    now: datetime
    worker_id: str
    dry_run: bool = False
    planned: list[PlannedReminder] = field(default_factory=list)
    sent: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)
    unreachable: list[Outcome] = field(default_factory=list)  # no address, or platform not set up
    deferred: list[PlannedReminder] = field(default_factory=list)  # one message per member per pass
    taken: int = 0  # claims another replica (or an overlapping pass) held first
    elapsed_seconds: float = 0.0
    rate_limit_pauses: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "planned": len(self.planned),
            "sent": len(self.sent),
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "unreachable": len(self.unreachable),
            "deferred": len(self.deferred),
            "taken": self.taken,
        }
