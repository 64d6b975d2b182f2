"""Reminders: who has not posted their round-table update, and telling them once, in time.

- schedule.py — pure: when each reminder is due (working days, Norwegian holidays, DST);
- messages.py — what each reminder says, in the recipient's language;
- runner.py — the pass: plan, claim in the reminder log, send through the messengers, record;
- fanout.py — the bounded, rate-limit-aware fan-out and the group-committed log writer.
"""

from handlers.reminders.runner import Outcome, PassOptions, PassReport, PlannedReminder, run_reminder_pass

__all__ = ["Outcome", "PassOptions", "PassReport", "PlannedReminder", "run_reminder_pass"]
