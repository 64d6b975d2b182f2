"""`referent demo`: the whole story of one meeting, offline, through the real HTTP endpoints.

It starts the real server on loopback against a fake Slack Web API and a fake Bot Connector (the
only fakes: the platforms' own HTTP APIs), and plays a fictional faggruppe: roster import, channel
setup on both platforms, a meeting with an agenda, round-table posts as slash commands, thread
replies, Teams messages with @mentions, an edit and a delete, attendance, a work-group poll clicked
on both platforms, reminder passes at simulated times, and the draft written as .md/.html/.docx/.pdf
and the archive bundle (.zip).

Then the year goes on, in small (written to `out/year/`): the secretariat shares the invitation
to the next meeting in its Slack DM with the bot (demo_data/innkalling.txt, dated four weeks on),
checks the preview and presses Import; before that meeting the owner of an open follow-up is
reminded; at it, the secretariat approves the first meeting's referat, freezes its final version
(stored with SHA-256) and closes a follow-up; the next meeting's draft carries the one still open.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.config import Settings
from bot.offline.fakes.bot_connector import FakeBotConnector, FakeTeamsUser
from bot.offline.fakes.slack_api import FakeSlackApi, FakeUser
from bot.offline.fakes.slack_requests import SignedRequest, SlackRequests, slack_escape
from bot.offline.fakes.teams_activities import TeamsScenario, fictional_user, find_actions
from bot.offline.loopback import RunningServer, free_port, start_server

GROUP = "Næringssamarbeid"
ORGANISATION = "Fjordregionen IPR"
SLACK_CHANNEL = "C0NAERING"
SIGNING_SECRET = "demo-signing-secret-not-for-production"
TZ = ZoneInfo("Europe/Oslo")
# Who of the roster uses Teams; the rest use Slack, the secretariat both.
TEAMS_PEOPLE = frozenset(
    {"Kristin", "Ingrid", "Mats", "Øystein", "Pål", "Amund", "Åse", "Maja", "Nora", "Guro"}
)


@dataclass
class Person:
    first: str
    last: str
    organisation: str
    email: str
    role: str
    slack: FakeUser | None = None
    teams: FakeTeamsUser | None = None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def load_roster() -> tuple[str, list[Person]]:
    """The demo roster (fictional people) as CSV text and as people, half on Slack, half on Teams."""
    text = resources.files("bot.offline").joinpath("demo_data/roster.csv").read_text(encoding="utf-8")
    people: list[Person] = []
    for index, row in enumerate(csv.DictReader(io.StringIO(text), delimiter=";")):
        person = Person(row["Fornavn"], row["Etternavn"], row["Organisasjon"], row["E-post"], row["Rolle"])
        secretariat = row["Rolle"] == "sekretariat"
        on_teams = person.first in TEAMS_PEOPLE
        if secretariat or not on_teams:
            person.slack = FakeUser(f"U{index:03d}DEMO", person.name, person.email, locale="nb-NO")
        if secretariat or on_teams:
            teams_user = fictional_user(person.first, person.last, n=index)
            person.teams = replace(teams_user, email=person.email, user_principal_name=person.email)
        people.append(person)
    return text, people


@dataclass
class Story:
    """The running pieces and the cast, with one helper per kind of thing a person does."""

    server: RunningServer
    slack_api: FakeSlackApi
    connector: FakeBotConnector
    slack: SlackRequests
    teams: TeamsScenario
    http: aiohttp.ClientSession
    people: dict[str, Person]
    errors: list[str] = field(default_factory=list)
    log: list[tuple[str, str, str]] = field(default_factory=list)  # (platform, who, what)

    def p(self, first: str) -> Person:
        return self.people[first]

    async def settle(self) -> None:
        await self.server.runtime.drain(timeout=15)

    async def _slack(self, request: SignedRequest, what: str, who: Person) -> dict[str, Any]:
        async with self.http.post(
            self.server.url + request.path, data=request.body, headers=request.headers
        ) as r:
            body = await r.text()
            if r.status != 200:
                self.errors.append(f"Slack {what} by {who.name}: HTTP {r.status} {body[:200]}")
        await self.settle()
        self.log.append(("Slack", who.name, what))
        try:
            import json

            data = json.loads(body) if body else {}
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {}

    async def slash(self, who: Person, command: str, text: str = "", *, markup: str = "") -> dict[str, Any]:
        """A slash command; `text` is escaped as Slack escapes typed text, `markup` (e.g. a
        `<!channel>` Slack inserted for a typed @channel) is appended as is."""
        assert who.slack is not None
        typed = slack_escape(text) + markup
        request = self.slack.slash(command, typed, user=who.slack.id, channel=SLACK_CHANNEL)
        return await self._slack(request, f"{command} {text}".strip(), who)

    async def slack_thread_reply(self, who: Person, thread_ts: str, text: str) -> str:
        assert who.slack is not None
        ts = self.slack.next_ts()
        request = self.slack.thread_reply(
            slack_escape(text), user=who.slack.id, channel=SLACK_CHANNEL, thread_ts=thread_ts, ts=ts
        )
        await self._slack(request, "svar i tråden", who)
        return ts

    async def slack_edit(self, who: Person, ts: str, thread_ts: str, new_text: str) -> None:
        assert who.slack is not None
        request = self.slack.message_changed(
            user=who.slack.id,
            channel=SLACK_CHANNEL,
            ts=ts,
            new_text=slack_escape(new_text),
            thread_ts=thread_ts,
        )
        await self._slack(request, "redigerte svaret sitt", who)

    async def slack_delete(self, who: Person, ts: str, thread_ts: str) -> None:
        assert who.slack is not None
        request = self.slack.message_deleted(
            user=who.slack.id, channel=SLACK_CHANNEL, ts=ts, thread_ts=thread_ts
        )
        await self._slack(request, "slettet svaret sitt", who)

    async def slack_click(self, who: Person, action_id: str, value: str, message_ts: str) -> None:
        assert who.slack is not None
        request = self.slack.block_actions(
            user=who.slack.id, channel=SLACK_CHANNEL, action_id=action_id, value=value, message_ts=message_ts
        )
        await self._slack(request, "klikket i avstemningen", who)

    async def activity(self, who: Person, activity: dict[str, Any], what: str) -> dict[str, Any]:
        async with self.http.post(self.server.url + "/api/messages", json=activity) as r:
            body = await r.text()
            if r.status >= 300:
                self.errors.append(f"Teams {what} by {who.name}: HTTP {r.status} {body[:200]}")
        await self.settle()
        self.log.append(("Teams", who.name, what))
        try:
            import json

            data = json.loads(body) if body else {}
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {}

    async def teams_say(self, who: Person, text: str, mentions: tuple[Person, ...] = ()) -> str:
        assert who.teams is not None
        mentioned = tuple(m.teams for m in mentions if m.teams is not None)
        activity = self.teams.channel_message(who.teams, text, mentions=mentioned)
        await self.activity(who, activity, text.split("\n")[0][:60])
        return str(activity["id"])

    async def teams_reply(self, who: Person, root: str, text: str) -> str:
        assert who.teams is not None
        activity = self.teams.thread_reply(who.teams, root, text)
        await self.activity(who, activity, "svar i tråden")
        return str(activity["id"])

    async def teams_personal(self, who: Person, text: str) -> None:
        assert who.teams is not None
        await self.activity(who, self.teams.personal_message(who.teams, text), f"1:1: {text[:50]}")


def _meeting_day(now: datetime) -> datetime:
    """Today, 10:00–12:00 Oslo time: collection is open for a week from now."""
    local = now.astimezone(TZ)
    return local.replace(hour=10, minute=0, second=0, microsecond=0)


async def _play(story: Story, step: Callable[[str], None]) -> int:
    """The meeting, step by step. Returns the meeting id."""
    from sqlalchemy import select

    from handlers.roster import import_roster
    from storage.models import Group, Meeting, PendingJoin

    rag, tob, kri = story.p("Ragnhild"), story.p("Tobias"), story.p("Kristin")

    step("Importerer medlemslisten (CSV)")
    roster_text = resources.files("bot.offline").joinpath("demo_data/roster.csv").read_text(encoding="utf-8")
    await import_roster(story.server.runtime.db, roster_text, GROUP)

    step("Sekretariatet kobler Slack-kanalen og Teams-kanalen til faggruppen")
    await story.slash(rag, "/referent", f"oppsett {GROUP} | {ORGANISATION}")
    assert tob.teams is not None
    await story.activity(tob, story.teams.bot_added_to_team(tob.teams), "la Referent til i teamet")
    # Teams is another tenant: the Teams channel asks to join, and the secretariat approves in
    # the group's own (Slack) channel.
    async with story.server.runtime.db.session() as session:
        group_id = (await session.execute(select(Group.id).where(Group.name == GROUP))).scalar_one()
    await story.teams_say(tob, f"oppsett bli med {group_id}")
    async with story.server.runtime.db.session() as session:
        pending_id = (
            await session.execute(select(PendingJoin.id).where(PendingJoin.group_id == group_id))
        ).scalar_one()
    await story.slash(rag, "/referent", f"oppsett godkjenn {pending_id}")

    step("Sekretariatet oppretter møtet og saklisten")
    posted_before = len(story.slack_api.params("chat.postMessage"))  # the join notice came first
    notices = set(story.slack_api.messages)
    start = _meeting_day(datetime.now(UTC))
    await story.slash(rag, "/mote", f"ny {start:%d.%m.%Y} 10:00-12:00 Teams")
    for number, title, after in [
        (1, "Godkjenning av innkalling og dagsorden", None),
        (2, "Godkjenning av referat fra forrige møte", None),
        (3, "Handlingsprogram 2027 – prioriteringer", None),
        (4, "Runde rundt bordet", None),
        (5, "Eventuelt", None),
        (11, "Orientering om felles næringsarealkart", 2),
    ]:
        await story.slash(rag, "/mote", f"sak {number} {title}" + (f" etter {after}" if after else ""))
    async with story.server.runtime.db.session() as session:
        meeting = (await session.execute(select(Meeting).order_by(Meeting.id.desc()))).scalars().first()
        assert meeting is not None, "the meeting was not created"
        meeting_id = meeting.id

    slack_root = next(
        (
            p["ts"]
            for p in story.slack_api.params("chat.postMessage")[posted_before:]
            if p.get("channel") == SLACK_CHANNEL and "ts" in p
        ),
        None,
    ) or _posted_ts(story.slack_api, notices)
    teams_root = _teams_collection_root(story.connector)

    step("Medlemmene legger inn runde rundt bordet (Slack: tråd og /runde)")
    eirik, henrik, siv, line, hanne = (story.p(n) for n in ("Eirik", "Henrik", "Siv", "Line", "Hanne"))
    first_ts = ""
    if slack_root:
        first_ts = await story.slack_thread_reply(
            eirik,
            slack_root,
            "Asker har vedtatt ny næringsplan.\n\n- Tre nye næringsområder regulert\n- Felles "
            "førstelinje for etablerere fra mars",
        )
        doomed = await story.slack_thread_reply(henrik, slack_root, "Feil tråd, beklager!")
        await story.slack_delete(henrik, doomed, slack_root)
        await story.slack_edit(
            eirik,
            first_ts,
            slack_root,
            "Asker har vedtatt ny næringsplan.\n\n- Tre nye næringsområder regulert\n- Felles "
            "førstelinje for etablerere fra mars\n- Søknad om <b>regionale</b> midler sendt",
        )
    await story.slash(
        henrik,
        "/runde",
        "Lillestrøm: stor pågang fra datasentre.\nVi trenger felles faktagrunnlag om kraft og nett.",
    )
    await story.slash(
        siv,
        "/runde",
        "Kongsberg: teknologiklyngen ansetter 120 i år & søker <kompetanse>. ",
        markup="<!channel>",
    )
    await story.slash(line, "/runde", "ingen")
    await story.slash(hanne, "/innspill", "3 Fredrikstad ønsker at sirkulær økonomi prioriteres i 2027.")
    await story.slash(hanne, "/runde", "Fredrikstad: nytt innovasjonsprogram for reiselivet.")
    await story.slash(
        siv, "/oppfolging", f"Sende ut oversikt over kraftkapasitet @{rag.name} frist {_plus_days(start, 14)}"
    )
    for present in (eirik, henrik, siv, line, hanne, story.p("Jon"), story.p("Camilla")):
        await story.slash(present, "/tilstede")
    await story.slash(story.p("Sindre"), "/forfall")

    step("Medlemmene på Teams: tråd, @Referent i kanalen, 1:1-chat, vara")
    ingrid, mats, pal, amund, oystein = (story.p(n) for n in ("Ingrid", "Mats", "Pål", "Amund", "Øystein"))
    if teams_root:
        reply_id = await story.teams_reply(
            ingrid, teams_root, "Bærum: ny arealstrategi ute på høring.\n• Frist 1. februar"
        )
        assert ingrid.teams is not None
        await story.activity(
            ingrid,
            story.teams.message_update(
                ingrid.teams,
                reply_id,
                "Bærum: ny arealstrategi ute på høring.\n• Frist 1. februar\n• Innspill ønskes",
                root_id=teams_root,
            ),
            "redigerte svaret sitt",
        )
    await story.teams_say(pal, "runde Nordre Follo: Ski næringspark er snart ferdig regulert.")
    await story.teams_personal(oystein, "runde Gjøvik: rekrutteringsprosjektet er utvidet til hele regionen.")
    await story.teams_say(story.p("Mats"), "forfall")
    await story.teams_say(amund, f"vara for @{mats.name}", mentions=(mats,))
    await story.teams_say(
        amund, "runde Ringerike: ny gang- og sykkelbro åpnet, næringsområdet ved E16 klart."
    )
    await story.teams_say(
        kri, "oppfolging Invitere Innovasjon Norge til neste møte @Sekretariatet", mentions=()
    )
    for present in (kri, ingrid, pal, oystein, story.p("Åse"), story.p("Nora")):
        await story.teams_say(present, "tilstede")

    step("Avstemning om arbeidsgrupper, klikk fra Slack og Teams")
    await story.slash(
        rag,
        "/grupper",
        'ny "Næringsarealer | Eirik Solbakken" "Kompetanse og rekruttering | Ingrid Mørk | maks 6" '
        '"Sirkulær økonomi | Henrik Aasen"',
    )
    await _vote_slack(story, [(eirik, 0), (siv, 0), (siv, 2), (henrik, 2), (hanne, 1)])
    await _vote_teams(story, [(ingrid, 1), (pal, 0), (oystein, 1), (amund, 2)])

    step("Påminnelser ved simulerte tidspunkt (3 og 1 dag før fristen)")
    await _remind(story, meeting_id)

    step("Sekretariatet ser status")
    await story.slash(rag, "/mote", "status")
    return meeting_id


def _plus_days(start: datetime, days: int) -> str:
    return f"{(start + timedelta(days=days)):%d.%m.%Y}"


def _posted_ts(api: FakeSlackApi, earlier: set[Any] | None = None) -> str | None:
    """The ts of the bot's collection message in the demo channel (posted after `earlier`)."""
    for (channel, ts), params in api.messages.items():
        if earlier and (channel, ts) in earlier:
            continue
        if channel == SLACK_CHANNEL and not params.get("thread_ts") and "blocks" in params:
            return ts
    return None


