"""The receiver's write-ahead journal: a group of payloads is durable after one append and one fdatasync.

Landing each payload as its own durable file costs two flushes per group (the files, then their folders),
and `syncfs` also flushes whatever else the machine has written. With the journal the committer appends
the group's envelopes to one segment file and fdatasyncs it once; the envelopes are then renamed into their
folders without a flush, and the group is acknowledged. Landed files are therefore visible at once, and
durable through the journal until a checkpoint (every `CHECKPOINT_S`, after `SEGMENT_PAYLOADS` payloads,
and on close) flushes the file system with one `syncfs` and deletes the segment.

After a crash `recover` lands, durably, every journalled payload that is nowhere under the root (waiting,
claimed, processed or quarantined): nothing acknowledged is lost and nothing is landed twice. A torn last
record (the process died mid-append) was never acknowledged and is skipped. The appending process holds
an flock on its segment, so a receiver starting beside a live one never replays the other's segment.

Record: `b"<meta length> <data length>\\n"`, meta JSON `{"folder": "<path>/<day>", "name": "<file>"}`, then
the envelope bytes.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

from . import settings

JOURNAL_DIR = ".journal"
CHECKPOINT_S = 1.0
SEGMENT_PAYLOADS = 2048

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME = re.compile(r"[0-9A-Za-z.-]+\.json")

Entry = tuple[str, str, bytes]  # (folder "<path>/<day>", file name, envelope)


def record(folder: str, name: str, data: bytes) -> bytes:
    meta = orjson.dumps({"folder": folder, "name": name})
    return b"%d %d\n" % (len(meta), len(data)) + meta + data


def read_records(blob: bytes) -> Iterator[Entry]:
    """The complete records of a segment, in order; stops at a torn or garbled tail."""
    at = 0
    while True:
        end = blob.find(b"\n", at)
        if end < 0:
            return
        try:
            meta_len, data_len = (int(part) for part in blob[at:end].split(b" "))
            meta = orjson.loads(blob[end + 1 : end + 1 + meta_len])
            folder, name = meta["folder"], meta["name"]
        except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
            return
        start = end + 1 + meta_len
        if start + data_len > len(blob) or not _safe(folder, name):
            return
        yield folder, name, blob[start : start + data_len]
        at = start + data_len


def _safe(folder: str, name: str) -> bool:
    # Replayed names become paths: only `<push path>/<YYYY-MM-DD>` and a plain `.json` file name.
    path, _, day = folder.partition("/")
    return (
        path in settings.PUSH_PATHS and _DAY.fullmatch(day) is not None and _NAME.fullmatch(name) is not None
    )


class Journal:
    """The open segment of one committer thread (not thread-safe: only that thread uses it)."""

    def __init__(self, root: Path, prefix: str) -> None:
        self.folder = os.path.join(os.fspath(root), JOURNAL_DIR)
        self.prefix = prefix
        self._fd: int | None = None
        self._path = ""
        self._segments = 0
        self.payloads = 0
        self.opened_at = 0.0

    def append(self, entries: list[Entry]) -> None:
        """Make the entries durable in the journal: one write, one fdatasync."""
        fd = self._open() if self._fd is None else self._fd
        data = memoryview(b"".join(record(*entry) for entry in entries))
        while data:
            data = data[os.write(fd, data) :]
        os.fdatasync(fd)
        self.payloads += len(entries)

    def due(self) -> bool:
        return self._fd is not None and (
            self.payloads >= SEGMENT_PAYLOADS or time.monotonic() - self.opened_at >= CHECKPOINT_S
        )

    def wait_s(self) -> float | None:
        """Seconds until the next checkpoint is due; None when nothing is journalled."""
        return None if self._fd is None else max(0.0, self.opened_at + CHECKPOINT_S - time.monotonic())

    def drop(self) -> None:
        """Delete the segment once everything in it is durable elsewhere (the caller has flushed)."""
        if self._fd is None:
            return
        os.close(self._fd)  # releases the flock
        self._fd = None
        os.unlink(self._path)
        _fsync_dir(self.folder)
        self.payloads = 0

    def _open(self) -> int:
        os.makedirs(self.folder, exist_ok=True)
        self._segments += 1
        self._path = os.path.join(self.folder, f"{self.prefix}-{self._segments:08d}.log")
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        _fsync_dir(self.folder)  # the segment's own entry must survive before anything in it is acknowledged
        _fsync_dir(os.path.dirname(self.folder))
        self._fd, self.opened_at = fd, time.monotonic()
        return fd


def recover(root: Path, land_durably) -> int:
    """Land what dead processes journalled but may not have flushed; returns how many files were landed.

    `land_durably(entries)` writes entries as landed files, durably (landing.commit's machinery).
    """
    folder = Path(root) / JOURNAL_DIR
    if not folder.is_dir():
        return 0
    landed = 0
    for segment in sorted(folder.glob("*.log")):
        try:
            fd = os.open(segment, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live receiver is still appending to it
            blob = segment.read_bytes()
            missing = [entry for entry in read_records(blob) if not _landed_anywhere(Path(root), entry)]
            if missing:
                land_durably(missing)
                landed += len(missing)
            segment.unlink()
            _fsync_dir(os.fspath(folder))
        finally:
            os.close(fd)
    return landed


def _landed_anywhere(root: Path, entry: Entry) -> bool:
    relative = f"{entry[0]}/{entry[1]}"
    try:
        # After a power cut a landed but unflushed file may exist with its data missing: land it again.
        if (root / relative).stat().st_size == len(entry[2]):
            return True
    except FileNotFoundError:
        pass
    if any((root / stage / relative).exists() for stage in (settings.PROCESSED_DIR, settings.QUARANTINE_DIR)):
        return True
    claimed = root / settings.CLAIMED_DIR
    return claimed.is_dir() and any((batch / relative).exists() for batch in claimed.iterdir())


def _fsync_dir(folder: str) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
