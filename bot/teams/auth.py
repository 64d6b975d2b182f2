"""Bot Framework token validation for /api/messages, with the signing keys fetched off the loop.

botbuilder 4.17 validates tokens well but fetches the OpenID metadata and the JWKS with blocking
`requests` calls, without a timeout, inside the event loop; and it has no public hook for another
key source. So Referent validates the JWT itself with PyJWT, by the Bot Framework rules that
botframework-connector's ChannelValidation and EmulatorValidation apply (their public constants
are used here):

- the issuer is the Bot Framework channel (`https://api.botframework.com`) or one of the
  Emulator's Entra issuers, and the keys come from that issuer's OpenID metadata;
- the signing key is published there, is RSA, and when it lists endorsements it endorses the
  activity's channelId;
- the signature, `exp` and `nbf` hold (5 minutes of clock skew);
- a channel token's `aud` is the app id and its `serviceurl` claim is the activity's serviceUrl;
  an Emulator token names the app id in `appid` (v1.0) or `azp` (v2.0).

Keys are fetched with aiohttp under a timeout, one fetch at a time for all waiting requests,
refreshed daily, and again for an unknown key id (a rotation) at most once per cooldown. When no
key can be had the request is answered 503, which the Bot Framework retries, never 401.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from botframework.connector.auth import (
    AuthenticationConstants,
    ClaimsIdentity,
    EmulatorValidation,
    EndorsementsValidator,
)

log = logging.getLogger(__name__)

CHANNEL_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
CHANNEL_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
EMULATOR_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
EMULATOR_ISSUERS: frozenset[str] = frozenset(
    EmulatorValidation.TO_BOT_FROM_EMULATOR_TOKEN_VALIDATION_PARAMETERS.issuer
)
ALLOWED_ALGORITHMS = tuple(AuthenticationConstants.ALLOWED_SIGNING_ALGORITHMS)
CLOCK_SKEW_S = 5 * 60
KEYS_MAX_AGE_S = 24 * 3600.0
FETCH_TIMEOUT_S = 10.0
UNKNOWN_KEY_COOLDOWN_S = 5 * 60.0
FAILED_FETCH_PAUSE_S = 5.0


class Unauthorized(Exception):
    """The token is missing, malformed, or not one the Bot Framework issued for this bot (401)."""


class KeysUnavailable(Exception):
    """The signing keys cannot be fetched right now (503: the Bot Framework retries)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One published signing key: the public key and the channels that endorse it."""

    key: Any
    endorsements: tuple[str, ...]


def parse_jwks(jwks: Any) -> dict[str, SigningKey]:
    """The usable RSA keys of a JWKS document, by key id (unusable entries are skipped)."""
    entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
    keys: dict[str, SigningKey] = {}
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        try:
            jwk = jwt.PyJWK(entry)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            log.warning("skipping signing key %r: %s", entry.get("kid"), exc)
            continue
        raw = entry.get("endorsements")
        endorsements = tuple(e for e in raw if isinstance(e, str)) if isinstance(raw, list) else ()
        keys[entry["kid"]] = SigningKey(jwk.key, endorsements)
    return keys


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json(content_type=None)


class SigningKeys:
    """The keys published at one OpenID metadata URL, fetched lazily and shared by all requests.

    One fetch runs at a time and every request that needs it awaits the same task, so a burst
    costs one fetch and a hanging endpoint holds requests for at most `timeout` seconds. After a
    failed fetch, requests are told "unavailable" for a few seconds rather than each trying again.
    """

    def __init__(
        self,
        metadata_url: str,
        *,
        timeout: float = FETCH_TIMEOUT_S,
        max_age: float = KEYS_MAX_AGE_S,
        unknown_key_cooldown: float = UNKNOWN_KEY_COOLDOWN_S,
    ) -> None:
        self.metadata_url = metadata_url
        self.timeout = timeout
        self.max_age = max_age
        self.unknown_key_cooldown = unknown_key_cooldown
        self.fetches = 0
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._inflight: asyncio.Task[None] | None = None

    async def get(self, kid: str) -> SigningKey:
        """The key `kid`; raises Unauthorized for a key that is not published, KeysUnavailable
        when the keys cannot be fetched and no copy of this one is at hand."""
        if self._expired():
            try:
                await self.refresh()
            except KeysUnavailable:
                if kid not in self._keys:
                    raise
                log.warning("using signing keys older than %.0f s", self.max_age)
        key = self._keys.get(kid)
        if key is None and self._may_look_again():
            await self.refresh()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized(f"signing key {kid!r} is not published")
        return key

    def _expired(self) -> bool:
        return self._fetched_at is None or time.monotonic() - self._fetched_at > self.max_age

    def _may_look_again(self) -> bool:
        return self._fetched_at is None or time.monotonic() - self._fetched_at >= self.unknown_key_cooldown

    async def refresh(self) -> None:
        """Fetch the keys now (joining a fetch already under way)."""
        if self._failed_at is not None and time.monotonic() - self._failed_at < FAILED_FETCH_PAUSE_S:
            raise KeysUnavailable(f"signing keys from {self.metadata_url} failed moments ago")
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.create_task(self._fetch())
            # Retrieved here too, so a fetch whose waiters all went away logs nothing twice.
            self._inflight.add_done_callback(lambda task: task.cancelled() or task.exception())
        await asyncio.shield(self._inflight)

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            async with asyncio.timeout(self.timeout), aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as session:
                metadata = await _get_json(session, self.metadata_url)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                if not isinstance(jwks_uri, str):
                    raise ValueError("the OpenID metadata names no jwks_uri")
                keys = parse_jwks(await _get_json(session, jwks_uri))
            if not keys:
                raise ValueError("the JWKS holds no usable key")
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            self._failed_at = time.monotonic()
            log.warning("could not fetch Bot Framework signing keys from %s: %r", self.metadata_url, exc)
            raise KeysUnavailable(f"signing keys from {self.metadata_url} unavailable") from exc
        self._keys = keys
        self._fetched_at = time.monotonic()
        self._failed_at = None


class BotFrameworkAuth:
    """Validates the `Authorization` header of an activity for one app id."""

    def __init__(
        self,
        app_id: str,
        *,
        channel_metadata_url: str | None = None,
        emulator_metadata_url: str | None = None,
        timeout: float = FETCH_TIMEOUT_S,
        unknown_key_cooldown: float = UNKNOWN_KEY_COOLDOWN_S,
    ) -> None:
        self.app_id = app_id
        options: dict[str, float] = {"timeout": timeout, "unknown_key_cooldown": unknown_key_cooldown}
        self.channel_keys = SigningKeys(channel_metadata_url or CHANNEL_METADATA_URL, **options)
        self.emulator_keys = SigningKeys(emulator_metadata_url or EMULATOR_METADATA_URL, **options)

    async def authenticate(self, auth_header: str, *, channel_id: str, service_url: str) -> ClaimsIdentity:
        """The token's claims; raises Unauthorized or KeysUnavailable. Without an app id
        (the Emulator's unauthenticated mode) every request is anonymous."""
        if not self.app_id:
            return ClaimsIdentity({}, True, AuthenticationConstants.ANONYMOUS_AUTH_TYPE)
        token = _bearer(auth_header)
        header, unverified = _unverified(token)
        issuer = unverified.get("iss")
        if issuer == CHANNEL_ISSUER:
            keys = self.channel_keys
        elif isinstance(issuer, str) and issuer in EMULATOR_ISSUERS:
            keys = self.emulator_keys
        else:
            raise Unauthorized("the token's issuer is not the Bot Framework")
        kid = header.get("kid")
        if header.get("alg") not in ALLOWED_ALGORITHMS or not isinstance(kid, str) or not kid:
            raise Unauthorized("the token names no usable signing key")
        key = await keys.get(kid)
        if key.endorsements and not EndorsementsValidator.validate(channel_id, list(key.endorsements)):
            raise Unauthorized(f"the signing key does not endorse channel {channel_id!r}")
        try:
            claims = jwt.decode(
                token, key.key, algorithms=["RS256"], leeway=CLOCK_SKEW_S, options={"verify_aud": False}
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the token does not verify: {exc}") from exc
        if keys is self.channel_keys:
            self._check_channel(claims, service_url)
        else:
            self._check_emulator(claims)
        return ClaimsIdentity(claims, True)

    def _check_channel(self, claims: Mapping[str, Any], service_url: str) -> None:
        if claims.get(AuthenticationConstants.AUDIENCE_CLAIM) != self.app_id:
            raise Unauthorized("the token is for another app id")
        if claims.get(AuthenticationConstants.SERVICE_URL_CLAIM) != service_url:
            raise Unauthorized("the token's serviceurl is not the activity's")

    def _check_emulator(self, claims: Mapping[str, Any]) -> None:
        version = claims.get(AuthenticationConstants.VERSION_CLAIM)
        if version in ("", "1.0"):
            app_id = claims.get(AuthenticationConstants.APP_ID_CLAIM)
        elif version == "2.0":
            app_id = claims.get(AuthenticationConstants.AUTHORIZED_PARTY)
        else:
            raise Unauthorized("an Emulator token needs ver 1.0 or 2.0")
        if not app_id or app_id != self.app_id:
            raise Unauthorized("the token is for another app id")


def _bearer(auth_header: str) -> str:
    parts = auth_header.split(" ")
    if len(parts) != 2 or parts[0] != "Bearer" or not parts[1]:
        raise Unauthorized("no Bearer token")
    return parts[1]


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before the signature is checked: only to choose the key source."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"not a JWT: {exc}") from exc
    if not isinstance(claims, dict):
        raise Unauthorized("the token's claims are not an object")
    return header, claims
