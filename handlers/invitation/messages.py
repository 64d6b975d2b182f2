"""The import's own small message table, in bokmål (default) and English.

Kept beside the code rather than in the chat catalog because the same texts serve the CLI and,
later, the chat preview; values are `str.format` templates with named fields.
"""

from __future__ import annotations

from typing import Any

_MESSAGES: dict[str, tuple[str, str]] = {
    # key: (nb, en)
    "where_line": ("linje {number}", "line {number}"),
    "where_paragraph": ("avsnitt {number}", "paragraph {number}"),
    "where_table": ("tabell {number}, rad {row}", "table {number}, row {row}"),
    "problem_no_date": (
        "fant ingen møtedato (skriv for eksempel «Tid: 20.01.2026, kl. 10.00–12.00»)",
        "found no meeting date (write for example “Tid: 20.01.2026, kl. 10.00–12.00”)",
    ),
    "problem_bad_date": ("datoen «{detail}» finnes ikke", "the date “{detail}” does not exist"),
    "problem_no_time": (
        "fant ikke når møtet starter og slutter (for eksempel «kl. 10.00–12.00»)",
        "found no start and end time (for example “kl. 10.00–12.00”)",
    ),
    "problem_bad_time": ("klokkeslettet «{detail}» kan ikke leses", "cannot read the time “{detail}”"),
    "problem_agenda_number": (
        "saken «{detail}» har ikke noe nummer jeg kan lese",
        "the agenda item “{detail}” has no number I can read",
    ),
    "problem_agenda_title": ("sak {detail} har ingen tittel", "agenda item {detail} has no title"),
    "problem_agenda_duplicate": (
        "sak {detail} står to ganger i sakskartet",
        "agenda item {detail} is on the agenda twice",
    ),
    "problem_no_agenda": (
        "fant ingen saker (nummerer dem «Sak 1», «1.» eller «1)»)",
        "found no agenda items (number them “Sak 1”, “1.” or “1)”)",
    ),
    "problem_roster": ("deltakerlisten: {detail}", "the roster: {detail}"),
    "problem_unreadable": ("filen kan ikke leses: {detail}", "the file cannot be read: {detail}"),
    # The preview and the result.
    "read_header": ("Dette leste jeg i innkallingen:", "This is what I read in the invitation:"),
    "read_when": ("Møte: {day}, kl. {start}–{end}", "Meeting: {day}, {start}–{end}"),
    "read_place": ("Sted: {place}", "Place: {place}"),
    "read_link": ("Møtelenke ({label}): {url}", "Meeting link ({label}): {url}"),
    "read_papers": ("Sakspapirer: {url}", "Papers: {url}"),
    "read_agenda_from": (
        "Sakskartet er hentet fra «{heading}» ({count} sakskart i innkallingen).",
        "The agenda was taken from “{heading}” ({count} agendas in the invitation).",
    ),
    "read_agenda": ("Saker ({count}):", "Agenda items ({count}):"),
    "read_item_presenter": ("v/ {presenter}", "by {presenter}"),
    "read_item_round": ("runden – spørsmål: {theme}", "round table – question: {theme}"),
    "read_invitees": ("Inviterte: {count}", "Invited: {count}"),
    "read_work_groups": ("Arbeidsgrupper ({count}):", "Work groups ({count}):"),
    "read_responsible": ("ansvarlig: {name}", "responsible: {name}"),
    "problems_header": (
        "Dette kunne jeg ikke lese, så ingenting blir importert:",
        "I could not read the following, so nothing will be imported:",
    ),
    "plan_header": ("Dette vil bli gjort i {group}:", "This would be done in {group}:"),
    "done_header": ("Dette ble gjort i {group}:", "This was done in {group}:"),
    "plan_meeting_new": (
        "Nytt møte {day}, kl. {start}–{end}, {place}",
        "New meeting {day}, {start}–{end}, {place}",
    ),
    "plan_meeting_update": (
        "Møtet {day} oppdateres: {fields}",
        "The meeting on {day} is updated: {fields}",
    ),
    "plan_meeting_same": ("Møtet {day} er uendret", "The meeting on {day} is unchanged"),
    "plan_items_added": ("Nye saker: {items}", "Agenda items added: {items}"),
    "plan_item_renamed": (
        "Sak {number} får ny tittel: «{old}» → «{new}»",
        "Item {number} is renamed: “{old}” → “{new}”",
    ),
    "plan_item_updated": ("Sak {number} oppdateres: {fields}", "Item {number} is updated: {fields}"),
    "plan_items_kept": (
        "Saker som ikke står i innkallingen, beholdes: {items}",
        "Items not in the invitation are kept: {items}",
    ),
    "plan_members_added": (
        "Nye i deltakerlisten ({count}): {names}",
        "Added to the roster ({count}): {names}",
    ),
    "plan_members_known": ("Allerede i deltakerlisten: {count}", "Already on the roster: {count}"),
    "plan_members_filled": (
        "Får e-post eller organisasjon fylt inn: {names}",
        "Get their e-mail or organisation filled in: {names}",
    ),
    "plan_members_kept": (
        "Ikke i innkallingen, beholdes ({count}): {names}",
        "Not in the invitation, kept ({count}): {names}",
    ),
    "plan_poll_new": (
        "Avstemning om arbeidsgrupper klar til å legges ut: «{question}» med {count} grupper",
        "Work-group poll ready to post: “{question}” with {count} groups",
    ),
    "plan_poll_same": (
        "Avstemningen om arbeidsgrupper finnes allerede (nr. {poll})",
        "The work-group poll already exists (no. {poll})",
    ),
    "plan_nothing": (
        "Ingenting å endre: alt er allerede importert.",
        "Nothing to change: all imported already.",
    ),
    "field_time": ("tid", "time"),
    "field_place": ("sted", "place"),
    "field_papers": ("sakspapirer", "papers"),
    "field_round": ("spørsmål til runden", "round-table question"),
    "field_description": ("beskrivelse", "description"),
    "field_presenter": ("innleder", "presenter"),
    "field_kind": ("type", "kind"),
    "done_meeting": ("Møte nr. {meeting}", "Meeting no. {meeting}"),
    "done_poll": (
        "Avstemning nr. {poll} er klar; legg den ut med `grupper` i kanalen.",
        "Poll no. {poll} is ready; post it with `grupper` in the channel.",
    ),
}


def message(locale: str | None, key: str, **params: Any) -> str:
    """The message in the locale (English for "en", bokmål otherwise), filled in."""
    nb, en = _MESSAGES[key]
    template = en if (locale or "nb").lower().startswith("en") else nb
    return template.format(**params)


def keys() -> set[str]:
    return set(_MESSAGES)
