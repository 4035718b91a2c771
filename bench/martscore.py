"""Scoring derived trips and stops against the simulator's ground truth (`jimi-sim truth`).

A derived event matches a true one of the same device when their time intervals overlap. Precision is the
share of derived events that match some true event, recall the share of true events matched by some
derived one. Distance error is |derived total - true total| / true total over the trips of the window.
Only events starting in [start, end) are scored on both sides, so a window edge cuts both alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Score:
    derived: int
    true: int
    precision: float
    recall: float

    def text(self, name: str) -> str:
        return f"{name}: precision {self.precision:.4f} recall {self.recall:.4f} ({self.derived} derived, {self.true} true)"


def _score(connection: duckdb.DuckDBPyConnection, derived: str, true: str) -> Score:
    matched_derived, derived_n = connection.execute(
        f"""
        select count(*) filter (where exists (
            select 1 from {true} t where t.imei = d.imei and t.started_at < d.ended_at and d.started_at < t.ended_at
        )), count(*) from {derived} d
        """
    ).fetchone()
    matched_true, true_n = connection.execute(
        f"""
        select count(*) filter (where exists (
            select 1 from {derived} d where t.imei = d.imei and t.started_at < d.ended_at and d.started_at < t.ended_at
        )), count(*) from {true} t
        """
    ).fetchone()
    return Score(
        derived=derived_n,
        true=true_n,
        precision=matched_derived / derived_n if derived_n else 1.0,
        recall=matched_true / true_n if true_n else 1.0,
    )


def load_truth(connection: duckdb.DuckDBPyConnection, truth_dir: Path, start: datetime, end: datetime) -> None:
    """Tables truth_trips and truth_stops (imei, started_at, ended_at, ...) of events starting in the window."""
    window = f"timestamptz '{start.isoformat()}' and timestamptz '{end.isoformat()}'"
    connection.execute(
        f"""
        create or replace temp table truth_trips as
        select cast(imei as varchar) as imei,
               cast(start_time as timestamp) at time zone 'UTC' as started_at,
               cast(end_time as timestamp) at time zone 'UTC' as ended_at,
               distance_km
        from read_csv('{truth_dir / "trips.csv"}', header = true, all_varchar = true,
                      columns = {{'imei': 'varchar', 'start_time': 'varchar', 'end_time': 'varchar', 'distance_km': 'double'}})
        where (cast(start_time as timestamp) at time zone 'UTC') >= timestamptz '{start.isoformat()}'
          and (cast(start_time as timestamp) at time zone 'UTC') < timestamptz '{end.isoformat()}'
        """
    )
    connection.execute(
        f"""
        create or replace temp table truth_stops as
        select cast(imei as varchar) as imei,
               cast(start_time as timestamp) at time zone 'UTC' as started_at,
               coalesce(cast(nullif(end_time, '') as timestamp) at time zone 'UTC', timestamptz '{end.isoformat()}') as ended_at,
               kind
        from read_csv('{truth_dir / "stops.csv"}', header = true, all_varchar = true)
        where (cast(start_time as timestamp) at time zone 'UTC') between {window}
          and (cast(start_time as timestamp) at time zone 'UTC') < timestamptz '{end.isoformat()}'
        """
    )


def score_marts(
    warehouse: Path, truth_dir: Path, start: datetime, end: datetime, imeis: list[str] | None = None
) -> dict[str, object]:
    """Trip and stop precision/recall and the total distance error of the marts in `warehouse`."""
    connection = duckdb.connect()
    try:
        connection.execute(f"attach '{warehouse}' as wh (read_only)")
        load_truth(connection, truth_dir, start, end)
        bounds = f"started_at >= timestamptz '{start.isoformat()}' and started_at < timestamptz '{end.isoformat()}'"
        only = ""
        if imeis is not None:
            connection.execute("create temp table scored_devices as select unnest(?::varchar[]) as imei", [imeis])
            only = " and imei in (select imei from scored_devices)"
            connection.execute("delete from truth_trips where imei not in (select imei from scored_devices)")
            connection.execute("delete from truth_stops where imei not in (select imei from scored_devices)")
        connection.execute(
            f"create temp table derived_trips as select imei, started_at, ended_at, distance_km "
            f"from wh.marts.fct_trips where source = 'derived' and {bounds}{only}"
        )
        connection.execute(
            f"create temp table derived_stops as select imei, started_at, ended_at, stop_kind "
            f"from wh.marts.fct_stops where source = 'derived' and {bounds}{only}"
        )
        trips = _score(connection, "derived_trips", "truth_trips")
        stops = _score(connection, "derived_stops", "truth_stops")
        derived_km, true_km = connection.execute(
            "select (select sum(distance_km) from derived_trips), (select sum(distance_km) from truth_trips)"
        ).fetchone()
        kind_agreement = connection.execute(
            """
            select avg(case when d.stop_kind = t.kind then 1.0 else 0.0 end)
            from derived_stops d join truth_stops t
              on t.imei = d.imei and t.started_at < d.ended_at and d.started_at < t.ended_at
            """
        ).fetchone()[0]
    finally:
        connection.close()
    return {
        "trips": trips,
        "stops": stops,
        "derived_km": derived_km or 0.0,
        "true_km": true_km or 0.0,
        "distance_error": abs((derived_km or 0.0) - (true_km or 0.0)) / true_km if true_km else 0.0,
        "stop_kind_agreement": kind_agreement,
    }
