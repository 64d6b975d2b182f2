"""A fake Slack Web API on 127.0.0.1, in the style of bolt-python's mock Web API server.

It answers the methods Referent calls, records every call with its parsed parameters (form,
query or JSON bodies alike, JSON-in-form fields such as `blocks` decoded), and counts them per
method, so a test can say "chat.postMessage was called once with …". It also hands out upload
URLs for files upload v2, accepts `response_url` posts, and can rate-limit a method (N calls a
second; beyond that HTTP 429 with `Retry-After`), fail a method on purpose, or slow it down.

    api = FakeSlackApi(users=[FakeUser("U1", "Kari Nordmann", "kari@example.no")])
    await api.start()          # api.url is the SLACK_API_URL to configure
    ...
    assert api.count("chat.postMessage") == 1
    await api.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")


@dataclass
class FakeUser:
    """A Slack user as users.info returns it. Fictional people only."""

    id: str
    real_name: str
    email: str | None = None
    locale: str = "nb-NO"
    team_id: str = "T0REFERENT"
    name: str = ""  # the handle; derived from the real name when empty
    display_name: str = ""
    is_bot: bool = False
    is_stranger: bool = False  # a Slack Connect user whose organisation is not connected to ours

    def as_json(self) -> dict[str, Any]:
        handle = self.name or self.real_name.lower().replace(" ", ".")
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "display_name": self.display_name,
            "real_name_normalized": self.real_name,
        }
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": handle,
            "real_name": self.real_name,
            "deleted": False,
            "is_bot": self.is_bot,
            **({"is_stranger": True} if self.is_stranger else {}),
            "locale": self.locale,
            "tz": "Europe/Oslo",
            "profile": profile,
        }


@dataclass
class Call:
    """One accepted call: the method, its parameters, and the Authorization header it carried."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Limit:
    per_second: int
    retry_after: int
    window: deque[float] = field(default_factory=deque)


