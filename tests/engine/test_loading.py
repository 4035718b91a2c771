"""Loading a backfill batch (`loading.load_batch`): one row per natural key, whatever the batch repeats,
however often a window is rerun, and after a killed load is resumed."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dlt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.engine.backfill import import_parquet, load_batch
from orchestration.engine.dedup import combine, unique_on
from orchestration.engine.pipelines import pipeline
from sources import duckdb_setup

T0 = datetime(2026, 11, 1, tzinfo=UTC)
SCHEMA = pa.schema(
    [
        pa.field("imei", pa.string(), nullable=False),
        pa.field("gps_time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("lat", pa.float64()),
        pa.field("lng", pa.float64()),
        pa.field("speed_kmh", pa.float64()),
    ]
)


def fixes(imei: str, seconds: list[int], speed: float = 10.0) -> pa.Table:
    """An answer as `decode` returns it: one fix per offset from T0, all at `speed`."""
    return pa.table(
        {
            "imei": [imei] * len(seconds),
            "gps_time": [T0 + timedelta(seconds=s) for s in seconds],
            "lat": [1.0 + s / 1e4 for s in seconds],
            "lng": [36.0] * len(seconds),
            "speed_kmh": [speed] * len(seconds),
        },
        schema=SCHEMA,
    )


def loaded(data_dir: Path) -> list[tuple]:
    warehouse = duckdb_setup.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return warehouse.execute(
            "select imei, gps_time, lat, lng, speed_kmh from jimi_raw.track_points order by imei, gps_time"
        ).fetchall()
    finally:
        warehouse.close()


def keys_of(rows: list[tuple]) -> list[tuple]:
    return [(imei, moment.astimezone(UTC)) for imei, moment, *_ in rows]


def test_load_batch_keeps_one_row_per_key_when_batch_repeats_a_fix(data_dir: Path):
    # The API repeats a fix inside one answer (20 s) and across answers of neighbouring windows (40 s).
    answers = [fixes("A", [0, 20, 20, 40], speed=10.0), fixes("A", [40, 60], speed=11.0), fixes("B", [0, 0])]
    summary = load_batch("track_points", answers, "batch_dups")
    rows = loaded(data_dir)
    assert keys_of(rows) == [
        ("A", T0),
        ("A", T0 + timedelta(seconds=20)),
        ("A", T0 + timedelta(seconds=40)),
        ("A", T0 + timedelta(seconds=60)),
        ("B", T0),
    ]
    assert summary.rows_by_table == {"track_points": 5}
    # Of repeated fixes the one given last wins (the newer answer), as a later load replaces an earlier one.
    assert [speed for imei, moment, *_, speed in rows if moment == T0 + timedelta(seconds=40)] == [11.0]


def test_load_batch_adds_no_rows_when_window_rerun(data_dir: Path):
    answers = [fixes("A", [0, 20, 40]), fixes("B", [0, 20])]
    load_batch("track_points", answers, "window_0")
    first = loaded(data_dir)
    load_batch("track_points", answers, "window_0")  # the same window again (its batch has the same name)
    load_batch("track_points", answers[::-1], "window_1")  # and split into batches differently
    assert loaded(data_dir) == first
    assert len(first) == 5


def test_load_batch_replaces_rows_of_a_key_when_window_rerun_with_newer_values(data_dir: Path):
    load_batch("track_points", [fixes("A", [0, 20], speed=10.0)], "window_0")
    load_batch("track_points", [fixes("A", [20, 40], speed=12.0)], "window_0")
    speeds = {moment.astimezone(UTC): speed for _, moment, *_, speed in loaded(data_dir)}
    assert speeds == {T0: 10.0, T0 + timedelta(seconds=20): 12.0, T0 + timedelta(seconds=40): 12.0}


def test_load_batch_leaves_one_row_per_key_when_it_resumes_a_killed_load(data_dir: Path):
    load_batch("track_points", [fixes("A", [0, 20])], "window_0")
    # A killed attempt of the next batch: extracted and normalized, never loaded.
    killed = pipeline("window_1", throwaway=True)
    killed.extract(
        dlt.resource(
            [fixes("A", [40])],
            name="track_points",
            primary_key=("imei", "gps_time"),
            write_disposition={"disposition": "merge", "strategy": "delete-insert", "deduplicated": True},
        )
    )
    killed.normalize()
    # What a copy into staging replayed on resume leaves behind: a key in the table twice.
    warehouse = duckdb_setup.connect(str(data_dir / "warehouse.duckdb"))
    warehouse.execute("insert into jimi_raw.track_points select * from jimi_raw.track_points")
    warehouse.close()
    load_batch("track_points", [fixes("A", [40, 60])], "window_1")
    assert keys_of(loaded(data_dir)) == [("A", T0 + timedelta(seconds=s)) for s in (0, 20, 40, 60)]


def test_load_batch_loads_a_package_once_when_killed_between_normalize_commit_and_cleanup(data_dir: Path):
    load_batch("track_points", [fixes("A", [0, 20])], "window_0")
    # A killed attempt of the next batch that died inside normalize's commit: the package renamed into
    # load/normalized, its extracted copy not yet deleted (dlt's "do not kill this process" window).
    killed = pipeline("window_1", throwaway=True)
    killed.extract(
        dlt.resource(
            [fixes("A", [40])],
            name="track_points",
            primary_key=("imei", "gps_time"),
            write_disposition={"disposition": "merge", "strategy": "delete-insert", "deduplicated": True},
        )
    )
    extracted = Path(killed.working_dir, "normalize", "extracted")
    (package,) = extracted.iterdir()
    kept = shutil.copytree(package, data_dir / "kept-extract")
    killed.normalize()
    assert not package.exists()
    shutil.copytree(kept, package)
    assert Path(killed.working_dir, "load", "normalized", package.name).is_dir()

    load_batch("track_points", [fixes("A", [40, 60])], "window_1")
    assert keys_of(loaded(data_dir)) == [("A", T0 + timedelta(seconds=s)) for s in (0, 20, 40, 60)]
    assert not package.exists()


def test_load_batch_stores_its_schema_once_when_many_batches_of_a_resource_load(data_dir: Path):
    for number in range(3):
        load_batch("track_points", [fixes("A", [number * 20])], f"window_{number}")
    warehouse = duckdb_setup.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        versions = warehouse.execute(
            "select schema_name, count(*) from jimi_raw._dlt_version group by 1"
        ).fetchall()
        loads = warehouse.execute(
            "select schema_name, count(*) from jimi_raw._dlt_loads group by 1"
        ).fetchall()
    finally:
        warehouse.close()
    assert versions == [("jimi_batch_track_points", 1)]
    assert loads == [("jimi_batch_track_points", 3)]


def test_load_batch_recreates_a_raw_table_dropped_by_hand_when_its_schema_versions_are_deleted(
    data_dir: Path,
):
    # The recovery the README gives: dlt, finding the batch schema stored, would not create the table again.
    load_batch("track_points", [fixes("A", [0])], "window_0")
    warehouse = duckdb_setup.connect(str(data_dir / "warehouse.duckdb"))
    warehouse.execute("drop table jimi_raw.track_points")
    warehouse.execute("delete from jimi_raw._dlt_version")
    warehouse.close()
    load_batch("track_points", [fixes("A", [20])], "window_1")
    assert keys_of(loaded(data_dir)) == [("A", T0 + timedelta(seconds=20))]


def test_import_parquet_writes_row_groups_of_duckdbs_size_when_a_batch_is_large(tmp_path: Path):
    count = 300_000
    table = pa.table({"imei": pa.array(["A"] * count), "n": pa.array(range(count), pa.int64())})
    import_parquet(table, tmp_path / "batch" / "track_points.parquet")
    written = pq.ParquetFile(tmp_path / "batch" / "track_points.parquet")
    sizes = [written.metadata.row_group(index).num_rows for index in range(written.metadata.num_row_groups)]
    assert sizes == [122_880, 122_880, 54_240]
    assert written.read().equals(table)


def test_unique_on_keeps_the_last_of_each_key_in_key_order_when_nulls_repeat():
    table = pa.table(
        {"k": ["b", None, "a", "b", None, "a"], "t": [1, 1, 2, 1, 1, 2], "v": [1, 2, 3, 4, 5, 6]}
    )
    assert unique_on(table, ["k", "t"]).to_pylist() == [
        {"k": "a", "t": 2, "v": 6},
        {"k": "b", "t": 1, "v": 4},
        {"k": None, "t": 1, "v": 5},
    ]


@pytest.mark.parametrize("sizes", [[], [0], [0, 0]])
def test_combine_gives_nothing_when_answers_hold_no_rows(sizes: list[int]):
    assert combine([fixes("A", list(range(size))) for size in sizes]) is None
