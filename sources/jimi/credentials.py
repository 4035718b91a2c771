"""Which Jimi account to read: from dlt secrets / environment variables, else the embedded simulator.

Real accounts are configured in `.dlt/secrets.toml` under `[sources.jimi]` (or the matching
`SOURCES__JIMI__*` environment variables): `region` (ts, hk, eu, us) or `base_url`, `app_key`,
`app_secret`, `user_id`, `password` (or `password_md5`) and optionally `target`. With no app key
configured at all, everything points at the simulator with its default account, so the whole system runs
without credentials.
"""

from __future__ import annotations

import os

from sources.jimi_sim.settings import SimSettings

from . import settings
from .client import JimiCredentials
from .signing import password_md5 as md5_of


def resolve_credentials(
    *,
    region: str | None = None,
    base_url: str | None = None,
    app_key: str | None = None,
    app_secret: str | None = None,
    user_id: str | None = None,
    password: str | None = None,
    password_md5: str | None = None,
    target: str | None = None,
) -> JimiCredentials:
    """Credentials for a real account when an app key is configured, the simulator's otherwise."""
    if not app_key:
        sim = SimSettings.from_env()
        return JimiCredentials(
            base_url=base_url or os.environ.get("JIMI_SIM_URL") or settings.SIMULATOR_URL,
            app_key=sim.app_key,
            app_secret=sim.app_secret,
            user_id=sim.user_id,
            password_md5=md5_of(sim.password),
            target=target or sim.user_id,
        )
    missing = [
        name
        for name, value in (("app_secret", app_secret), ("user_id", user_id), ("password", password or password_md5))
        if not value
    ]
    if missing:
        raise ValueError(f"sources.jimi: app_key is set but {', '.join(missing)} is missing")
    if not base_url:
        if not region:
            raise ValueError("sources.jimi: set region (ts, hk, eu, us) or base_url for a real account")
        try:
            base_url = settings.REGION_URLS[region.lower()]
        except KeyError:
            raise ValueError(
                f"sources.jimi: unknown region {region!r}; use one of {sorted(settings.REGION_URLS)} or base_url"
            ) from None
    return JimiCredentials(
        base_url=base_url,
        app_key=app_key,
        app_secret=str(app_secret),
        user_id=str(user_id),
        password_md5=(password_md5 or md5_of(str(password))).lower(),
        target=target or str(user_id),
    )
