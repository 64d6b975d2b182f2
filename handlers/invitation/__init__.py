"""Import a meeting invitation (.txt, .md, .docx): parse it, preview what it would change, apply.

Three steps, so chat (`mote importer` and its confirm button) and the CLI share them:
`parse_text` / `parse_docx` read a file into an `Invitation` (pure, never touches the database);
`apply.plan_import` computes a `Preview` of what would be created or changed; and
`apply.import_invitation` applies it all in one transaction.
"""

from handlers.invitation.model import (
    AgendaEntry,
    Invitation,
    Invitee,
    Location,
    MeetingLink,
    Problem,
    WorkGroup,
)

__all__ = ["AgendaEntry", "Invitation", "Invitee", "Location", "MeetingLink", "Problem", "WorkGroup"]
