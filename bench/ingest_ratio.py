"""Ingest throughput: track.list answers (already fetched) to rows in DuckDB, beside DuckDB's own JSON reader.

Both sides load the same points in the same run: the pipeline side decodes every simulator answer with the
source's decoder and loads it the way a backfill loads each batch (`orchestration.loading.load_batch`: dlt
extract, normalize, load under the writer lock, merge on imei + gps_time) into a DuckDB warehouse; the
baseline writes the same points one record per line and lets DuckDB `read_json` them straight into a table.
The ratio of the two rates is what counts (the machine is shared and noisy).

A backfill loads batch after batch in one process into a warehouse that already holds the earlier ones, so
the figure is that steady state: each side first loads the week before the measured one (untimed: the
pipeline's first batch in a process pays ~0.3 s of one-time set-up, and DuckDB's first read its own), then
the measured week is timed merging into (pipeline) or inserted into (baseline) the table holding it. The
first, cold batch is printed too.

    python bench/ingest_ratio.py [--devices 45] [--days 7]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson
from starlette.testclient import TestClient

from sources.jimi import run_concurrently
from sources.jimi.decode import decode
from sources.jimi.shapes import TRACK_POINTS
from sources.jimi.signing import format_time, sign
from sources.jimi_sim.api import create_app
from sources.jimi_sim.settings import SimSettings

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def fetch_bodies(devices: int, days: int, before: int = 0) -> list[tuple[str, bytes]]:
    """Every device's track.list answers for `days` days ending `before` days before NOW."""
    settings = SimSettings(devices=devices, now=NOW, token_get_min_interval_s=0, max_calls_per_s=0)
    client = TestClient(create_app(settings))

    def call(method: str, **params: object) -> bytes:
        form = {"method": method, "timestamp": format_time(NOW), "app_key": settings.app_key, "sign_method": "md5",
                "v": "1.0", "format": "json", **params}  # fmt: skip
        form = {key: str(value) for key, value in form.items()}
        form["sign"] = sign(form, settings.app_secret)
        return client.post("/route/rest", data=form).content

    password = hashlib.md5(settings.password.encode()).hexdigest()
    token = orjson.loads(call("jimi.oauth.token.get", user_id=settings.user_id, user_pwd_md5=password, expires_in=7200))
    access = token["result"]["accessToken"]
    imeis = [d["imei"] for d in orjson.loads(call("jimi.user.device.list", access_token=access, target=settings.user_id))["result"]]
    bodies = []
    for imei in imeis:
        until = NOW - timedelta(days=before)
        for day in range(days, 0, -7):
            begin = until - timedelta(days=day)
            end = min(until, begin + timedelta(days=7))
            body = call("jimi.device.track.list", access_token=access, imei=imei, begin_time=format_time(begin), end_time=format_time(end))
            if orjson.loads(body)["code"] == 0:  # expired devices answer 1002
                bodies.append((imei, body))
    return bodies


def pipeline_rate(warm_up: list[tuple[str, bytes]], bodies: list[tuple[str, bytes]], folder: Path) -> tuple[float, float, int]:
    """The production path: the source's decoder on worker threads, then `loading.load_batch` (what every
    batch of a backfill goes through: extract, normalize, load under the writer lock, merge). Returns the
    cold rate (first batch of the process), the steady rate and the measured batch's distinct rows."""
    os.environ["JIMI_DATA_DIR"] = str(folder)
    from orchestration import config
    from orchestration.loading import load_batch

    def tables(answers):
        # Decoded on worker threads, as the source does with the answers its workers fetch.
        tasks = [(TRACK_POINTS, body, imei) for imei, body in answers]
        for _, table in run_concurrently(tasks, decode, max_workers=4):
            yield table

    def count() -> int:
        connection = duckdb.connect(str(config.warehouse_path()), read_only=True)
        try:
            return connection.execute("select count(*) from jimi_raw.track_points").fetchall()[0][0]
        finally:
            connection.close()

    started = time.perf_counter()
    load_batch("track_points", tables(warm_up), "bench_ingest_first")
    cold = time.perf_counter() - started
    before = count()
    started = time.perf_counter()
    load_batch("track_points", tables(bodies), "bench_ingest")
    elapsed = time.perf_counter() - started
    rows = count() - before
    return before / cold, rows / elapsed, rows


def baseline_rate(warm_up: list[tuple[str, bytes]], bodies: list[tuple[str, bytes]], folder: Path) -> tuple[float, int]:
    connection = duckdb.connect(str(folder / "baseline.duckdb"))
    first = _ndjson(warm_up, folder / "warm_up.ndjson")
    connection.execute(f"create table track_points as select * from read_json('{first}', format = 'newline_delimited')")
    path = _ndjson(bodies, folder / "points.ndjson")
    before = connection.execute("select count(*) from track_points").fetchall()[0][0]
    started = time.perf_counter()
    connection.execute(f"insert into track_points select * from read_json('{path}', format = 'newline_delimited')")
    elapsed = time.perf_counter() - started
    rows = connection.execute("select count(*) from track_points").fetchall()[0][0] - before
    connection.close()
    return rows / elapsed, rows


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
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        warm_up = fetch_bodies(args.devices, args.days, before=args.days)
        bodies = fetch_bodies(args.devices, args.days)
        baseline, baseline_rows = baseline_rate(warm_up, bodies, folder)
        cold, rate, rows = pipeline_rate(warm_up, bodies, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"points: {baseline_rows} in the measured answers, {rows} distinct rows loaded")
    print(f"DuckDB read_json (newline-delimited): {baseline:,.0f} rows/s")
    print(f"pipeline (decode + dlt merge into DuckDB), first batch of the process: {cold:,.0f} rows/s "
          f"(ratio {cold / baseline:.2f})")  # fmt: skip
    print(f"pipeline (decode + dlt merge into DuckDB), next batch: {rate:,.0f} rows/s")
    print(f"ingest_ratio: {rate / baseline:.2f} (target >= 0.3)")


if __name__ == "__main__":
    main()
