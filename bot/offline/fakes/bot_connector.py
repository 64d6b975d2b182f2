"""A fake Bot Connector on 127.0.0.1: what Teams' connector service does for a bot, in memory.

It records every activity the bot sends, per conversation (new messages, replies, updates,
deletes), answers create-conversation and member look-ups from a configurable member list, issues
bot tokens like the Entra token endpoint (over HTTPS with a self-signed certificate, as msal
insists: trust `ca_file`, e.g. through REQUESTS_CA_BUNDLE), and can throttle with 429 + Retry-After.
`referent demo`, the end-to-end tests and bench/teams_load.py point activities' `serviceUrl` at it.

Run alone: `python -m bot.offline.fakes.bot_connector --port 3979` (prints its URL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import ipaddress
import itertools
import json
import ssl
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class FakeTeamsUser:
    """A Teams user as the connector's member API returns them."""

    id: str  # Bot Framework id, "29:…"
    aad_object_id: str
    name: str
    email: str | None = None
    user_principal_name: str | None = None
    given_name: str = ""
    surname: str = ""
    user_role: str = "user"  # "guest" for a guest account
    home_tenant: str | None = None  # a user of another tenant (federated / B2B): their own tenant

    def as_member(self, tenant_id: str = "") -> dict[str, Any]:
        member: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "givenName": self.given_name or self.name.split(" ")[0],
            "surname": self.surname or " ".join(self.name.split(" ")[1:]),
            "userRole": self.user_role,
        }
        if self.email:
            member["email"] = self.email
        member["userPrincipalName"] = self.user_principal_name or self.email or ""
        if self.home_tenant or tenant_id:
            member["tenantId"] = self.home_tenant or tenant_id
        return member

    def account(self) -> dict[str, Any]:
        """The `from` of an activity this user sends."""
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}


