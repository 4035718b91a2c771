"""Which Jimi account to read: `[sources.jimi]` in dlt's secrets, or the `SOURCES__JIMI__*` variables.

A real account is configured in `.dlt/secrets.toml` under `[sources.jimi]` (copy
`.dlt/example.secrets.toml`) or with the matching environment variables: `app_key`, `app_secret`,
`user_id`, `password` (or its lower-case MD5 as `password_md5`), `region` (ts, hk, eu, us) or `base_url`,
and optionally `target` (the account whose devices are read; `user_id` by default). There is no default
account: with none configured, every polling run stops before it calls anything, with an error naming
these settings (`AccountNotConfigured`). The simulator is configured the same way, by whoever starts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict, Unpack

import dlt
from dlt.common.configuration import with_config
from dlt.common.configuration.exceptions import ConfigFieldMissingException

from . import settings
from .errors import JimiError
from .signing import password_md5 as md5_of

SETTINGS_HINT = (
    "set app_key, app_secret, user_id, password (or password_md5) and region (ts, hk, eu, us) or base_url "
    "under [sources.jimi] in .dlt/secrets.toml (see .dlt/example.secrets.toml), or as the environment "
    "variables SOURCES__JIMI__APP_KEY, SOURCES__JIMI__APP_SECRET, SOURCES__JIMI__USER_ID, "
    "SOURCES__JIMI__PASSWORD and SOURCES__JIMI__REGION or SOURCES__JIMI__BASE_URL"
)


class AccountNotConfigured(JimiError):
    """No usable Jimi account is configured; the message names the settings to set (never a value)."""


@dataclass(frozen=True)
class JimiCredentials:
    """Where and as whom to call the API. `repr` never shows the secret or the password hash."""

    base_url: str
    app_key: str
    app_secret: str = field(repr=False)
    user_id: str
    password_md5: str = field(repr=False)
    target: str = ""

    @property
    def account(self) -> str:
        """The account whose devices are read (the API's `target` / `account`)."""
        return self.target or self.user_id

    @property
    def account_id(self) -> str:
        """Who the data comes from, with no secret in it: `user@base_url` (and `>target` when it differs)."""
        reads = f">{self.target}" if self.target and self.target != self.user_id else ""
        return f"{self.user_id}{reads}@{self.base_url}"


@with_config(sections=("sources", "jimi"))
def configured_credentials(
    app_key: str = dlt.secrets.value,
    app_secret: str = dlt.secrets.value,
    user_id: str = dlt.secrets.value,
    password: str | None = dlt.secrets.value,
    password_md5: str | None = dlt.secrets.value,
    region: str | None = dlt.config.value,
    base_url: str | None = dlt.config.value,
    target: str | None = dlt.config.value,
) -> JimiCredentials:
    """The configured account (explicit arguments win over configuration)."""
    return credentials_from(app_key, app_secret, user_id, password, password_md5, region, base_url, target)


class ExplicitCredentials(TypedDict, total=False):
    """`configured_credentials`' keywords: each one given wins over the configuration."""

    app_key: str
    app_secret: str
    user_id: str
    password: str | None
    password_md5: str | None
    region: str | None
    base_url: str | None
    target: str | None


def load_credentials(**explicit: Unpack[ExplicitCredentials]) -> JimiCredentials:
    """`configured_credentials`, with dlt's missing-field error turned into one that names every setting."""
    try:
        return configured_credentials(**explicit)
    except ConfigFieldMissingException as exc:
        missing = ", ".join(exc.fields)
        raise AccountNotConfigured(
            f"no Jimi account is configured (missing: {missing}): {SETTINGS_HINT}"
        ) from None


def credentials_from(
    app_key: str | None,
    app_secret: str | None,
    user_id: str | None,
    password: str | None = None,
    password_md5: str | None = None,
    region: str | None = None,
    base_url: str | None = None,
    target: str | None = None,
) -> JimiCredentials:
    """Validated credentials; an incomplete account fails naming what is missing (never a value)."""
    values = (
        ("app_key", app_key),
        ("app_secret", app_secret),
        ("user_id", user_id),
        ("password", password or password_md5),
    )
    missing = [name for name, value in values if not value]
    if missing:
        raise AccountNotConfigured(
            f"the Jimi account is incomplete (missing: {', '.join(missing)}): {SETTINGS_HINT}"
        )
    if not base_url:
        if not region:
            raise AccountNotConfigured(f"the Jimi account has no region or base_url: {SETTINGS_HINT}")
        try:
            base_url = settings.REGION_URLS[region.lower()]
        except KeyError:
            raise AccountNotConfigured(
                f"sources.jimi.region {region!r} is unknown; use one of {sorted(settings.REGION_URLS)} or set base_url"
            ) from None
    return JimiCredentials(
        base_url=base_url,
        app_key=str(app_key),
        app_secret=str(app_secret),
        user_id=str(user_id),
        password_md5=(password_md5 or md5_of(str(password))).lower(),
        target=target or str(user_id),
    )