def _teams_collection_root(connector: FakeBotConnector) -> str | None:
    for activity in connector.activities():
        if activity.cards and any(find_actions(card) for card in activity.cards) is False:
            continue
        text = (activity.text or "").lower()
        if "runde rundt bordet" in text or any(
            "runde rundt bordet" in str(c).lower() for c in activity.cards
        ):
            return activity.activity_id
    return None


async def _vote_slack(story: Story, votes: list[tuple[Person, int]]) -> None:
    from bot.slack.blocks import POLL_ACTION_PREFIX

    poll_messages = [
        (ts, params)
        for (channel, ts), params in story.slack_api.messages.items()
        if channel == SLACK_CHANNEL and POLL_ACTION_PREFIX in str(params.get("blocks"))
    ]
    if not poll_messages:
        story.errors.append("the poll was not posted in Slack")
        return
    ts, params = poll_messages[-1]
    actions = [
        element
        for block in params.get("blocks") or []
        for element in ([block.get("accessory")] if block.get("accessory") else block.get("elements", []))
        if isinstance(element, dict) and str(element.get("action_id", "")).startswith(POLL_ACTION_PREFIX)
    ]
    for who, option in votes:
        if option < len(actions):
            await story.slack_click(who, actions[option]["action_id"], actions[option].get("value", ""), ts)


