"""Secrets never reach a log line, a reply or /healthz; the access log is off by default and, when
on, has method, path (no query string, no download token), status and time only (issue 10,
item 14). The real server on loopback, with really signed Slack requests."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import aiohttp
import pytest

from bot.access_log import loggable_path
from bot.config import Settings
from bot.offline.fakes.slack_api import FakeSlackApi
from bot.offline.fakes.slack_requests import SlackRequests
from storage.models import Role
from tests.e2e.server import start_server
from tests.e2e.slack_fixtures import (
    BOT_TOKEN,
    BOT_USER,
    KARI,
    PUBLIC_URL,
    SIGNING_SECRET,
    SIRI,
    TEAM,
    SlackWorld,
    slack_settings,
)

pytestmark = pytest.mark.e2e

LINK_SECRET = "e2e-link-secret"
APP_PASSWORD = "teams-client-secret-value-0123"
DB_PASSWORD = "s3cret-db-passw0rd"
MESSAGE = "Hemmelig innlegg om budsjettet"


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)


async def test_no_secret_in_logs_replies_or_healthz_and_the_access_log_is_safe(
    slack_api: FakeSlackApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = slack_settings(
        slack_api, tmp_path, REFERENT_ACCESS_LOG="1", MICROSOFT_APP_PASSWORD=APP_PASSWORD
    )
    server = await start_server(settings)
    requests = SlackRequests(
        signing_secret=SIGNING_SECRET,
        team_id=TEAM,
        bot_user_id=BOT_USER,
        response_url_base=slack_api.base + "/response",
    )
    async with aiohttp.ClientSession() as http:
        world = SlackWorld(api=slack_api, server=server, requests=requests, session=http)
        try:
            await world.seed(members=((SIRI, Role.SECRETARIAT), (KARI, Role.MEMBER)))
            answers = [await world.command("/runde", MESSAGE, user=KARI)]
            answers.append(await world.command("/referat", "html", user=KARI))
            [draft_url] = re.findall(re.escape(PUBLIC_URL) + r"/drafts/[A-Za-z0-9_.\-]+", answers[-1].text)
            draft_token = draft_url.rsplit("/", 1)[1]
            async with http.get(server.url + f"/drafts/{draft_token}") as page:
                assert page.status == 200
            answers.append(await world.command("/referent", "data eksport", user=KARI))
            forged = requests.slash("/runde", "x", user=KARI.id, channel="C0FAGGRUPPE", secret="wrong-secret")
            answers.append(await world.send(forged))
            async with http.get(server.url + "/healthz?token=query-secret-xyz") as page:
                health = await page.text()
                assert page.status == 200
        finally:
            await server.stop()

    logs = _log_text(caplog)
    replies = "\n".join(a.text for a in answers)
    for secret in (BOT_TOKEN, SIGNING_SECRET, LINK_SECRET, APP_PASSWORD):
        assert secret not in logs, secret
        assert secret not in replies, secret
        assert secret not in health, secret
    # the access log: one line per request, method + path + status + time, nothing else
    access = [r.getMessage() for r in caplog.records if r.name == "referent.access"]
    assert any(re.fullmatch(r"GET /healthz 200 \d+\.\dms", line) for line in access), access
    assert any(line.startswith("POST /slack/events 200 ") for line in access), access
    assert any(line.startswith("POST /slack/events 401 ") for line in access), access
    assert any(line.startswith("GET /drafts/<token> 200 ") for line in access), access
    assert "query-secret-xyz" not in logs and draft_token not in "\n".join(access)
    info_and_up = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert MESSAGE not in info_and_up  # message text is never logged at the serving level


async def test_the_access_log_is_off_by_default(slack: SlackWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with slack.session.get(slack.server.url + "/healthz") as page:
        assert page.status == 200
    assert not [r for r in caplog.records if r.name in ("referent.access", "aiohttp.access")]
    assert Settings(_env_file=None).access_log is False  # type: ignore[call-arg]


def test_settings_hold_secrets_as_secretstr_and_hide_the_database_password() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=f"postgresql+asyncpg://referent:{DB_PASSWORD}@db.internal:5432/referent",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        MICROSOFT_APP_PASSWORD=APP_PASSWORD,
        REFERENT_LINK_SECRET=LINK_SECRET,
    )
    shown = f"{settings!r} {settings}"
    for secret in (BOT_TOKEN, SIGNING_SECRET, APP_PASSWORD, LINK_SECRET, DB_PASSWORD):
        assert secret not in shown, secret
    assert DB_PASSWORD not in settings.database_url_redacted
    assert settings.database_url_redacted.startswith("postgresql+asyncpg://referent:***@db.internal")
    assert settings.secret("slack_bot_token") == BOT_TOKEN and settings.slack_enabled


def test_loggable_paths_drop_query_strings_and_tokens() -> None:
    assert loggable_path("/drafts/abc.def-ghi") == "/drafts/<token>"
    assert loggable_path("/exports/abc.def/x") == "/exports/<token>/x"
    assert loggable_path("/healthz?token=x") == "/healthz"
