"""The simulator's account as a user configures a real one: the `SOURCES__JIMI__*` variables of dlt.

Launchers (`make run`, `make demo`, the tests, the benchmarks) start a simulator and point the product at it
with exactly the settings a real deployment sets for its Jimi account (base URL, app key and secret, user,
password), so the product runs one code path for both and never needs to know the simulator exists.
"""

from __future__ import annotations

import json

from sources.jimi.credentials import JimiCredentials, credentials_from
from sources.jimi_sim.equipment import TAG_MODELS
from sources.jimi_sim.settings import SimSettings


def source_env(url: str, settings: SimSettings | None = None) -> dict[str, str]:
    """The environment variables that make the Jimi source read the simulator at `url` (its `/route/rest`)."""
    sim = settings or SimSettings.from_env()
    return {
        "SOURCES__JIMI__BASE_URL": url,
        "SOURCES__JIMI__APP_KEY": sim.app_key,
        "SOURCES__JIMI__APP_SECRET": sim.app_secret,
        "SOURCES__JIMI__USER_ID": sim.user_id,
        "SOURCES__JIMI__PASSWORD": sim.password,
        "SOURCES__JIMI__TAG_MODELS": json.dumps(list(TAG_MODELS)),
    }


def credentials(url: str, settings: SimSettings | None = None) -> JimiCredentials:
    """The simulator's account as the product's credentials."""
    sim = settings or SimSettings.from_env()
    return credentials_from(sim.app_key, sim.app_secret, sim.user_id, password=sim.password, base_url=url)


def source_args(url: str, settings: SimSettings | None = None) -> dict[str, object]:
    """The same account as keyword arguments of `jimi_source` and `load_jimi` (for code that builds the source
    itself): the credentials and the simulator's TAG models."""
    return {"credentials": credentials(url, settings), "tag_models": TAG_MODELS}
