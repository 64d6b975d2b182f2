"""Reminders: who has not posted their round-table update, and telling them once, in time.

- schedule.py — pure: when each reminder is due (working days, Norwegian holidays, DST);
- messages.py — what each reminder says, in the recipient's language;
- plan.py — pure: who is reminded of what, when and where, from the loaded rows;
- send.py — claim in the reminder log, send through the messengers, record;
- report.py — the pass's options, planned reminders, outcomes and report;
- runner.py — the pass: load what the plan needs, plan, skip what was missed, send;
- fanout.py — the bounded, rate-limit-aware fan-out and the group-committed log writer.
"""

from handlers.reminders.report import Outcome, PassOptions, PassReport, PlannedReminder
from handlers.reminders.runner import run_reminder_pass

__all__ = ["Outcome", "PassOptions", "PassReport", "PlannedReminder", "run_reminder_pass"]