@dataclass
class RecordedActivity:
    """One call the bot made to the connector."""

    method: str  # "POST" | "PUT" | "DELETE"
    conversation_id: str
    activity_id: str  # the id the connector gave (POST) or the one updated (PUT/DELETE)
    reply_to_id: str | None
    body: dict[str, Any]
    authorization: str | None
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [
            a.get("content") or {}
            for a in self.body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    @property
    def is_update(self) -> bool:
        return self.method == "PUT"


class FakeBotConnector:
    """The fake service. `start()` binds a free loopback port; `url` is the serviceUrl to use."""

    def __init__(
        self,
        members: Iterable[FakeTeamsUser] = (),
        *,
        tenant_id: str = "",
        record: bool = True,
        response_delay: float = 0.0,
    ) -> None:
        self.members: list[FakeTeamsUser] = list(members)
        # Teams with their own member list (GET /v3/conversations/{teamId}/pagedmembers answers
        # with those); any other conversation lists every member, as a small tenant would.
        self.teams: dict[str, list[FakeTeamsUser]] = {}
        self.member_list_reads: list[str] = []  # conversation ids whose member list was read
        self.tenant_id = tenant_id
        self.record = record
        self.response_delay = response_delay
        self.sent: dict[str, list[RecordedActivity]] = defaultdict(list)
        self.log: list[RecordedActivity] = []
        self.created_conversations: list[dict[str, Any]] = []
        self.member_lookups: list[tuple[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.request_count = 0
        # (host, port) of every client connection seen: how many connections the bot opened.
        self.client_ports: set[tuple[Any, ...]] = set()
        self.activity_count = 0
        self.throttled = 0
        self._throttle_remaining = 0
        self._list_throttle_remaining = 0
        self._throttle_retry_after = 1.0
        # DELETE …/activities/{id}: the activities deleted (per conversation, thread suffix
        # dropped), and how many deletes to refuse next (as Teams does for a message it keeps).
        self.deleted: set[tuple[str, str]] = set()
        self._refuse_deletes = 0
        self._ids = itertools.count(1_768_900_000_000)
        self._conversation_ids = itertools.count(1)
        self._waiters: list[tuple[Callable[[RecordedActivity], bool], asyncio.Future[RecordedActivity]]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.tls_url = ""  # the same service over HTTPS, for the Entra endpoints
        self.files: dict[str, bytes] = {}  # files users sent in a personal chat
        self.downloads: list[str] = []

    # -- control ---------------------------------------------------------------------------------

    def throttle(self, count: int, retry_after: float = 1.0) -> None:
        """Answer the next `count` activity sends with 429 and this Retry-After (seconds)."""
        self._throttle_remaining = count
        self._throttle_retry_after = retry_after

    def throttle_member_lists(self, count: int, retry_after: float = 1.0) -> None:
        """Answer the next `count` member-list reads (…/members, …/pagedmembers) with 429."""
        self._list_throttle_remaining = count
        self._throttle_retry_after = retry_after

    def refuse_deletes(self, count: int) -> None:
        """Answer the next `count` activity deletes with 403 Forbidden."""
        self._refuse_deletes = count

    def is_deleted(self, conversation_id: str, activity_id: str) -> bool:
        """Whether the bot deleted this activity (the thread suffix of the id is ignored)."""
        return (conversation_id.split(";messageid=")[0], activity_id) in self.deleted

    def add_member(self, user: FakeTeamsUser, *, team: str | None = None) -> None:
        """A user the connector knows; with `team`, also on that team's member list."""
        if user not in self.members:
            self.members.append(user)
        if team is not None:
            roster = self.teams.setdefault(team, [])
            if user not in roster:
                roster.append(user)

    def add_team(self, team_id: str, members: Iterable[FakeTeamsUser] = ()) -> None:
        """A team with its own member list (users are added to the connector as well)."""
        self.teams.setdefault(team_id, [])
        for user in members:
            self.add_member(user, team=team_id)

    def _roster(self, conversation_id: str) -> list[FakeTeamsUser]:
        base = conversation_id.split(";messageid=")[0]
        return self.teams.get(base, self.members)

    def reset(self) -> None:
        self.sent.clear()
        self.log.clear()
        self.created_conversations.clear()
        self.member_lookups.clear()
        self.member_list_reads.clear()
        self.deleted.clear()

    def activities(self, conversation_id: str | None = None) -> list[RecordedActivity]:
        """What the bot sent, oldest first; for one conversation (thread suffix ignored) or all."""
        if conversation_id is None:
            return list(self.log)
        base = conversation_id.split(";messageid=")[0]
        return [a for a in self.log if a.conversation_id.split(";messageid=")[0] == base]

    def texts(self, conversation_id: str | None = None) -> list[str]:
        return [a.text for a in self.activities(conversation_id) if a.method == "POST"]

    def replies_to(self, activity_id: str) -> list[RecordedActivity]:
        return [a for a in self.log if a.reply_to_id == activity_id]

    async def wait_for(
        self, predicate: Callable[[RecordedActivity], bool], timeout: float = 5.0
    ) -> RecordedActivity:
        """The first recorded (or future) activity matching predicate; TimeoutError otherwise."""
        for recorded in self.log:
            if predicate(recorded):
                return recorded
        future: asyncio.Future[RecordedActivity] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiters = [(p, f) for p, f in self._waiters if f is not future]

    # -- server ----------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_delete("/v3/conversations/{conversation}/activities/{activity}", self._delete)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._get_member)
        app.router.add_get("/v3/conversations/{conversation}/members", self._get_members)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._get_paged_members)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration)
        app.router.add_get("/_fake/stats", self._stats)
        app.router.add_get("/_fake/files/{file_id}/{name}", self._download)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server: Any = site._server
        bound = server.sockets[0].getsockname()[1]
        self.url = f"http://{host}:{bound}/"
        tls = web.TCPSite(self._runner, host, 0, ssl_context=_tls_context())
        await tls.start()
        tls_server: Any = tls._server
        self.tls_url = f"https://{host}:{tls_server.sockets[0].getsockname()[1]}/"
        return self.url

    @property
    def token_url(self) -> str:
        """An Entra-shaped token endpoint on this fake (for authenticated runs), over HTTPS."""
        return f"{self.tls_url}botframework.com/oauth2/v2.0/token"

    @property
    def ca_file(self) -> str:
        """The PEM certificate to trust for `tls_url` (self-signed for 127.0.0.1 and localhost)."""
        return str(_certificate()[0])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotConnector:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- handlers --------------------------------------------------------------------------------

    async def _pause(self, request: web.Request | None = None) -> None:
        self.request_count += 1
        if request is not None and request.transport is not None:
            peer = request.transport.get_extra_info("peername")
            if peer:
                self.client_ports.add(tuple(peer)[:2])
        if self.response_delay:
            await asyncio.sleep(self.response_delay)

    def _throttled(self) -> web.Response | None:
        if self._throttle_remaining > 0:
            self._throttle_remaining -= 1
            self.throttled += 1
            return web.json_response(
                {"error": {"code": "TooManyRequests", "message": "Too many requests"}},
                status=429,
                headers={"Retry-After": f"{self._throttle_retry_after:g}"},
            )
        return None

    async def _body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        return body if isinstance(body, dict) else None

    def _record(self, recorded: RecordedActivity) -> None:
        self.activity_count += 1
        if self.record:
            self.sent[recorded.conversation_id].append(recorded)
            self.log.append(recorded)
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(recorded):
                future.set_result(recorded)

    def _bad(self, message: str) -> web.Response:
        return web.json_response({"error": {"code": "BadArgument", "message": message}}, status=400)

    async def _post_activity(self, request: web.Request, reply_to: str | None) -> web.Response:
        await self._pause(request)
        throttled = self._throttled()
        if throttled is not None:
            return throttled
        body = await self._body(request)
        if body is None or body.get("type") not in ("message", "typing", "event"):
            return self._bad("expected an activity")
        activity_id = str(next(self._ids))
        self._record(
            RecordedActivity(
                method="POST",
                conversation_id=request.match_info["conversation"],
                activity_id=activity_id,
                reply_to_id=reply_to or body.get("replyToId"),
                body=body,
                authorization=request.headers.get("Authorization"),
            )
        )
        return web.json_response({"id": activity_id}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        return await self._post_activity(request, None)

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._post_activity(request, request.match_info["activity"])

    async def _update(self, request: web.Request) -> web.Response:
        await self._pause(request)
        throttled = self._throttled()
        if throttled is not None:
            return throttled
        body = await self._body(request)
        if body is None:
            return self._bad("expected an activity")
        activity_id = request.match_info["activity"]
        if self.is_deleted(request.match_info["conversation"], activity_id):
            return web.json_response(
                {"error": {"code": "ActivityNotFoundInConversation", "message": "Unknown activity."}},
                status=404,
            )
        self._record(
            RecordedActivity(
                method="PUT",
                conversation_id=request.match_info["conversation"],
                activity_id=activity_id,
                reply_to_id=None,
                body=body,
                authorization=request.headers.get("Authorization"),
            )
        )
        return web.json_response({"id": activity_id})

    async def _delete(self, request: web.Request) -> web.Response:
        await self._pause(request)
        conversation_id = request.match_info["conversation"]
        activity_id = request.match_info["activity"]
        if self._refuse_deletes > 0:
            self._refuse_deletes -= 1
            return web.json_response(
                {"error": {"code": "Forbidden", "message": "The bot cannot delete this message."}},
                status=403,
            )
        self.deleted.add((conversation_id.split(";messageid=")[0], activity_id))
        self._record(
            RecordedActivity(
                method="DELETE",
                conversation_id=conversation_id,
                activity_id=activity_id,
                reply_to_id=None,
                body={},
                authorization=request.headers.get("Authorization"),
            )
        )
        return web.Response(status=200)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        await self._pause(request)
        throttled = self._throttled()
        if throttled is not None:
            return throttled
        body = await self._body(request)
        members = (body or {}).get("members")
        if not body or not isinstance(members, list) or not members or not isinstance(members[0], dict):
            return self._bad("members required")
        wanted = str(members[0].get("id") or "")
        user = self._find(wanted)
        if body.get("isGroup") is False and user is None:
            return web.json_response(
                {"error": {"code": "BadArgument", "message": "unknown member"}}, status=403
            )
        conversation_id = (
            f"a:1{next(self._conversation_ids):06d}-{(user.aad_object_id if user else wanted)[:8]}"
        )
        self.created_conversations.append({**body, "id": conversation_id})
        result: dict[str, Any] = {"id": conversation_id}
        activity = body.get("activity")
        if isinstance(activity, dict):
            activity_id = str(next(self._ids))
            self._record(
                RecordedActivity(
                    "POST", conversation_id, activity_id, None, activity, request.headers.get("Authorization")
                )
            )
            result["activityId"] = activity_id
        return web.json_response(result, status=201)

    def _find(self, user_id: str) -> FakeTeamsUser | None:
        for user in self.members:
            if user_id in (user.id, user.aad_object_id):
                return user
        return None

    async def _get_member(self, request: web.Request) -> web.Response:
        await self._pause(request)
        member_id = request.match_info["member"]
        self.member_lookups.append((request.match_info["conversation"], member_id))
        user = self._find(member_id)
        if user is not None and user not in self._roster(request.match_info["conversation"]):
            user = None
        if user is None:
            return web.json_response(
                {"error": {"code": "MemberNotFoundInConversation", "message": "The member was not found."}},
                status=404,
            )
        return web.json_response(user.as_member(self.tenant_id))

    def _list_throttled(self) -> web.Response | None:
        if self._list_throttle_remaining <= 0:
            return None
        self._list_throttle_remaining -= 1
        self.throttled += 1
        return web.json_response(
            {"error": {"code": "TooManyRequests", "message": "Too many requests"}},
            status=429,
            headers={"Retry-After": f"{self._throttle_retry_after:g}"},
        )

    async def _get_members(self, request: web.Request) -> web.Response:
        await self._pause(request)
        throttled = self._list_throttled()
        if throttled is not None:
            return throttled
        roster = self._roster(request.match_info["conversation"])
        return web.json_response([u.as_member(self.tenant_id) for u in roster])

    async def _get_paged_members(self, request: web.Request) -> web.Response:
        await self._pause(request)
        throttled = self._list_throttled()
        if throttled is not None:
            return throttled
        try:
            size = max(1, min(500, int(request.query.get("pageSize", "100"))))
            start = int(request.query.get("continuationToken") or 0)
        except ValueError:
            return self._bad("bad paging")
        self.member_list_reads.append(request.match_info["conversation"])
        roster = self._roster(request.match_info["conversation"])
        page = roster[start : start + size]
        body: dict[str, Any] = {"members": [u.as_member(self.tenant_id) for u in page]}
        if start + size < len(roster):
            body["continuationToken"] = str(start + size)
        return web.json_response(body)

    def share_file(self, name: str, content: bytes) -> dict[str, Any]:
        """A file a user sends in the 1:1 chat, as the attachment Teams puts on the message
        (its pre-authenticated `downloadUrl` served by this fake)."""
        file_id = f"file-{len(self.files) + 1:04d}"
        self.files[file_id] = content
        url = f"{self.url}_fake/files/{file_id}/{name}"
        return {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "contentUrl": f"https://contoso.sharepoint.com/personal/{file_id}/{name}",
            "name": name,
            "content": {"downloadUrl": url, "uniqueId": file_id, "fileType": name.rsplit(".", 1)[-1]},
        }

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.downloads.append(file_id)
        content = self.files.get(file_id)
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    async def _stats(self, request: web.Request) -> web.Response:
        """Counters, for a benchmark that runs this fake in another process."""
        return web.json_response(
            {
                "requests": self.request_count,
                "activities": self.activity_count,
                "throttled": self.throttled,
                "connections": len(self.client_ports),
                "member_lookups": len(self.member_lookups),
            }
        )

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        """Entra's tenant discovery document, which msal reads before asking for a token."""
        base = f"{self.tls_url}{request.match_info['tenant']}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests.append({k: str(v) for k, v in form.items() if k != "client_secret"})
        if form.get("grant_type") != "client_credentials" or not form.get("client_id"):
            return web.json_response({"error": "invalid_request"}, status=400)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "access_token": f"fake-bot-token-{len(self.token_requests)}",
            }
        )


@functools.cache
def _certificate() -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost (made once per process): (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="referent-fake-tls-"))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _tls_context() -> ssl.SSLContext:
    cert_path, key_path = _certificate()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


async def _serve(port: int, record: bool) -> None:
    connector = FakeBotConnector(record=record)
    url = await connector.start(port=port)
    print(url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await connector.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Bot Connector on 127.0.0.1 (for tests and demos).")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-record", action="store_true", help="count activities without keeping them")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, not args.no_record))


if __name__ == "__main__":
    main()
