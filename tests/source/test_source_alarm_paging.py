"""The client's alarm paging under both shapes of docs/jimi-api.md #10, over a window past the 1000-row cap.

The spec's server takes `page_no` with `page_size` 1-100; the one a production client met also took
`page_size=500` and ignored its unknown `page`, answering the first page every time. The client sends
`page_no` and 100, so both shapes must give it the same calls and the same alarms; and a client whose page
parameter is ignored (as that production client's was) must still get every alarm: its repeated-first-page
guard splits the window until one page holds it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from sources.jimi.client import ClientTuning, JimiClient
from sources.jimi.resources.alarms_obd import fetch_alarms
from sources.jimi.signing import format_time
from sources.jimi.tokens import TokenCache
from sources.jimi_sim.account import credentials
from sources.jimi_sim.api.app import create_app
from sources.jimi_sim.api.server import running_simulator
from sources.jimi_sim.api.shapes import parse_shapes
from sources.jimi_sim.settings import EXACT, SimSettings

# Runs the simulator as a server or loads through dlt: the full tier only (`make test-fast` skips it).
pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BEGIN = NOW - timedelta(days=9)  # 12 devices: 1,277 alarms, past the cap of 1000 rows per window
DEVICES = 12


class Recorder:
    """Passes the fetcher's calls to the product client, noting each one's window and page; `page_name`
    renames `page_no` (the production client of discrepancy 10 sent `page`)."""

    def __init__(self, client: JimiClient, page_name: str) -> None:
        self.client, self.page_name = client, page_name
        self.calls: list[tuple[datetime, datetime, int]] = []

    def call(self, method, params, context="", decode=None):
        params = dict(params)
        page = params.pop("page_no")
        params[self.page_name] = page
        self.calls.append((params["begin_time"], params["end_time"], page))
        return self.client.call(method, params, context, decode)


def fetch(shape: str, page_name: str, folder) -> tuple[list[tuple], set[tuple], Recorder]:
    """(alarms fetched, the simulator's ground truth, the calls) for the first DEVICES devices over BEGIN-NOW."""
    settings = SimSettings(
        devices=DEVICES,
        now=NOW,
        shapes=parse_shapes(shape),
        max_calls_per_s=0.0,
        token_get_min_interval_s=0.0,
        **EXACT,
    )
    app = create_app(settings)
    fleet = app.state.sim.fleet
    imeis = [device.imei for device in fleet.devices]
    with running_simulator(settings, app=app) as url:
        tokens = TokenCache(folder, shape, clock=lambda: NOW, min_login_interval_s=0)
        tuning = ClientTuning(backoff_s=0, calls_per_second=0)
        with JimiClient(credentials(url, settings), tokens, tuning, clock=lambda: NOW) as client:
            recorder = Recorder(client, page_name)
            tables = fetch_alarms(recorder, imeis, BEGIN, NOW)  # type: ignore[arg-type]
    fetched = [
        (row["imei"], format_time(row["alarm_time"]), row["alarm_type_id"])
        for table in tables
        for row in table.select(["imei", "alarm_time", "alarm_type_id"]).to_pylist()
    ]
    truth = {
        (imei, format_time(datetime.fromtimestamp(alarm.epoch, UTC)), alarm.type_id)
        for imei in imeis
        for alarm in fleet.records.alarms(imei, BEGIN, NOW + timedelta(seconds=1))
    }
    return fetched, truth, recorder


@pytest.fixture(scope="module")
def loads(tmp_path_factory) -> dict[tuple[str, str], tuple[list[tuple], set[tuple], Recorder]]:
    runs = [("strict", "page_no"), ("lenient", "page_no"), ("lenient", "page")]
    return {
        (shape, page): fetch(f"alarm_paging={shape}", page, tmp_path_factory.mktemp(f"{shape}-{page}"))
        for shape, page in runs
    }


@pytest.mark.parametrize("shape", ["strict", "lenient"])
def test_alarms_page_to_the_cap_then_read_each_half_when_either_paging_shape(loads, shape):
    fetched, truth, recorder = loads[(shape, "page_no")]
    assert len(truth) == 1277
    assert sorted(fetched) == sorted(truth)
    middle = BEGIN + (NOW - BEGIN) / 2
    # ten full pages reach the cap (the eleventh is empty), so each half is read again: 500-599 and 700-799
    assert recorder.calls == (
        [(BEGIN, NOW, n) for n in range(1, 12)]
        + [(BEGIN, middle, n) for n in range(1, 7)]
        + [(middle, NOW, n) for n in range(1, 9)]
    )


def test_alarms_make_the_same_calls_and_rows_under_both_paging_shapes(loads):
    strict, lenient = loads[("strict", "page_no")], loads[("lenient", "page_no")]
    assert strict[0] == lenient[0] and strict[2].calls == lenient[2].calls


def test_alarms_split_until_one_page_holds_a_window_when_the_server_ignores_the_page_parameter(loads):
    fetched, truth, recorder = loads[("lenient", "page")]
    assert sorted(fetched) == sorted(truth) and len(truth) == 1277
    assert recorder.calls[:3] == [(BEGIN, NOW, 1), (BEGIN, NOW, 2), (BEGIN, BEGIN + (NOW - BEGIN) / 2, 1)]
    pages: dict[tuple[datetime, datetime], list[int]] = {}
    for begin, end, page in recorder.calls:
        pages.setdefault((begin, end), []).append(page)
    # a full first page was asked again (page 2), came back the same, and its window was halved
    repeated = [window for window, asked in pages.items() if asked == [1, 2]]
    read = sorted(window for window, asked in pages.items() if asked == [1])
    assert len(repeated) + len(read) == len(pages) and len(read) == len(repeated) + 1
    for begin, end in repeated:
        middle = begin + (end - begin) / 2
        assert (begin, middle) in pages and (middle, end) in pages
    # the windows read in one page cover the whole window, end to end
    assert read[0][0] == BEGIN and read[-1][1] == NOW
    assert all(left[1] == right[0] for left, right in pairwise(read))
