"""Reminder kinds: the third part of the reminder log's unique key (meeting, member, kind).

A kind names *which* reminder went out, so each one is sent once. Deadline reminders and channel
summaries carry their offset in days (`deadline-3d`), so a group with offsets [7, 3, 1] gets three
distinct reminders, and the log still tells which one a member received.
"""

from __future__ import annotations

DEADLINE_PREFIX = "deadline-"
SUMMARY_PREFIX = "channel-summary-"

DEADLINE_3D = "deadline-3d"
DEADLINE_1D = "deadline-1d"
CHANNEL_SUMMARY_3D = "channel-summary-3d"
CHANNEL_SUMMARY_1D = "channel-summary-1d"
SECRETARIAT_CLOSED = "secretariat-closed"
INPUT_BEFORE_MEETING = "input-before-meeting"
# Before a meeting, to each owner of follow-ups still open from the group's earlier meetings.
FOLLOW_UPS_OPEN = "follow-ups-open"


def deadline_kind(offset_days: int) -> str:
    """The member reminder `offset_days` before the deadline: `deadline-3d`."""
    return f"{DEADLINE_PREFIX}{offset_days}d"


def summary_kind(offset_days: int) -> str:
    """The channel summary posted with the member reminders: `channel-summary-3d`."""
    return f"{SUMMARY_PREFIX}{offset_days}d"