async def _vote_teams(story: Story, votes: list[tuple[Person, int]]) -> None:
    card_message = None
    for activity in story.connector.activities():
        for card in activity.cards:
            if (find_actions(card) and "arbeidsgrupp" in str(card).lower()) or "Næringsarealer" in str(card):
                card_message = activity
    if card_message is None:
        story.errors.append("the poll was not posted in Teams")
        return
    actions = [a for card in card_message.cards for a in find_actions(card)]
    for who, option in votes:
        if who.teams is None or option >= len(actions):
            continue
        invoke = story.teams.card_action_from(who.teams, card_message.activity_id, actions[option])
        await story.activity(who, invoke, "klikket i avstemningen")


async def _remind(story: Story, meeting_id: int) -> None:
    """Run the reminder pass at each time the group's schedule names (working days, 09:00)."""
    from handlers.referat.deadline import submission_deadline
    from handlers.reminders.runner import run_reminder_pass
    from handlers.reminders.schedule import deadline_reminders, rule_from_settings
    from storage.models import Group, Meeting

    async with story.server.runtime.db.session() as session:
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        group = await session.get(Group, meeting.group_id)
        assert group is not None
        deadline = submission_deadline(meeting, group)
        rule = rule_from_settings(
            group.reminder_offsets, group.reminder_time, group.timezone, group.reminders_enabled
        )
    for scheduled in deadline_reminders(deadline, rule):
        moment = scheduled.at + timedelta(minutes=5)
        report = await run_reminder_pass(story.server.runtime.ctx, now=moment)
        local = moment.astimezone(TZ)
        what = f"{local:%d.%m kl. %H.%M} ({scheduled.offset_days} d før fristen): {len(report.sent)} sendt"
        story.log.append(("Referent", "påminnelser", what))


