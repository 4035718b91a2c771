"""Scoring derived trips and stops against the simulator's ground truth (`jimi-sim truth`).

A derived event matches a true one of the same device when their time intervals overlap. Precision is the
share of derived events starting in [start, end) that overlap some true event; recall the share of true
events starting in [start, end) that some derived event overlaps (either side may start outside the window,
so the window's edges cut nothing). Distance error is |derived total - true total| / true total over the
trips starting in the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from sources import duckdb_setup


@dataclass(frozen=True)
class Score:
    derived: int
    true: int
    precision: float
    recall: float

    def text(self, name: str) -> str:
        return (
            f"{name}: precision {self.precision:.4f} recall {self.recall:.4f} "
            f"({self.derived} derived, {self.true} true)"
        )


def _overlap_share(connection: duckdb.DuckDBPyConnection, counted: str, against: str) -> tuple[int, int]:
    return connection.execute(
        f"""
        select count(*) filter (where exists (
            select 1 from {against} o where o.imei = c.imei and o.started_at < c.ended_at and c.started_at < o.ended_at
        )), count(*) from {counted} c where c.in_window
        """
    ).fetchone()


def score_tables(connection: duckdb.DuckDBPyConnection, derived: str, true: str) -> Score:
    """Precision and recall of `derived` against `true` (imei, started_at, ended_at, in_window)."""
    matched_derived, derived_n = _overlap_share(connection, derived, true)
    matched_true, true_n = _overlap_share(connection, true, derived)
    return Score(
        derived=derived_n,
        true=true_n,
        precision=matched_derived / derived_n if derived_n else 1.0,
        recall=matched_true / true_n if true_n else 1.0,
    )


def load_truth(
    connection: duckdb.DuckDBPyConnection, truth_dir: Path, start: datetime, end: datetime
) -> None:
    """Tables truth_trips and truth_stops (imei, started_at, ended_at, in_window, ...): every true event,
    flagged when it starts in [start, end). A stop still going on has no end: it lasts to `end`."""
    in_window = (
        f"started_at >= timestamptz '{start.isoformat()}' and started_at < timestamptz '{end.isoformat()}'"
    )
    connection.execute(
        f"""
        create or replace temp table truth_trips as
        select *, {in_window} as in_window from (
            select cast(imei as varchar) as imei,
                   cast(start_time as timestamp) at time zone 'UTC' as started_at,
                   cast(end_time as timestamp) at time zone 'UTC' as ended_at,
                   cast(distance_km as double) as distance_km
            from read_csv('{truth_dir / "trips.csv"}', header = true, all_varchar = true)
        )
        """
    )
    connection.execute(
        f"""
        create or replace temp table truth_stops as
        select *, {in_window} as in_window from (
            select cast(imei as varchar) as imei,
                   cast(start_time as timestamp) at time zone 'UTC' as started_at,
                   coalesce(cast(nullif(end_time, '') as timestamp) at time zone 'UTC',
                            timestamptz '{end.isoformat()}') as ended_at,
                   kind
            from read_csv('{truth_dir / "stops.csv"}', header = true, all_varchar = true)
        )
        """
    )


def score_marts(
    warehouse: Path, truth_dir: Path, start: datetime, end: datetime, imeis: list[str] | None = None
) -> dict[str, object]:
    """Trip and stop precision/recall, total distance error and stop-kind agreement of the marts."""
    connection = duckdb_setup.connect()
    try:
        connection.execute(f"attach '{warehouse}' as wh (read_only)")
        load_truth(connection, truth_dir, start, end)
        in_window = f"started_at >= timestamptz '{start.isoformat()}' and started_at < timestamptz '{end.isoformat()}'"
        if imeis is not None:
            connection.execute("create temp table scored as select unnest(?::varchar[]) as imei", [imeis])
            for table in ("truth_trips", "truth_stops"):
                connection.execute(f"delete from {table} where imei not in (select imei from scored)")
        only = " and imei in (select imei from scored)" if imeis is not None else ""
        connection.execute(
            f"create temp table derived_trips as select imei, started_at, ended_at, distance_km, "
            f"{in_window} as in_window from wh.marts.fct_trips where source = 'derived'{only}"
        )
        connection.execute(
            f"create temp table derived_stops as select imei, started_at, ended_at, stop_kind, "
            f"{in_window} as in_window from wh.marts.fct_stops where source = 'derived'{only}"
        )
        trips = score_tables(connection, "derived_trips", "truth_trips")
        stops = score_tables(connection, "derived_stops", "truth_stops")
        derived_km, true_km = connection.execute(
            "select (select sum(distance_km) from derived_trips where in_window), "
            "(select sum(distance_km) from truth_trips where in_window)"
        ).fetchone()
        kind_agreement = connection.execute(
            """
            select avg(case when d.stop_kind = t.kind then 1.0 else 0.0 end)
            from derived_stops d join truth_stops t
              on t.imei = d.imei and t.started_at < d.ended_at and d.started_at < t.ended_at
            where d.in_window
            """
        ).fetchone()[0]
    finally:
        connection.close()
    derived_km, true_km = derived_km or 0.0, true_km or 0.0
    return {
        "trips": trips,
        "stops": stops,
        "derived_km": derived_km,
        "true_km": true_km,
        "distance_error": abs(derived_km - true_km) / true_km if true_km else 0.0,
        "stop_kind_agreement": kind_agreement,
    }
