"""Landing files: group commit in both flush modes, crash leftovers, and the moves between folders."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import orjson
import pytest

from sources.jimi_push import settings
from sources.jimi_push.batches import (
    claim,
    claimed_batches,
    finish,
    pending_files,
    record_attempt,
    tidy_landing,
)
from sources.jimi_push.journal import JOURNAL_DIR, Journal, read_records, record
from sources.jimi_push.landing import SYNCFS_AVAILABLE, Committer, Payload, clean_temporary, land
from sources.jimi_push.server import running_receiver

NOW = datetime(2025, 3, 4, 8, 0, 0, 123456, tzinfo=UTC)
FLUSHES = [False, True] if SYNCFS_AVAILABLE else [False]


@pytest.mark.parametrize("use_syncfs", FLUSHES, ids=lambda flag: "syncfs" if flag else "fsync")
def test_committer_lands_every_payload_once_when_many_arrive_together(tmp_path: Path, use_syncfs: bool):
    committer = Committer(tmp_path, use_syncfs)
    payloads = [
        Payload("pushgps" if n % 2 else "pushhb", orjson.dumps([{"n": n}]), 1, {"n": str(n)})
        for n in range(200)
    ]
    with ThreadPoolExecutor(16) as pool:
        files = list(pool.map(lambda payload: committer.submit(payload).result(timeout=30), payloads))
    committer.close()
    assert len(set(files)) == 200
    assert [orjson.loads(file.read_bytes())["items"] for file in files] == [[{"n": n}] for n in range(200)]
    assert [file.parent.parent.name for file in files] == [
        "pushgps" if n % 2 else "pushhb" for n in range(200)
    ]
    assert sorted(file for file in tmp_path.rglob("*") if file.is_file()) == sorted(files)


def test_committer_refuses_payloads_when_closed(tmp_path: Path):
    committer = Committer(tmp_path)
    committer.close()
    with pytest.raises(RuntimeError, match="closed"):
        committer.submit(Payload("pushgps", b"[{}]", 1, {}))


def test_land_names_file_by_receive_time_when_given_a_clock(tmp_path: Path):
    file = land(tmp_path, "pushtem", b'[{"tem": 4}]', 1, {}, now=NOW)
    assert file.relative_to(tmp_path).parts[:2] == ("pushtem", "2025-03-04")
    assert file.name.startswith("20250304T080000.123456Z-") and file.name.endswith(".json")
    assert orjson.loads(file.read_bytes())["received_at"] == "2025-03-04T08:00:00.123456Z"


def test_land_refuses_when_path_is_not_a_push_path(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown push path"):
        land(tmp_path, "../etc", b"[{}]", 1, {})


def test_clean_temporary_removes_only_old_leftovers_when_receiver_restarts(tmp_path: Path):
    folder = tmp_path / settings.TMP_DIR
    folder.mkdir()
    old, fresh = folder / "old.json.tmp", folder / "fresh.json.tmp"
    old.write_text("partial")
    fresh.write_text("being written by a sibling")
    os.utime(old, (time.time() - 120, time.time() - 120))
    assert clean_temporary(tmp_path) == 1
    assert sorted(path.name for path in folder.iterdir()) == ["fresh.json.tmp"]


def test_claim_gives_each_file_to_one_batch_when_two_claimers_race(tmp_path: Path):
    files = [land(tmp_path, "pushgps", b"[{}]", 1, {}) for _ in range(50)]
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda batch: claim(tmp_path, files, batch), ["a", "b"])
    assert len(first) + len(second) == 50
    assert {file.name for file in first}.isdisjoint({file.name for file in second})
    assert pending_files(tmp_path) == []


def test_finish_moves_files_and_drops_the_batch_when_run_completes(tmp_path: Path):
    good, bad = land(tmp_path, "pushgps", b"[{}]", 1, {}), land(tmp_path, "pushhb", b"[{}]", 1, {})
    claimed = claim(tmp_path, [good, bad], "b1")
    assert record_attempt(tmp_path, "b1") == 0 and record_attempt(tmp_path, "b1") == 1
    finish(tmp_path, "b1", [claimed[0]], {claimed[1]: "not valid JSON"})
    day = good.parent.name
    assert (tmp_path / settings.PROCESSED_DIR / "pushgps" / day / good.name).exists()
    quarantined = tmp_path / settings.QUARANTINE_DIR / "pushhb" / day / bad.name
    assert (
        quarantined.exists()
        and quarantined.with_name(bad.name + ".reason.txt").read_text() == "not valid JSON\n(batch b1)\n"
    )
    assert claimed_batches(tmp_path) == []


def test_tidy_landing_removes_only_empty_day_folders_older_than_yesterday(tmp_path: Path):
    for day in ("2025-03-01", "2025-03-03", "2025-03-04"):
        (tmp_path / "pushgps" / day).mkdir(parents=True)
    kept = land(tmp_path, "pushgps", b"[{}]", 1, {}, now=datetime(2025, 2, 1, tzinfo=UTC))
    tidy_landing(tmp_path, today=date(2025, 3, 4))
    assert sorted(path.name for path in (tmp_path / "pushgps").iterdir()) == [
        "2025-02-01",
        "2025-03-03",
        "2025-03-04",
    ]
    assert kept.exists()


def test_running_receiver_acknowledges_over_http_when_served(tmp_path: Path):
    with running_receiver(tmp_path / "landing", "t0ken") as base:
        answer = httpx.post(f"{base}/pushhb", data={"token": "t0ken", "data_list": '[{"deviceImei": "1"}]'})
        health = httpx.get(f"{base}/health")
    assert (answer.json(), health.json()) == ({"code": 0, "msg": "success"}, {"code": 0, "msg": "ok"})
    assert [orjson.loads(file.read_bytes())["items"] for file in pending_files(tmp_path / "landing")] == [
        [{"deviceImei": "1"}]
    ]


def _journalled(root: Path, payloads: list[Payload]) -> None:
    """What a receiver killed right after acknowledging leaves: the group in a journal segment."""
    journal = Journal(root, "crashed")
    journal.append([payload.entry() for payload in payloads])
    os.close(journal._fd)  # the process is gone: its flock with it, and nothing was checkpointed


@pytest.mark.skipif(not SYNCFS_AVAILABLE, reason="the journal is used with syncfs (Linux)")
def test_committer_acknowledges_through_journal_and_drops_it_when_checkpointed(tmp_path: Path):
    committer = Committer(tmp_path, use_syncfs=True)
    file = committer.submit(Payload("pushgps", b'[{"n": 1}]', 1, {})).result(timeout=30)
    assert orjson.loads(file.read_bytes())["items"] == [{"n": 1}]  # landed as soon as acknowledged
    [segment] = (tmp_path / JOURNAL_DIR).iterdir()
    assert read_records(segment.read_bytes()).__next__()[2] == file.read_bytes()
    deadline = time.monotonic() + 10
    while list((tmp_path / JOURNAL_DIR).iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)  # the idle committer checkpoints within CHECKPOINT_S
    assert list((tmp_path / JOURNAL_DIR).iterdir()) == []
    committer.close()


def test_committer_lands_journalled_payloads_once_when_started_after_a_crash(tmp_path: Path):
    payloads = [Payload("pushgps", orjson.dumps([{"n": n}]), 1, {}) for n in range(4)]
    _journalled(tmp_path, payloads)
    # Payload 0 was landed and already loaded before the crash, payload 1 is claimed by a loader run.
    processed = tmp_path / settings.PROCESSED_DIR / payloads[0].folder_name
    processed.mkdir(parents=True)
    (processed / payloads[0].name).write_bytes(payloads[0].entry()[2])
    claimed = tmp_path / settings.CLAIMED_DIR / "b1" / payloads[1].folder_name
    claimed.mkdir(parents=True)
    (claimed / payloads[1].name).write_bytes(payloads[1].entry()[2])
    # Payload 2 was renamed into place but a power cut lost its data; payload 3 was staged, not renamed.
    staging = tmp_path / settings.TMP_DIR
    staging.mkdir()
    (staging / f"{payloads[3].name}.tmp").write_bytes(b"partial")
    waiting = tmp_path / payloads[2].folder_name
    waiting.mkdir(parents=True)
    (waiting / payloads[2].name).write_bytes(b"")
    committer = Committer(tmp_path)
    assert committer.recovered == 2
    assert [orjson.loads(file.read_bytes())["items"] for file in pending_files(tmp_path)] == [
        [{"n": 2}],
        [{"n": 3}],
    ]
    assert list((tmp_path / JOURNAL_DIR).iterdir()) == []
    assert Committer(tmp_path).recovered == 0  # the segment is gone: a second start lands nothing again
    committer.close()


def test_recovery_skips_torn_tail_and_live_segments_when_restarted(tmp_path: Path):
    first, torn = Payload("pushhb", b"[{}]", 1, {}), Payload("pushhb", b'[{"x": 1}]', 1, {})
    _journalled(tmp_path, [first])
    [segment] = (tmp_path / JOURNAL_DIR).iterdir()
    with segment.open("ab") as handle:  # killed mid-append: never acknowledged
        handle.write(record(*torn.entry())[:-5])
    live = Journal(tmp_path, "live")
    live.append([Payload("pushtem", b"[{}]", 1, {}).entry()])  # a sibling receiver still appending
    assert Committer(tmp_path).recovered == 1
    assert [file.name for file in pending_files(tmp_path)] == [first.name]
    assert len(list((tmp_path / JOURNAL_DIR).iterdir())) == 1  # the live segment is left to its owner
    live.drop()
