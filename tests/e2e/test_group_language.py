"""A group's language, changed by its secretariat from Slack (`sprak en`), is what the bot then
posts to the whole group in; the change is audited, and a member cannot make it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from handlers.roster import import_roster
from storage.models import AuditEntry, ChannelBinding, Group, Member, Role
from tests.e2e.slack_fixtures import CHANNEL, KARI, OLA, SIRI, SlackWorld

pytestmark = pytest.mark.e2e


def _text(answer: object) -> str:
    body = answer.json()  # type: ignore[attr-defined]
    assert answer.status == 200, body  # type: ignore[attr-defined]
    return str(body.get("text", ""))


async def test_secretariat_switches_the_group_to_english(slack: SlackWorld) -> None:
    _text(await slack.command("/referent", "oppsett Faggruppe for test | Testregionen", user=SIRI))
    [binding] = await slack.rows(ChannelBinding)
    async with slack.db.session() as session:
        session.add(
            Member(
                group_id=binding.group_id,
                first_name="Kari",
                last_name="Nordmann",
                email=(KARI.email or "").lower(),
                role=Role.MEMBER,
            )
        )
    [group] = await slack.rows(Group)
    assert group.locale == "nb"

    refused = _text(await slack.command("/referent", "sprak en", user=KARI))
    assert "sekretariat" in refused.casefold()
    assert (await slack.rows(Group))[0].locale == "nb"

    bad = _text(await slack.command("/referent", "sprak klingon", user=SIRI))
    assert "klingon" in bad and (await slack.rows(Group))[0].locale == "nb"

    done = _text(await slack.command("/referent", "sprak en", user=SIRI))
    assert done == "The working group's language is now English.", done
    assert (await slack.rows(Group))[0].locale == "en"
    [entry] = await slack.rows(AuditEntry, AuditEntry.action == "group.language")
    assert entry.detail == {"locale": "en"}

    # What goes to the whole group is now in English: the collection message of a new meeting.
    slack.api.reset()
    day = (date.today() + timedelta(days=3)).strftime("%d.%m.%Y")
    _text(await slack.command("/mote", f"ny {day} 10:00-12:00 Teams", user=SIRI))
    [posted] = [p for p in slack.api.params("chat.postMessage") if p["channel"] == CHANNEL]
    assert posted["text"].startswith("*Round table* — meeting on "), posted

    again = _text(await slack.command("/referent", "language nb", user=SIRI))
    assert again == "Faggruppens språk er nå bokmål."
    assert (await slack.rows(Group))[0].locale == "nb"


async def test_english_help_shows_the_english_command_words(slack: SlackWorld) -> None:
    _text(await slack.command("/referent", "oppsett Faggruppe for test", user=SIRI))
    english = _text(await slack.command("/referent", "help", user=OLA))  # Ola's Slack is in English
    assert "`round [text | ingen]`" in english and "`absent [@person …]`" in english, english
    norwegian = _text(await slack.command("/referent", "hjelp", user=KARI))
    assert "`runde [tekst | ingen]`" in norwegian and "`forfall [@person …]`" in norwegian, norwegian


ROSTER = (
    "Fornavn;Etternavn;Organisasjon;E-post;Rolle\n"
    "Siri;Sekretær;Testregionen;siri.sekretaer@example.no;sekretariat\n"
)


async def test_a_roster_imported_in_english_makes_an_english_group_that_posts_in_english(
    slack: SlackWorld, tmp_path: Path
) -> None:
    """`referent roster import --locale en` of a new group; Siri, its secretariat, binds it from
    Slack (`oppsett`), and what the bot posts to the group is English although Siri's Slack is not."""
    source = tmp_path / "deltakere.csv"
    source.write_text(ROSTER, encoding="utf-8")
    await import_roster(slack.db, source, "Working group for maps", locale="en")
    [group] = await slack.rows(Group)
    assert group.locale == "en"
    await import_roster(slack.db, source, "Working group for maps", locale="nb")  # a re-import keeps it
    assert (await slack.rows(Group))[0].locale == "en"

    _text(await slack.command("/referent", "oppsett Working group for maps", user=SIRI))
    [binding] = await slack.rows(ChannelBinding)
    assert binding.group_id == group.id
    slack.api.reset()
    day = (date.today() + timedelta(days=3)).strftime("%d.%m.%Y")
    _text(await slack.command("/mote", f"ny {day} 10:00-12:00 Teams", user=SIRI))
    [posted] = [p for p in slack.api.params("chat.postMessage") if p["channel"] == CHANNEL]
    assert posted["text"].startswith("*Round table* — meeting on "), posted


async def test_oppsett_sets_the_language_of_a_new_group_and_its_secretariat_changes_it(
    slack: SlackWorld,
) -> None:
    created = _text(await slack.command("/referent", "oppsett Working group for roads --språk en", user=SIRI))
    assert "Working group for roads" in created
    [group] = await slack.rows(Group)
    assert group.locale == "en"
    bad = _text(await slack.command("/referent", "oppsett Working group for roads --sprak xx", user=SIRI))
    assert "xx" in bad and (await slack.rows(Group))[0].locale == "en"
    again = _text(await slack.command("/referent", "oppsett Working group for roads --sprak nb", user=SIRI))
    assert "Faggruppens språk er nå bokmål." in again, again
    assert (await slack.rows(Group))[0].locale == "nb"
    [entry, *_] = await slack.rows(AuditEntry, AuditEntry.action == "setup")
    assert entry.group_id == group.id
