"""SQLAlchemy 2.0 models for the whole domain.

Times are stored as UTC and always come back time-zone aware (see `UTCDateTime`), so the same
code runs on SQLite (which has no time-zone type) and PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # SQLAlchemy reads this as a plain class attribute.
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}  # noqa: RUF012


class Platform(enum.StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    CLI = "cli"


class Role(enum.StrEnum):
    MEMBER = "member"
    CHAIR = "chair"
    SECRETARIAT = "secretariat"


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class AgendaKind(enum.StrEnum):
    APPROVAL = "approval"
    ORIENTATION = "orientation"
    DISCUSSION = "discussion"
    ROUND_TABLE = "round_table"
    OTHER = "other"


class SubmissionKind(enum.StrEnum):
    ROUND = "round"  # round-table entry ("runde")
    INPUT = "input"  # written input to an agenda item ("innspill")
    NOTHING = "nothing"  # "runde ingen": counts as submitted, not shown in the referat


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    EXCUSED = "excused"  # forfall
    SUBSTITUTE = "substitute"  # vara for another member


class PollStatus(enum.StrEnum):
    """Where a poll is in its life: an odd one waits as PENDING until the secretariat confirms
    its preview; POSTED takes votes and is shown; WITHDRAWN (`grupper trekk`) keeps its votes
    but takes no more, is shown nowhere and is left out of the referat."""

    PENDING = "pending"
    POSTED = "posted"
    WITHDRAWN = "withdrawn"


class ReminderState(enum.StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    # Found on none of the group's platforms (or no e-mail to look up): like `failed`, it may be
    # claimed again from `claimed_at` (the person may join a platform), but it is no failure.
    UNREACHABLE = "unreachable"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings (no native enum type), so adding a value needs no DDL on PostgreSQL.
    return Enum(cls, name=name, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class Group(Base):
    """A faggruppe: the unit that owns a roster, meetings, polls and channel bindings."""

    __tablename__ = "groups"
    # A name belongs to the workspace/tenant where the group was made (`oppsett` there, or the
    # command line): two organisations may each have their "Digitalisering".
    __table_args__ = (UniqueConstraint("home_platform", "home_workspace", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    home_platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"), default=Platform.CLI)
    home_workspace: Mapped[str] = mapped_column(String(200), default="")  # Slack team / Teams tenant
    organisation: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="nb")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    deadline_days: Mapped[int] = mapped_column(Integer, default=7)
    deadline_time: Mapped[str] = mapped_column(String(5), default="23:59")
    reminder_offsets: Mapped[list[Any]] = mapped_column(default=lambda: [3, 1])
    reminder_time: Mapped[str] = mapped_column(String(5), default="09:00")
    reminders_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    papers_url: Mapped[str | None] = mapped_column(String(500), default=None)
    retention_days: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    bindings: Mapped[list[ChannelBinding]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )
    members: Mapped[list[Member]] = relationship(back_populates="group", cascade="all, delete-orphan")


class ChannelBinding(Base):
    """A chat channel bound to a group. One channel belongs to at most one group."""

    __tablename__ = "channel_bindings"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"))
    workspace_id: Mapped[str] = mapped_column(String(200))  # Slack team id / Teams tenant id
    channel_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Group] = relationship(back_populates="bindings")


class PendingJoin(Base):
    """A channel of another workspace or tenant asking to join a group: it is bound only when the
    group's own secretariat approves (`oppsett godkjenn <nr>` in the group's channel)."""

    __tablename__ = "pending_joins"
    __table_args__ = (UniqueConstraint("group_id", "platform", "workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"))
    workspace_id: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[str] = mapped_column(String(300))
    requested_by: Mapped[str] = mapped_column(String(300))  # the asker's chat user id
    requested_by_name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(Base):
    """A person on a group's roster."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("group_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), default=None)  # stored lower-case
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.MEMBER)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    on_roster: Mapped[bool] = mapped_column(Boolean, default=True)  # False: joined by posting
    # Part of every personal-export link's token: raised by `data slett`, so old links die.
    data_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Group] = relationship(back_populates="members")
    identities: Mapped[list[PlatformIdentity]] = relationship(
        back_populates="member", cascade="all, delete-orphan"
    )

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PlatformIdentity(Base):
    """A chat user linked to a roster member (per group, since rosters are per group)."""

    __tablename__ = "platform_identities"
    __table_args__ = (
        UniqueConstraint("member_id", "platform"),
        Index("ix_platform_identities_lookup", "platform", "workspace_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"))
    workspace_id: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(300))
    display_name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When this chat identity last acted (refreshed at most daily); retention forgets identities
    # unused for the retention period. NULL: never seen since the column exists (use created_at).
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)

    member: Mapped[Member] = relationship(back_populates="identities")


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_group_start", "group_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300), default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(300), default="Teams")
    chair_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[MeetingStatus] = mapped_column(
        _enum(MeetingStatus, "meeting_status"), default=MeetingStatus.OPEN
    )
    deadline_override: Mapped[datetime | None] = mapped_column(default=None)
    papers_url: Mapped[str | None] = mapped_column(String(500), default=None)
    round_question: Mapped[str | None] = mapped_column(Text, default=None)
    previous_meeting_date: Mapped[date | None] = mapped_column(Date, default=None)
    # Part of every draft link's token: raising it (`referat lenker trekk`) revokes all links.
    link_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # `mote godkjenn-referat` at the next meeting: when this meeting's referat was approved, by whom.
    referat_approved_at: Mapped[datetime | None] = mapped_column(default=None)
    referat_approved_by: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[Group] = relationship()
    chair: Mapped[Member | None] = relationship(foreign_keys=[chair_member_id])
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="AgendaItem.position"
    )