class FakeSlackApi:
    """The fake Web API. `url` is its base (`http://127.0.0.1:<port>/api/`)."""

    def __init__(
        self,
        *,
        token: str | None = None,
        team_id: str = "T0REFERENT",
        team_name: str = "Testkommune",
        bot_user_id: str = "U0REFERENT",
        bot_id: str = "B0REFERENT",
        users: Iterable[FakeUser] = (),
        auto_users: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.users: dict[str, FakeUser] = {u.id: u for u in users}
        self.auto_users = auto_users  # invent a user for any unknown id (load tests)
        self.host = host
        self.port = port
        self.calls: dict[str, list[Call]] = defaultdict(list)
        self.rate_limited: dict[str, int] = defaultdict(int)
        self.uploads: dict[str, bytes] = {}
        self.shared_files: dict[str, bytes] = {}  # files users shared, served to the bot token
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → last posted params
        self.deleted: set[tuple[str, str]] = set()  # (channel, ts) of messages chat.delete removed
        self._limits: dict[str, _Limit] = {}
        self._failures: dict[str, deque[str]] = defaultdict(deque)
        self._delays: dict[str, float] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Condition | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def base(self) -> str:
        """`http://127.0.0.1:<port>` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The Web API base URL, for SLACK_API_URL / AsyncWebClient(base_url=…)."""
        return f"{self.base}/api/"

    def response_url(self, name: str = "cmd") -> str:
        """A `response_url` to put into a slash command or click; posts to it are recorded as
        the method `response_url` with `params["_name"] == name`."""
        return f"{self.base}/response/{name}"

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/files-pri/{file_id}/{name}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackApi:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------- test knobs

    def add_user(self, user: FakeUser) -> None:
        self.users[user.id] = user

    def rate_limit(self, method: str, per_second: int, *, retry_after: int = 1) -> None:
        """Accept at most `per_second` calls of `method` in any one-second window; answer the
        rest with HTTP 429 and `Retry-After: retry_after` (counted in `rate_limited`)."""
        self._limits[method] = _Limit(per_second=per_second, retry_after=retry_after)

    def fail_next(self, method: str, error: str = "internal_error", times: int = 1) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}`."""
        self._failures[method].extend([error] * times)

    def delay(self, method: str, seconds: float) -> None:
        """Answer `method` only after `seconds` (to test deadlines)."""
        self._delays[method] = seconds

    def reset(self) -> None:
        """Forget recorded calls (users, limits and failures stay)."""
        self.calls.clear()
        self.rate_limited.clear()
        self.messages.clear()
        self.deleted.clear()
        self.uploads.clear()

    # ---------------------------------------------------------- assertions

    def count(self, method: str) -> int:
        return len(self.calls.get(method, []))

    def params(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every accepted call of `method`, in order."""
        return [c.params for c in self.calls.get(method, [])]

    def last(self, method: str) -> dict[str, Any]:
        calls = self.calls.get(method)
        if not calls:
            raise AssertionError(f"{method} was never called; calls so far: {self.summary()}")
        return calls[-1].params

    def summary(self) -> dict[str, int]:
        return {method: len(calls) for method, calls in self.calls.items() if calls}

    def all_text(self) -> str:
        """Everything the bot sent, as one JSON string, to assert that something never appears."""
        return json.dumps(
            {m: [c.params for c in calls] for m, calls in self.calls.items()}, ensure_ascii=False
        )

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until `method` has been called `count` times (work the server spawned after its
        answer); returns the parameters, or raises AssertionError with what was called instead."""
        assert self._changed is not None, "start() the fake first"
        deadline = time.monotonic() + timeout
        async with self._changed:
            while self.count(method) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{method} called {self.count(method)} time(s), wanted {count}; "
                        f"calls: {self.summary()}"
                    )
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    continue
        return self.params(method)

    # -------------------------------------------------------------- server

    async def _record(self, method: str, params: dict[str, Any], token: str | None) -> None:
        self.calls[method].append(Call(method, params, token))
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    def _throttled(self, method: str) -> _Limit | None:
        limit = self._limits.get(method)
        if limit is None:
            return None
        now = time.monotonic()
        while limit.window and limit.window[0] <= now - 1.0:
            limit.window.popleft()
        if len(limit.window) >= limit.per_second:
            return limit
        limit.window.append(now)
        return None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _parse(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or params.pop("token", None)
        if method in self._delays:
            await asyncio.sleep(self._delays[method])
        limit = self._throttled(method)
        if limit is not None:
            self.rate_limited[method] += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(limit.retry_after)},
            )
        if self.token is not None and token != self.token and method != "api.test":
            await self._record(method, params, token)
            return web.json_response({"ok": False, "error": "invalid_auth"})
        await self._record(method, params, token)
        if self._failures.get(method):
            return web.json_response({"ok": False, "error": self._failures[method].popleft()})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        result: dict[str, Any] = handler(params)
        return web.json_response(result)

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.uploads[file_id] = data
        await self._record("upload", {"file_id": file_id, "size": len(data)}, None)
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    def share_file(self, name: str, content: bytes, *, mimetype: str = "") -> dict[str, Any]:
        """A file a user shares: stored here and described as a message event's `files` entry
        describes it (its private URLs on this fake, which wants the bot token, as Slack's does)."""
        file_id = f"F{next(self._ids):08d}"
        self.shared_files[file_id] = content
        url = f"{self.base}/files-pri/{self.team_id}-{file_id}/{name}"
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype or "application/octet-stream",
            "filetype": name.rsplit(".", 1)[-1],
            "size": len(content),
            "url_private": url,
            "url_private_download": url + "?download=1",
        }

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"].rsplit("-", 1)[-1]
        auth = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        await self._record("files.download", {"file_id": file_id, "token": auth}, auth)
        if self.token is not None and auth != self.token:
            return web.Response(status=302, headers={"Location": f"{self.base}/login"})
        content = self.shared_files.get(file_id)
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    async def _response(self, request: web.Request) -> web.Response:
        try:
            params = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            params = {"_raw": await request.text()}
        if not isinstance(params, dict):
            params = {"_raw": params}
        params["_name"] = request.match_info["name"]
        await self._record("response_url", params, None)
        return web.json_response({"ok": True})

    # ------------------------------------------------------------- methods

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ids):06d}"

    def _user_json(self, user_id: str) -> dict[str, Any] | None:
        user = self.users.get(user_id)
        if user is None and self.auto_users and user_id.startswith(("U", "W")):
            user = FakeUser(
                user_id, f"Testperson {user_id}", f"{user_id.lower()}@example.no", team_id=self.team_id
            )
            self.users[user_id] = user
        return user.as_json() if user else None

    def _m_api_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": params}

    def _m_auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_name.lower()}.slack.com/",
            "team": self.team_name,
            "user": "referent",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if channel.startswith(("U", "W")):
            channel = "D" + channel[1:]
        ts = self._next_ts()
        self.messages[(channel, ts)] = params
        message = {"type": "message", "ts": ts, "text": params.get("text", ""), "bot_id": self.bot_id}
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel") or not params.get("user"):
            return {
                "ok": False,
                "error": "channel_not_found" if not params.get("channel") else "user_not_found",
            }
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        if not channel or not ts or (channel, ts) in self.deleted:
            return {"ok": False, "error": "message_not_found"}
        self.messages[(channel, ts)] = params
        return {"ok": True, "channel": channel, "ts": ts, "text": params.get("text", "")}

    def _m_chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        """Deletes a message the bot posted; another's, or one already gone, is not found."""
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        if (channel, ts) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        del self.messages[(channel, ts)]
        self.deleted.add((channel, ts))
        return {"ok": True, "channel": channel, "ts": ts}

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._user_json(str(params.get("user") or ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        if str(params.get("include_locale", "")).lower() not in ("1", "true"):
            user = {k: v for k, v in user.items() if k != "locale"}
        return {"ok": True, "user": user}

    def _m_users_lookupByEmail(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email") or "").strip().lower()
        for user in self.users.values():
            if user.email and user.email.lower() == email:
                return {"ok": True, "user": user.as_json()}
        return {"ok": False, "error": "users_not_found"}

    def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users") or "").split(",")
        if not users or not users[0]:
            return {"ok": False, "error": "users_list_not_supplied"}
        first = users[0].strip()
        if first not in self.users and not self.auto_users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + first[1:]}}

    def _view(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal":
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": {**view, "id": params.get("view_id") or f"V{next(self._ids):08d}"}}

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._view(params)

    def _m_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._view(params)

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        missing = [f.get("id") for f in files if isinstance(f, dict) and f.get("id") not in self.uploads]
        if missing:
            return {"ok": False, "error": "file_not_found"}
        return {
            "ok": True,
            "files": [
                {"id": f["id"], "title": f.get("title", ""), "size": len(self.uploads[f["id"]])}
                for f in files
            ],
        }

    def _m_reactions_add(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}


async def _parse(request: web.Request) -> dict[str, Any]:
    """Query, form or JSON body → one dict, with JSON-encoded fields (blocks, view …) decoded."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST":
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = {}
            if isinstance(body, dict):
                params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(value)
    return params
