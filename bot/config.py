"""Configuration from the environment (and an optional `.env`), in the names the design fixes."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path('var') / 'referent.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Secrets are SecretStr (shown as ********** in any repr or log); read them with `secret()`.
    # DATABASE_URL may carry a password: it is kept out of the repr, and logged only redacted.
    database_url: str = Field(default_factory=default_database_url, alias="DATABASE_URL", repr=False)
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    microsoft_app_id: str = Field(default="", alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr = Field(default=SecretStr(""), alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str = Field(default="", alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str = Field(default="MultiTenant", alias="MICROSOFT_APP_TYPE")
    public_url: str | None = Field(default=None, alias="REFERENT_PUBLIC_URL")
    timezone: str = Field(default="Europe/Oslo", alias="REFERENT_TIMEZONE")
    locale: str = Field(default="nb", alias="REFERENT_LOCALE")
    # The key for signing draft links. Unset: a random key made once and kept in the database.
    link_secret: SecretStr | None = Field(default=None, alias="REFERENT_LINK_SECRET")
    link_ttl_days: float = Field(default=7, gt=0, le=366, alias="REFERENT_LINK_TTL_DAYS")
    # An access log line per request (method, path with tokens cut, status, time): off by default.
    access_log: bool = Field(default=False, alias="REFERENT_ACCESS_LOG")
    max_body_bytes: int = Field(default=256 * 1024, alias="REFERENT_MAX_BODY_BYTES")
    reminder_interval_seconds: int = Field(default=300, alias="REFERENT_REMINDER_INTERVAL")
    retention_days: int | None = Field(default=None, alias="REFERENT_RETENTION_DAYS")
    # Known send rates for reminder fan-out, "slack=20,teams=30" (messages/second), to pace
    # rather than provoke 429s. Unset: send as fast as allowed and honour Retry-After.
    reminder_rates: str = Field(default="", alias="REFERENT_REMINDER_RATES")
    # Where the Teams adapter fetches its bot token; default: Microsoft's endpoint for the app type.
    teams_token_url: str | None = Field(default=None, alias="REFERENT_TEAMS_TOKEN_URL")
    # Where the Teams adapter finds the Bot Framework's signing keys; default: Microsoft's.
    teams_openid_metadata_url: str | None = Field(default=None, alias="REFERENT_TEAMS_OPENID_METADATA_URL")
    # Unauthenticated Teams (the Bot Framework Emulator's mode, for local testing): an explicit
    # opt-in, loopback peers and loopback serviceUrls only. Without it and without
    # MICROSOFT_APP_ID, /api/messages is not mounted at all.
    teams_emulator: bool = Field(default=False, alias="REFERENT_TEAMS_EMULATOR")
    # Extra serviceUrl hosts the bot may send its token to, beyond Microsoft's (comma-separated).
    teams_service_url_hosts: str = Field(default="", alias="REFERENT_TEAMS_SERVICE_URL_HOSTS")

    def secret(self, name: str) -> str:
        """The plain value of a secret setting ("" when unset), for the one place that uses it."""
        value = getattr(self, name)
        if value is None:
            return ""
        if not isinstance(value, SecretStr):
            raise TypeError(f"{name} is not a secret setting")
        return value.get_secret_value()

    @property
    def database_url_redacted(self) -> str:
        """DATABASE_URL as it may be logged: the password replaced by ***."""
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.database_url).render_as_string(hide_password=True)
        except Exception:  # a malformed URL: say nothing of it
            return "(unparsable DATABASE_URL)"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.secret("slack_bot_token") and self.secret("slack_signing_secret"))

    @property
    def slack_api_base(self) -> str:
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"

    @property
    def teams_authenticated(self) -> bool:
        return bool(self.microsoft_app_id)

    @property
    def teams_enabled(self) -> bool:
        """Teams is served: authenticated (an app id) or, by explicit opt-in, the Emulator's mode."""
        return self.teams_authenticated or self.teams_emulator

    @property
    def teams_emulator_mode(self) -> bool:
        """Unauthenticated Teams: opted in and no app id (an app id always wins)."""
        return self.teams_emulator and not self.teams_authenticated

    def extra_service_url_hosts(self) -> frozenset[str]:
        """REFERENT_TEAMS_SERVICE_URL_HOSTS as lower-case host names."""
        return frozenset(
            h.strip().lower().rstrip(".") for h in self.teams_service_url_hosts.split(",") if h.strip()
        )

    def reminder_rate_map(self) -> dict[str, float]:
        """`reminder_rates` parsed; malformed parts are ignored rather than stopping the server."""
        rates: dict[str, float] = {}
        for part in self.reminder_rates.split(","):
            platform, _, value = part.partition("=")
            try:
                rate = float(value)
            except ValueError:
                continue
            if platform.strip() and rate > 0:
                rates[platform.strip().lower()] = rate
        return rates

    def link_key(self) -> str | None:
        """REFERENT_LINK_SECRET; None means: use the key stored in the database."""
        value = self.link_secret.get_secret_value() if self.link_secret else ""
        return value or None