class ChannelMessage(Base):
    """A message the bot posted and may need to find again (collection thread, poll message)."""

    __tablename__ = "channel_messages"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "channel_id", "message_ref"),
        Index("ix_channel_messages_subject", "purpose", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))  # "collection" (meeting id) or "poll" (poll id)
    subject_id: Mapped[int] = mapped_column(Integer)
    platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"))
    workspace_id: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[str] = mapped_column(String(300))
    message_ref: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgendaItem(Base):
    """A sak. `number` is the invitation's numbering; `position` is the order of discussion."""

    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    position: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    kind: Mapped[AgendaKind] = mapped_column(_enum(AgendaKind, "agenda_kind"), default=AgendaKind.OTHER)
    presenter: Mapped[str | None] = mapped_column(String(300), default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    decision: Mapped[str | None] = mapped_column(Text, default=None)
    wants_input: Mapped[bool] = mapped_column(Boolean, default=False)  # asks for written input in advance

    meeting: Mapped[Meeting] = relationship(back_populates="agenda_items")


class Submission(Base):
    """What a member posted: a round-table entry, input to an agenda item, or "nothing this time"."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("source_platform", "source_ref"),
        Index("ix_submissions_meeting_member", "meeting_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[SubmissionKind] = mapped_column(_enum(SubmissionKind, "submission_kind"))
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), default=None
    )
    text: Mapped[str] = mapped_column(Text, default="")
    source_platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"))
    # Platform message id (Slack ts, Teams activity id); NULL for form saves and CLI entries.
    source_ref: Mapped[str | None] = mapped_column(String(300), default=None)
    source_channel: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    member: Mapped[Member] = relationship()
    agenda_item: Mapped[AgendaItem | None] = relationship()


class ProcessedEvent(Base):
    """Delivery ids already handled, so a retried Slack event or redelivered activity is stored once."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"))
    event_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUp(Base):
    """An oppfølging: owned by a member, or by free text such as "Sekretariatet"."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL"), default=None
    )
    text: Mapped[str] = mapped_column(Text)
    owner_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    owner_text: Mapped[str | None] = mapped_column(String(300), default=None)
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[FollowUpStatus] = mapped_column(
        _enum(FollowUpStatus, "follow_up_status"), default=FollowUpStatus.OPEN
    )
    created_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # `oppfolging ferdig N`: when, by whom, and in which meeting it was closed (that meeting's
    # draft shows it done; later drafts no longer carry it).
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    closed_in_meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), default=None
    )

    owner: Mapped[Member | None] = relationship(foreign_keys=[owner_member_id])


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), default=None
    )
    question: Mapped[str] = mapped_column(Text)
    is_work_groups: Mapped[bool] = mapped_column(Boolean, default=True)
    multiple: Mapped[bool] = mapped_column(Boolean, default=True)
    closes_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set once, by whoever closes it first (`grupper lukk`, or the scheduler at `closes_at`):
    # a conditional UPDATE … WHERE closed_at IS NULL, so replicas announce it exactly once.
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Changed only by conditional UPDATEs (pending → posted, posted → withdrawn), so a confirm
    # clicked twice, or on two replicas at once, posts the poll once.
    status: Mapped[PollStatus] = mapped_column(
        _enum(PollStatus, "poll_status"), default=PollStatus.POSTED, server_default=PollStatus.POSTED.value
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", cascade="all, delete-orphan", order_by="PollOption.position"
    )


class PollOption(Base):
    __tablename__ = "poll_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(300))
    responsible_text: Mapped[str | None] = mapped_column(String(300), default=None)
    responsible_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    cap: Mapped[int | None] = mapped_column(Integer, default=None)

    poll: Mapped[Poll] = relationship(back_populates="options")
    responsible: Mapped[Member | None] = relationship()


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("option_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("poll_options.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    status: Mapped[AttendanceStatus] = mapped_column(_enum(AttendanceStatus, "attendance_status"))
    substitute_for_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    substitute_for: Mapped[Member | None] = relationship(foreign_keys=[substitute_for_member_id])


class ReminderMute(Base):
    """A member who asked not to be reminded about one meeting."""

    __tablename__ = "reminder_mutes"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderLog(Base):
    """One row per (meeting, member, kind): claimed before sending, marked sent after."""

    __tablename__ = "reminder_log"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    # 0 for channel-wide messages (summary, secretariat): NULL would defeat the unique key.
    member_id: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[ReminderState] = mapped_column(
        _enum(ReminderState, "reminder_state"), default=ReminderState.CLAIMED
    )
    claimed_by: Mapped[str] = mapped_column(String(200), default="")
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class ConversationReference(Base):
    """Where the bot can reach a user or channel later (Teams needs the whole reference)."""

    __tablename__ = "conversation_references"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"))
    workspace_id: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(300))  # "user:<id>" or "channel:<id>"
    reference: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AppKey(Base):
    """Keys the application makes for itself (the draft-link signing key), made once and shared
    by every replica through the database."""

    __tablename__ = "app_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One admin action: who, when, what, on which platform. Append-only: the repository has no
    update, and rows go only with retention."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_group_at", "group_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # No foreign key: the record of a deleted group or member stays readable.
    group_id: Mapped[int | None] = mapped_column(Integer, default=None)
    group_name: Mapped[str] = mapped_column(String(200), default="")
    platform: Mapped[Platform] = mapped_column(_enum(Platform, "platform"))
    workspace_id: Mapped[str] = mapped_column(String(200), default="")
    actor_user_id: Mapped[str] = mapped_column(String(200), default="")
    actor_member_id: Mapped[int | None] = mapped_column(Integer, default=None)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ReferatFinal(Base):
    """One format of a meeting's frozen, final referat (`referat endelig`). Written once and
    never updated: later edits and deletions of submissions do not reach it."""

    __tablename__ = "referat_finals"
    __table_args__ = (UniqueConstraint("meeting_id", "fmt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    fmt: Mapped[str] = mapped_column(String(8))  # md | html | docx
    filename: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    frozen_at: Mapped[datetime] = mapped_column(default=utcnow)
    frozen_by: Mapped[str] = mapped_column(String(300), default="")


class PendingImport(Base):
    """An invitation shown as a preview in chat, waiting for its confirm button. The button
    carries only `token`; what is applied is this stored upload, parsed again on confirmation."""

    __tablename__ = "pending_imports"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), default=None)
    filename: Mapped[str] = mapped_column(String(300))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
