"""Every notebook executes clean against the demo data, and is committed without outputs."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {
    "fleet_overview.ipynb",
    "trips_and_stops.ipynb",
    "alarms.ipynb",
    "obd_health.ipynb",
    "ingestion_health.ipynb",
}
WITH_MAP = {"trips_and_stops.ipynb", "alarms.ipynb"}
# Notebooks read marts only: never the raw tables, the push landing tables, staging or intermediate models.
NOT_MARTS = re.compile(r"\b(jimi_raw|jimi_push_raw|staging|intermediate|stg_\w+|int_\w+|raw_\w+)\b")


def test_notebooks_exist_when_listed():
    assert {path.name for path in NOTEBOOKS} == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs_when_read(path: Path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_says_what_it_answers_and_sets_its_scope_first_when_read(path: Path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    for name in ("START_DATE", "END_DATE", "DEVICES"):
        assert re.search(rf"^{name}\b.*=", first_code.source, re.MULTILINE), (
            f"{name} is not set in the first code cell"
        )


@pytest.mark.parametrize("path", [*NOTEBOOKS, NOTEBOOK_DIR / "marts.py"], ids=lambda path: path.name)
def test_notebook_queries_only_marts_when_read(path: Path):
    if path.suffix == ".py":
        sources = [path.read_text()]
    else:
        sources = [
            cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"
        ]
    assert not [match.group(0) for source in sources for match in NOT_MARTS.finditer(source)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_without_errors_when_executed_on_demo_data(path: Path, demo_data, monkeypatch):
    monkeypatch.setenv("JIMI_DATA_DIR", str(demo_data))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert any("image/png" in output.get("data", {}) for output in outputs)
    maps = [output for output in outputs if "leaflet" in output.get("data", {}).get("text/html", "").lower()]
    assert bool(maps) == (path.name in WITH_MAP)


def test_marts_helper_opens_only_the_published_copy_when_connected(demo_data, monkeypatch):
    import sys

    monkeypatch.setenv("JIMI_DATA_DIR", str(demo_data))
    monkeypatch.syspath_prepend(str(NOTEBOOK_DIR))
    sys.modules.pop("marts", None)
    import marts

    db = marts.connect()
    attached = dict(
        db.execute("select database_name, path from duckdb_databases() where path is not null").fetchall()
    )
    assert list(attached) == ["marts"]
    assert Path(attached["marts"]).resolve() == (demo_data / "published" / "marts.duckdb").resolve()
    with pytest.raises(duckdb.Error, match="read-only"):
        db.execute("create table marts.main.scratch as select 1")
    assert {
        "fct_trips",
        "fct_stops",
        "fct_alarms",
        "fct_obd_readings",
        "fct_fault_codes",
        "device_latest_status",
        "fct_device_freshness",
        "dim_devices",
        "fct_device_days",
    } <= set(marts.tables(db))
    # The ingestion-health models keep their schema in the published copy.
    assert [name for name in marts.tables(db) if "." in name] == [
        "health.fct_api_usage",
        "health.fct_ingest_windows",
        "health.fct_push_batches",
    ]
    assert marts.columns(db, "health.fct_api_usage")[:3] == ["api_usage_id", "usage_date", "method"]
    window = marts.scope(db)
    days = marts.query(
        db,
        "select imei, activity_date from fct_device_days where {where}",
        window,
        date_column="activity_date",
    )
    assert len(days) == db.execute("select count(*) from fct_device_days").fetchone()[0]
    one = days.imei.iloc[0]
    name = db.execute("select device_name from dim_devices where imei = ?", [one]).fetchone()[0]
    narrowed = marts.scope(db, window.end, window.end, [name])
    assert narrowed.devices == (one,) and narrowed.start == narrowed.end == window.end
    only = marts.query(
        db, "select distinct imei from fct_device_days where {where}", narrowed, date_column="activity_date"
    )
    assert set(only.imei) <= {one}
    with pytest.raises(ValueError, match="unknown devices"):
        marts.scope(db, devices=["no such van"])
