"""`referent` command line: serve, demo, db upgrade, roster import, referat, remind, audit, manifest."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot import audit_cli, invitation_cli
from bot.config import Settings


def _parse_now(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {value!r}") from exc
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        moment = moment.replace(tzinfo=ZoneInfo(Settings().timezone))
    return moment.astimezone(UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="referent",
        description="Referent: round-table updates, follow-ups, work-group polls, reminders and the "
        "referat draft for a working group, on Slack and Microsoft Teams.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the bot (Slack at /slack/events, Teams at /api/messages)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=3978, help="port (default 3978)")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run the reminder pass here")
    serve.add_argument(
        "--teams-emulator",
        action="store_true",
        help="serve Teams unauthenticated, for the Bot Framework Emulator (loopback only; "
        "same as REFERENT_TEAMS_EMULATOR=1)",
    )

    demo = sub.add_parser(
        "demo", help="run the whole story offline; write the draft (md, html, docx, pdf) and the archive zip"
    )
    demo.add_argument(
        "--out", type=Path, default=Path("out"), help="folder for the draft files (default out/)"
    )
    demo.add_argument("--database", default=None, help="database URL (default: a fresh SQLite file in --out)")
    demo.add_argument("--locale", default="nb", choices=["nb", "en"], help="language of the draft")
    demo.add_argument("--quiet", action="store_true", help="no progress display, no Markdown on stdout")

    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="TASK")
    db_sub.add_parser("upgrade", help="migrate the database in DATABASE_URL to the newest schema")

    roster = sub.add_parser("roster", help="roster tasks")
    roster_sub = roster.add_subparsers(dest="roster_command", required=True, metavar="TASK")
    imp = roster_sub.add_parser(
        "import",
        help="import members from CSV (Fornavn, Etternavn, Organisasjon; optional E-post, Rolle)",
    )
    imp.add_argument("file", type=Path, help="CSV file, comma, semicolon or tab separated, UTF-8")
    which_group = imp.add_mutually_exclusive_group(required=True)
    which_group.add_argument("--group", help="group name; created if no group has it")
    which_group.add_argument("--group-id", type=int, help="the group's id (oppsett shows it)")
    imp.add_argument(
        "--workspace",
        default=None,
        help="with --group: the Slack workspace (team id) or Teams tenant id the group belongs to",
    )
    imp.add_argument(
        "--locale",
        choices=["nb", "en"],
        default=None,
        help="a new group's language (default: REFERENT_LOCALE)",
    )

    referat = sub.add_parser("referat", help="write the referat draft of a meeting to a file")
    which = referat.add_mutually_exclusive_group(required=True)
    which.add_argument("--latest", action="store_true", help="the most recent meeting by start time")
    which.add_argument("meeting", nargs="?", type=int, help="meeting id")
    referat.add_argument("--group", default=None, help="with --latest: only this group")
    referat.add_argument("--format", choices=["md", "html", "docx", "pdf"], default="md")
    referat.add_argument(
        "--archive",
        action="store_true",
        help="write the archive bundle instead: one zip with the PDF/A, the .docx and metadata.json",
    )
    referat.add_argument("--locale", choices=["nb", "en"], default=None, help="default: the group's")
    referat.add_argument(
        "--final", action="store_true", help="the frozen final version (`referat endelig`), as stored"
    )
    referat.add_argument("-o", "--output", type=Path, required=True, help="file to write ('-' for stdout)")

    remind = sub.add_parser("remind", help="run one reminder pass (safe to run twice)")
    remind.add_argument("--now", type=_parse_now, default=None, help="act as if it were this ISO-8601 time")
    remind.add_argument("--dry-run", action="store_true", help="print who would get what; send nothing")

    audit_cli.add_parser(sub)
    invitation_cli.add_parser(sub)

    manifest = sub.add_parser("manifest", help="app manifests for installing the bot")
    man_sub = manifest.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    slack = man_sub.add_parser("slack", help="print the Slack app manifest (YAML)")
    slack.add_argument("--url", default=None, help="public base URL (default REFERENT_PUBLIC_URL)")
    slack.add_argument("-o", "--output", type=Path, default=None, help="write to a file instead of stdout")
    teams = man_sub.add_parser("teams", help="build the Teams app package (zip)")
    teams.add_argument("--app-id", required=True, help="the Azure Bot's Microsoft App ID")
    teams.add_argument("--url", default=None, help="public base URL (default REFERENT_PUBLIC_URL)")
    teams.add_argument("-o", "--output", type=Path, default=Path("referent.zip"))
    return parser


async def _db_upgrade(settings: Settings) -> int:
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
    finally:
        await db.close()
    print("Database is at the newest schema.")
    return 0


async def _roster_import(
    settings: Settings,
    file: Path,
    group: str | None,
    workspace: str | None = None,
    group_id: int | None = None,
    locale: str | None = None,
) -> int:
    from handlers.roster import RosterError, import_roster
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        if db.is_sqlite and await db.is_empty():
            await db.migrate()
        try:
            result = await import_roster(
                db,
                file,
                group or "",
                workspace=workspace,
                group_id=group_id,
                locale=locale or settings.locale,
            )
        except RosterError as exc:
            print(f"referent: {exc}", file=sys.stderr)
            print("Nothing was imported.", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"referent: cannot read {file}: {exc.strerror}", file=sys.stderr)
            return 1
    finally:
        await db.close()
    print(result.summary())
    return 0


async def _referat(settings: Settings, args: argparse.Namespace) -> int:
    from handlers.referat import ArchiveBundle, RenderedDraft, compile_archive, compile_draft
    from storage.db import Database
    from storage.repositories.finals import finals_of
    from storage.repositories.referat import latest_meeting_id

    db = Database(settings.database_url)
    try:
        if db.is_sqlite and await db.is_empty():
            await db.migrate()
        meeting_id = args.meeting
        if args.latest:
            async with db.session() as session:
                meeting_id = await latest_meeting_id(session, args.group)
            if meeting_id is None:
                where = f" in group {args.group!r}" if args.group else ""
                print(f"referent: no meetings{where}", file=sys.stderr)
                return 1
        draft: RenderedDraft | ArchiveBundle | None
        if args.final:
            async with db.session() as session:
                final = (await finals_of(session, meeting_id)).get(args.format)
            if final is None:
                missing = f"meeting {meeting_id} has no final version (`referat endelig`)"
                print(f"referent: {missing}", file=sys.stderr)
                return 1
            content, note = final.content, f" (final, SHA-256 {final.sha256})"
        else:
            if args.archive:
                draft = await compile_archive(db, meeting_id, locale=args.locale, now=datetime.now(UTC))
            else:
                draft = await compile_draft(
                    db, meeting_id, args.format, locale=args.locale, now=datetime.now(UTC)
                )
            if draft is None:
                print(f"referent: no meeting with id {meeting_id}", file=sys.stderr)
                return 1
            content, note = draft.content, ""
    finally:
        await db.close()
    if str(args.output) == "-":
        sys.stdout.buffer.write(content)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_bytes(content)
        print(f"Wrote {args.output}{note}")
    return 0


async def _remind(settings: Settings, now: datetime | None, dry_run: bool) -> int:
    """Exit status: 0 the pass ran (unreachable members included), 1 sends still failed after
    their retries (or the database could not be reached: nothing was sent), 2 a configuration
    error (usage errors are argparse's 2)."""
    from sqlalchemy.exc import ArgumentError

    from bot.runtime import Runtime
    from bot.scheduler import remind_command
    from bot.teams.adapter import check_configuration
    from bot.wiring import register_messengers
    from storage.db import is_retryable

    try:
        check_configuration(settings)
        runtime = Runtime(settings)
    except (ValueError, ArgumentError, ImportError) as exc:  # TeamsConfigError is a ValueError
        print(f"referent: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        if runtime.db.is_sqlite and await runtime.db.is_empty():
            await runtime.db.migrate()
        if settings.public_url:
            await runtime.links.load_key(runtime.db)  # the secretariat's notice links the draft
        register_messengers(runtime)
        return await remind_command(runtime, now, dry_run)
    except Exception as exc:
        if not is_retryable(exc):
            raise
        print(f"referent: the database is unavailable, nothing was sent: {exc}", file=sys.stderr)
        return 1
    finally:
        await runtime.close()


def _serve(settings: Settings, host: str, port: int, scheduler: bool) -> int:
    from aiohttp import web

    from bot.app import RUNTIME_KEY, create_app
    from bot.teams.adapter import check_bind_address

    try:
        check_bind_address(settings, host)
    except ValueError as exc:
        print(f"referent: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings)
    if scheduler:
        from bot.scheduler import start_scheduler

        async def _start_scheduler(app: web.Application) -> None:
            sched = start_scheduler(app[RUNTIME_KEY])

            async def _stop() -> None:
                sched.shutdown(wait=False)

            app[RUNTIME_KEY].on_close(_stop)

        app.on_startup.append(_start_scheduler)
    from bot.access_log import access_log_options

    print(f"Referent listening on http://{host}:{port}  (Slack: /slack/events, Teams: /api/messages)")
    logging.getLogger("bot.cli").info("database: %s", settings.database_url_redacted)
    web.run_app(app, host=host, port=port, print=None, **access_log_options(settings))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_default = (
        logging.WARNING
        if args.command in ("demo", "referat", "manifest", "remind", "audit")
        else logging.INFO
    )
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else quiet_default,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("aiosqlite", "msrest", "urllib3", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = Settings()
    except ValueError as exc:  # pydantic's ValidationError: a setting that cannot be read
        print(f"referent: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        if args.teams_emulator:
            settings = settings.model_copy(update={"teams_emulator": True})
        return _serve(settings, args.host, args.port, not args.no_scheduler)
    if args.command == "demo":
        from bot.offline.demo import run_demo

        return asyncio.run(
            run_demo(out=args.out, database=args.database, locale=args.locale, quiet=args.quiet)
        )
    if args.command == "db":
        return asyncio.run(_db_upgrade(settings))
    if args.command == "roster":
        return asyncio.run(
            _roster_import(settings, args.file, args.group, args.workspace, args.group_id, args.locale)
        )
    if args.command == "referat":
        return asyncio.run(_referat(settings, args))
    if args.command == "remind":
        return asyncio.run(_remind(settings, args.now, args.dry_run))
    if args.command == "audit":
        return asyncio.run(audit_cli.run(settings, args))
    if args.command == "innkalling":
        return asyncio.run(invitation_cli.run(settings, args))
    if args.command == "manifest":
        url = args.url or settings.public_url
        if args.platform == "slack":
            from bot.slack.manifest import render_slack_manifest

            if not url:
                print("referent: give --url or set REFERENT_PUBLIC_URL", file=sys.stderr)
                return 2
            text = render_slack_manifest(url)
            if args.output:
                args.output.write_text(text, encoding="utf-8")
                print(f"Wrote {args.output}")
            else:
                print(text)
            return 0
        from bot.teams.manifest import build_teams_package

        try:
            path = build_teams_package(args.app_id, url, args.output)
        except ValueError as exc:
            print(f"referent: {exc}", file=sys.stderr)
            return 2
        print(f"Wrote {path}")
        return 0
    return 2  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