async def run_demo(*, out: Path, database: str | None, locale: str, quiet: bool) -> int:
    """Run the story; write the drafts into `out`. Exit code 0 when everything went through."""
    from handlers.referat import compile_archive, compile_draft

    console = Console(quiet=quiet, highlight=False)
    out.mkdir(parents=True, exist_ok=True)
    if database is None:
        db_file = out / "demo.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        database = f"sqlite+aiosqlite:///{db_file}"

    _, people = load_roster()
    slack_api = FakeSlackApi(users=[p.slack for p in people if p.slack], team_id="T0DEMO")
    for user in slack_api.users.values():
        user.team_id = "T0DEMO"
    connector = FakeBotConnector(members=[p.teams for p in people if p.teams])
    await slack_api.start()
    connector_url = await connector.start()
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        DATABASE_URL=database,
        SLACK_BOT_TOKEN=SecretStr("xoxb-demo-token"),
        SLACK_SIGNING_SECRET=SecretStr(SIGNING_SECRET),
        SLACK_API_URL=slack_api.url,
        MICROSOFT_APP_ID="",
        REFERENT_TEAMS_EMULATOR=True,  # the demo's Teams side is local and unauthenticated
        REFERENT_PUBLIC_URL=public_url,
        REFERENT_LOCALE=locale,
    )
    server = await start_server(settings, port=port)
    steps = 12
    try:
        async with aiohttp.ClientSession() as http:
            story = Story(
                server=server,
                slack_api=slack_api,
                connector=connector,
                slack=SlackRequests(
                    SIGNING_SECRET, team_id="T0DEMO", response_url_base=slack_api.base + "/response"
                ),
                teams=TeamsScenario(
                    service_url=connector_url, team_name="Fjordregionen", channel_name="Næringssamarbeid"
                ),
                http=http,
                people={p.first: p for p in people},
            )
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as progress:
                task = progress.add_task("Starter", total=steps)

                def step(text: str) -> None:
                    progress.update(task, description=text, advance=1)

                meeting_id = await _play(story, step)
                step("Skriver utkast til referat (md, html, docx, pdf) og arkivpakke")
                written: list[Path] = []
                markdown = ""
                for fmt in ("md", "html", "docx", "pdf"):
                    draft = await compile_draft(
                        server.runtime.db, meeting_id, fmt, locale=locale, now=datetime.now(UTC)
                    )
                    assert draft is not None
                    path = out / draft.filename
                    path.write_bytes(draft.content)
                    written.append(path)
                    if fmt == "md":
                        markdown = draft.content.decode("utf-8")
                bundle = await compile_archive(
                    server.runtime.db, meeting_id, locale=locale, now=datetime.now(UTC)
                )
                assert bundle is not None
                written.append(out / bundle.filename)
                written[-1].write_bytes(bundle.content)
                from bot.offline.demo_year import play_year

                written += await play_year(story, step, meeting_id, out / "year", locale)
                progress.update(task, completed=steps, description="Ferdig")

            _summary(console, story, written)
            if not quiet:
                console.rule("Utkast til referat (Markdown)")
                console.print(markdown, markup=False, highlight=False)
            if story.errors:
                for error in story.errors:
                    console.print(f"[red]Feil:[/red] {error}")
                return 1
            return 0
    finally:
        await server.stop()
        await connector.stop()
        await slack_api.stop()


def _summary(console: Console, story: Story, written: list[Path]) -> None:
    table = Table(title="Hva som skjedde", show_lines=False)
    table.add_column("Hvor")
    table.add_column("Hvem")
    table.add_column("Hva")
    for platform, who, what in story.log:
        table.add_row(platform, who, what)
    console.print(table)
    calls = story.slack_api.summary()
    per_method = ", ".join(f"{name} {count}" for name, count in sorted(calls.items()))
    console.print(f"Slack Web API-kall: {sum(calls.values())} ({per_method})")
    console.print(f"Aktiviteter sendt til Teams: {len(story.connector.activities())}")
    for path in written:
        console.print(f"Skrev [bold]{path}[/bold] ({path.stat().st_size:,} byte)".replace(",", " "))


AsyncStep = Callable[[], Awaitable[None]]
