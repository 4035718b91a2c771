"""Ingest throughput: track.list answers (already fetched) to rows in DuckDB, beside DuckDB's own JSON reader.

Both sides load the same points in the same run: the pipeline side decodes every simulator answer with the
source's decoder and loads it the way a backfill loads each batch (`orchestration.engine.backfill.load_batch`: dlt
extract, normalize, load under the writer lock, merge on imei + gps_time) into a DuckDB warehouse; the
baseline writes the same points one record per line and lets DuckDB `read_json` them straight into a table.
The ratio of the two rates is what counts (the machine is shared and noisy).

A backfill loads batch after batch in one process into a warehouse that already holds the earlier ones, so
the figure is that steady state: each side first loads the oldest window (untimed: the pipeline's first
batch in a process pays ~0.3 s of one-time set-up, and DuckDB's first read its own), then each of
`--rounds` later windows is timed merging into (pipeline) or inserted into (baseline) the table holding the
earlier ones, the two sides taking turns. The ratio is of the two medians: one round's rate swings by a
quarter with whatever else the machine runs. The first, cold batch is printed too.

    python bench/ingest_ratio.py [--devices 45] [--days 7] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from starlette.testclient import TestClient

from sources import duckdb_setup
from sources.jimi.decode import decode
from sources.jimi.resources.positions import TRACK_POINTS
from sources.jimi.run import run_concurrently
from sources.jimi.signing import format_time, sign
from sources.jimi_sim.api.app import create_app
from sources.jimi_sim.settings import SimSettings

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def fetch_bodies(devices: int, days: int, before: int = 0) -> list[tuple[str, bytes]]:
    """Every device's track.list answers for `days` days ending `before` days before NOW."""
    settings = SimSettings(devices=devices, now=NOW, token_get_min_interval_s=0, max_calls_per_s=0)
    client = TestClient(create_app(settings))

    def call(method: str, **params: object) -> bytes:
        form = {
            "method": method,
            "timestamp": format_time(NOW),
            "app_key": settings.app_key,
            "sign_method": "md5",
            "v": "1.0",
            "format": "json",
            **params,
        }
        form = {key: str(value) for key, value in form.items()}
        form["sign"] = sign(form, settings.app_secret)
        return client.post("/route/rest", data=form).content

    password = hashlib.md5(settings.password.encode()).hexdigest()
    token = orjson.loads(
        call("jimi.oauth.token.get", user_id=settings.user_id, user_pwd_md5=password, expires_in=7200)
    )
    access = token["result"]["accessToken"]
    imeis = [
        d["imei"]
        for d in orjson.loads(call("jimi.user.device.list", access_token=access, target=settings.user_id))[
            "result"
        ]
    ]
    bodies = []
    for imei in imeis:
        until = NOW - timedelta(days=before)
        for day in range(days, 0, -7):
            begin = until - timedelta(days=day)
            end = min(until, begin + timedelta(days=7))
            body = call(
                "jimi.device.track.list",
                access_token=access,
                imei=imei,
                begin_time=format_time(begin),
                end_time=format_time(end),
            )
            if orjson.loads(body)["code"] == 0:  # expired devices answer 1002
                bodies.append((imei, body))
    return bodies


class Pipeline:
    """The production path: the source's decoder on worker threads, then `backfill.load_batch` (what every
    batch of a backfill goes through: extract, normalize, load under the writer lock, merge)."""

    def __init__(self, folder: Path) -> None:
        os.environ["JIMI_DATA_DIR"] = str(folder)
        from orchestration.engine.backfill import load_batch
        from orchestration.settings import current

        self.warehouse, self.load_batch, self.batches = current().warehouse_path, load_batch, 0

    def load(self, answers: list[tuple[str, bytes]]) -> tuple[float, int]:
        """Seconds to decode and load one batch, and the distinct rows it added."""

        def tables():
            # Decoded on worker threads, as the source does with the answers its workers fetch.
            tasks = [(TRACK_POINTS, body, imei) for imei, body in answers]
            for _, table in run_concurrently(tasks, decode, max_workers=4):
                yield table

        before = self._count()
        started = time.perf_counter()
        self.load_batch("track_points", tables(), f"bench_ingest_{self.batches}")
        elapsed = time.perf_counter() - started
        self.batches += 1
        return elapsed, self._count() - before

    def _count(self) -> int:
        if not self.warehouse.exists():
            return 0
        connection = duckdb_setup.connect(str(self.warehouse), read_only=True)
        try:
            return connection.execute("select count(*) from jimi_raw.track_points").fetchall()[0][0]
        finally:
            connection.close()


class Baseline:
    """DuckDB's own reader: the same points, one record per line, `read_json` straight into a table."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.files = folder, 0
        self.connection = duckdb_setup.connect(str(folder / "baseline.duckdb"))

    def load(self, answers: list[tuple[str, bytes]]) -> tuple[float, int]:
        path = _ndjson(answers, self.folder / f"points_{self.files}.ndjson")
        self.files += 1
        exists = self.connection.execute(
            "select count(*) from duckdb_tables() where table_name = 'track_points'"
        ).fetchall()[0][0]
        before = (
            self.connection.execute("select count(*) from track_points").fetchall()[0][0] if exists else 0
        )
        statement = "insert into track_points select" if exists else "create table track_points as select"
        started = time.perf_counter()
        self.connection.execute(f"{statement} * from read_json('{path}', format = 'newline_delimited')")
        elapsed = time.perf_counter() - started
        return elapsed, self.connection.execute("select count(*) from track_points").fetchall()[0][0] - before


def _ndjson(bodies: list[tuple[str, bytes]], path: Path) -> Path:
    with path.open("wb") as handle:
        for imei, body in bodies:
            for point in orjson.loads(body)["result"]:
                handle.write(orjson.dumps({"imei": imei, **point}) + b"\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=45)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        # The oldest window first: each round merges into a warehouse holding the earlier ones.
        windows = [
            fetch_bodies(args.devices, args.days, before=args.days * back)
            for back in range(args.rounds, -1, -1)
        ]
        # The simulators that answered are garbage now, in reference cycles: collected here rather than by
        # whichever timed load happens to trigger a full collection.
        gc.collect()
        pipeline, baseline = Pipeline(folder), Baseline(folder)
        cold_s, cold_rows = pipeline.load(windows[0])
        baseline.load(windows[0])
        rates: dict[str, list[float]] = {"pipeline": [], "baseline": []}
        for answers in windows[1:]:
            elapsed, rows = baseline.load(answers)
            rates["baseline"].append(rows / elapsed)
            elapsed, loaded = pipeline.load(answers)
            rates["pipeline"].append(loaded / elapsed)
        points = sum(len(orjson.loads(body)["result"]) for _, body in windows[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    pipe, base = statistics.median(rates["pipeline"]), statistics.median(rates["baseline"])
    print(
        f"points: {points} in the last window's answers, {loaded} distinct rows loaded by the pipeline; {args.rounds} rounds"
    )
    print(
        f"DuckDB read_json (newline-delimited): median {base:,.0f} rows/s, rounds {[round(r) for r in rates['baseline']]}"
    )
    print(
        f"pipeline (decode + dlt merge into DuckDB), first batch of the process: {cold_rows / cold_s:,.0f} rows/s"
    )
    print(
        f"pipeline (decode + dlt merge into DuckDB), next batches: median {pipe:,.0f} rows/s, rounds {[round(r) for r in rates['pipeline']]}"
    )
    print(f"ingest_ratio: {pipe / base:.2f} (target >= 0.3)")


if __name__ == "__main__":
    main()
