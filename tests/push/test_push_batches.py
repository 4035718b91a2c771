"""Loading batches of landed push files into DuckDB exactly once: duplicates, retries, quarantine."""

from __future__ import annotations

from pathlib import Path

import pytest
from push_samples import NOW, land_samples

from orchestration import settings as project
from orchestration.engine.push_loading import load_batch, load_pending
from sources import duckdb_setup
from sources.jimi_push import settings
from sources.jimi_push.batches import batch_files, claim, claim_new_batches, relative_name

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow


def count(warehouse: Path, sql: str) -> list[tuple]:
    connection = duckdb_setup.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_load_pending_loads_each_item_once_when_delivered_twice_in_two_batches(data_dir: Path):
    root = project.current().landing_dir
    land_samples(root)
    first = load_pending()
    land_samples(root, ["pushgps", "pushfaultinfo"], now=NOW.replace(hour=9))
    second = load_pending()
    warehouse = project.current().warehouse_path
    assert (first.files_loaded, second.files_loaded, first.items, second.items) == (23, 2, 37, 5)
    assert count(
        warehouse, "select count(*), count(distinct (imei, gps_time)) from jimi_push_raw.gps_fixes"
    ) == [(2, 2)]
    assert count(warehouse, "select count(*) from jimi_push_raw.fault_codes") == [(3,)]
    assert count(warehouse, "select count(*) from jimi_push_raw.other_pushes") == [(15,)]
    assert count(
        warehouse,
        "select count(*), count(distinct batch) from jimi_push_raw.landing_files where status = 'loaded'",
    ) == [(25, 2)]
    assert len(list((root / settings.PROCESSED_DIR).rglob("*.json"))) == 25
    assert list((root / settings.CLAIMED_DIR).iterdir()) == []


def test_load_batch_moves_only_when_retried_after_files_were_loaded(data_dir: Path):
    root = project.current().landing_dir
    files = land_samples(root, ["pushgps", "pushhb"])
    claim(root, files, "b1")
    assert load_batch("b1").files_loaded == 2
    # The run died after loading but before moving its files: they are back in the claimed folder.
    for file in files:
        target = root / settings.CLAIMED_DIR / "b1" / relative_name(file)
        target.parent.mkdir(parents=True, exist_ok=True)
        (root / settings.PROCESSED_DIR / relative_name(file)).rename(target)
    (root / settings.CLAIMED_DIR / "b1" / ".attempts").write_text("1")
    retried = load_batch("b1")
    assert (retried.files_loaded, retried.files_skipped, retried.load_ids) == (0, 2, [])
    assert count(
        project.current().warehouse_path,
        "select count(*), count(distinct recorded_at), count(distinct batch) from jimi_push_raw.landing_files",
    ) == [(2, 1, 1)]
    assert sorted(relative_name(file) for file in (root / settings.PROCESSED_DIR).rglob("*.json")) == sorted(
        map(relative_name, files)
    )


def test_load_batch_quarantines_corrupt_file_and_records_it_when_unparseable(data_dir: Path):
    root = project.current().landing_dir
    good = land_samples(root, ["pushgps"])
    bad = root / "pushhb" / "2025-03-04" / "20250304T080000.000000Z-bad.json"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b'{"path": "pushhb", "items": [')
    [batch] = claim_new_batches(root)
    summary = load_batch(batch)
    assert (summary.files_loaded, summary.quarantined) == (
        1,
        {"pushhb/2025-03-04/20250304T080000.000000Z-bad.json": "not valid JSON"},
    )
    moved = root / settings.QUARANTINE_DIR / "pushhb" / "2025-03-04" / bad.name
    assert moved.read_bytes() == b'{"path": "pushhb", "items": ['
    assert moved.with_name(moved.name + ".reason.txt").read_text() == f"not valid JSON\n(batch {batch})\n"
    assert count(
        project.current().warehouse_path,
        "select landing_file, status, reason from jimi_push_raw.landing_files order by status",
    ) == [
        (relative_name(good[0]), "loaded", None),
        ("pushhb/2025-03-04/20250304T080000.000000Z-bad.json", "quarantined", "not valid JSON"),
    ]
    assert batch_files(root, batch) == []


def test_load_batch_loads_everything_when_retried_before_any_push_load(data_dir: Path):
    root = project.current().landing_dir
    files = land_samples(root, ["pushgps", "pushtem"])
    claim(root, files, "b2")
    (root / settings.CLAIMED_DIR / "b2" / ".attempts").write_text("1")  # an attempt that died before loading
    summary = load_batch("b2")
    assert (summary.files_loaded, summary.files_skipped, summary.rows_by_table["gps_fixes"]) == (2, 0, 2)
    assert count(
        project.current().warehouse_path, "select count(*) from jimi_push_raw.temperature_readings"
    ) == [(2,)]
