"""Writing accepted pushes to the landing folder so that an acknowledged payload survives a crash.

A payload becomes a file `<root>/<path>/<YYYY-MM-DD>/<received-at>-<id>.json` holding an envelope:
`{"path", "received_at", "id", "item_count", "fields", "items"}`. `items` is the `data_list` text exactly as
the sender sent it; `fields` are the other form fields (never the token). The path, the date, the stamp and
the id all come from the URL route and the receiver itself, never from the request body.

Durability: envelopes are written to `<root>/.tmp/`, renamed into their folder (atomic on POSIX), and made
durable before the receiver may answer success. Every folder created on the way is fsynced in its parent.
A crash before the rename leaves at most a temporary file, which `clean_temporary` removes.

`Committer` does this for many payloads at once (group commit): one thread takes every payload waiting.
On Linux (syncfs) the group is appended to the write-ahead journal and fdatasynced once (`journal.py`),
then renamed into place without a flush and acknowledged; a checkpoint about once a second flushes the file
system with one `syncfs` and drops the journal segment, and a committer starting after a crash lands what
the journal holds. Elsewhere each group is flushed file by file, renamed, and each folder fsynced once.
A lone payload is committed at once, with no waiting for company.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import os
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from . import settings
from .journal import Entry, Journal, recover

log = logging.getLogger("jimi_push.landing")

MAX_GROUP = 64
# File ids: a random prefix per process and a counter. uuid4 per file costs an os.urandom call each, which
# is surprisingly slow on some VMs; this is as unique and nearly free.
_ID_PREFIX = uuid.uuid4().hex[:20]
_ids = itertools.count()
_known_dirs: set[str] = set()
_known_lock = threading.Lock()
_libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None
SYNCFS_AVAILABLE = _libc is not None and hasattr(_libc, "syncfs")


def envelope(
    path: str, received_at: datetime, item_id: str, items_json: bytes, item_count: int, fields: dict[str, str]
) -> bytes:
    """The landed document. `items_json` is embedded byte for byte, so items stay exactly as received."""
    head = orjson.dumps(
        {
            "path": path,
            "received_at": received_at.strftime(settings.RECEIVED_AT_FORMAT),
            "id": item_id,
            "item_count": item_count,
            "fields": fields,
        }
    )
    return head[:-1] + b',"items":' + items_json + b"}\n"


@dataclass
class Payload:
    path: str
    items_json: bytes
    item_count: int
    fields: dict[str, str]
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    done: Future = field(default_factory=Future)

    def __post_init__(self) -> None:
        if self.path not in settings.PUSH_PATHS:
            raise ValueError(f"unknown push path {self.path!r}")
        self.item_id = f"{_ID_PREFIX}{next(_ids):012x}"
        self.name = f"{self.received_at.astimezone(UTC).strftime(settings.STAMP_FORMAT)}-{self.item_id}.json"
        self.folder_name = f"{self.path}/{self.received_at.astimezone(UTC).strftime('%Y-%m-%d')}"

    def entry(self) -> Entry:
        """(folder, file name, envelope): what is landed, and what the journal records."""
        return (
            self.folder_name,
            self.name,
            envelope(
                self.path, self.received_at, self.item_id, self.items_json, self.item_count, self.fields
            ),
        )


def _write(temporary: str, data: bytes, sync: bool, fresh: bool = True) -> None:
    # O_EXCL: a name is written once; recovery (not fresh) rewrites what the dead writer may have left.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | (os.O_EXCL if fresh else os.O_TRUNC), 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        if sync:
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def commit(root: Path, payloads: list[Payload], use_syncfs: bool = SYNCFS_AVAILABLE) -> list[Path]:
    """Make `payloads` durable in the landing folder; returns their files (same order). Blocking."""
    return [
        Path(target) for target in land_entries(root, [payload.entry() for payload in payloads], use_syncfs)
    ]


def land_entries(
    root: Path, entries: list[Entry], use_syncfs: bool = SYNCFS_AVAILABLE, fresh: bool = True
) -> list[str]:
    """Write (folder, name, envelope) entries as landed files, durably; returns their paths (same order).

    `fresh=False` when replaying a journal: the crashed receiver may have left the same temporary files.
    """
    temporaries = stage(root, entries, sync=not use_syncfs, fresh=fresh)
    if use_syncfs:
        _syncfs(os.fspath(root))
    return place(root, entries, temporaries, flush=True)


def stage(root: Path, entries: list[Entry], sync: bool, fresh: bool = True) -> list[str]:
    """Write each envelope to a temporary file (fsynced with `sync`); returns their paths.

    Paths are plain strings here: this runs for every payload, and pathlib costs more than the write.
    """
    staging = _ensure_dir(f"{os.fspath(root)}/{settings.TMP_DIR}")
    temporaries = []
    for _, name, data in entries:
        temporaries.append(f"{staging}/{name}.tmp")
        _write(temporaries[-1], data, sync=sync, fresh=fresh)
    return temporaries


def place(root: Path, entries: list[Entry], temporaries: list[str], flush: bool) -> list[str]:
    """Rename staged files into their folders (and fsync each folder with `flush`); returns their paths."""
    base = os.fspath(root)
    targets, folders = [], set()
    for (folder_name, name, _), temporary in zip(entries, temporaries, strict=True):
        folder = f"{base}/{folder_name}"
        target = f"{_ensure_dir(folder)}/{name}"
        try:
            os.replace(temporary, target)
        except FileNotFoundError:
            # The day folder vanished under us (tidied by the loader): make it again, once.
            _forget(folder)
            os.replace(temporary, f"{_ensure_dir(folder)}/{name}")
        targets.append(target)
        folders.add(folder)
    if flush:
        for folder in folders:
            fsync_dir(folder)
    return targets


def land(
    root: Path,
    path: str,
    items_json: bytes,
    item_count: int,
    fields: dict[str, str],
    now: datetime | None = None,
) -> Path:
    """Store one accepted payload durably; returns the landed file. Blocking."""
    if now is None:
        payload = Payload(path, items_json, item_count, fields)
    else:
        payload = Payload(path, items_json, item_count, fields, received_at=now)
    return commit(root, [payload])[0]


class Committer:
    """Group commit on one background thread; `submit` returns a future of the landed file.

    With syncfs (Linux) a group goes through the write-ahead journal (`journal.py`): acknowledged after one
    append and fdatasync, landed at once, flushed at the next checkpoint. Without it, each group is landed
    durably file by file. Payloads that a crashed receiver journalled are landed when a committer starts.
    """

    def __init__(self, root: Path, use_syncfs: bool = SYNCFS_AVAILABLE) -> None:
        self.root, self.use_syncfs = root, use_syncfs
        self._waiting: list[Payload] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.recovered = recover(root, lambda entries: land_entries(root, entries, use_syncfs, fresh=False))

    def submit(self, payload: Payload) -> Future:
        with self._wake:
            if self._closed:
                raise RuntimeError("the committer is closed")
            self._waiting.append(payload)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="jimi-push-commit", daemon=True)
                self._thread.start()
            self._wake.notify()
        return payload.done

    def close(self) -> None:
        """Commit what is waiting, checkpoint the journal, then stop the thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        journal = Journal(self.root, _ID_PREFIX) if self.use_syncfs else None
        while True:
            with self._wake:
                while not self._waiting and not self._closed:
                    wait_s = journal.wait_s() if journal is not None else None
                    if wait_s == 0:
                        break
                    self._wake.wait(wait_s)
                group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
                closing = self._closed and not self._waiting
            if group:
                self._commit(group, journal)
            if journal is not None and (closing or journal.due()):
                self._checkpoint(journal)
            if closing:
                return

    def _commit(self, group: list[Payload], journal: Journal | None) -> None:
        try:
            if journal is None:
                files = land_entries(self.root, [payload.entry() for payload in group], use_syncfs=False)
            else:
                entries = [payload.entry() for payload in group]
                temporaries = stage(self.root, entries, sync=False)
                journal.append(entries)  # durable from here on: only now may the group be acknowledged
                files = place(self.root, entries, temporaries, flush=False)
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any failure, or later payloads wait forever
            for payload in group:
                payload.done.set_exception(exc)
        else:
            for payload, file in zip(group, files, strict=True):
                payload.done.set_result(Path(file))

    def _checkpoint(self, journal: Journal) -> None:
        """Flush every file landed since the last checkpoint, then drop the journal segment holding them."""
        try:
            _syncfs(os.fspath(self.root))
            journal.drop()
        except OSError as exc:
            # The segment stays: a later checkpoint, or recovery at the next start, completes the work.
            log.error("journal checkpoint failed: %s", exc.strerror or type(exc).__name__)


def _syncfs(folder: str) -> None:
    """Flush the whole file system holding `folder` (everything this group wrote) in one call."""
    if _libc is None:
        raise RuntimeError("syncfs is not available on this system (SYNCFS_AVAILABLE is false)")
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _libc.syncfs(descriptor) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))
    finally:
        os.close(descriptor)


def fsync_dir(folder: str | Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _ensure_dir(folder: str) -> str:
    """Create `folder` (and parents) durably: each new entry is fsynced in its parent."""
    if folder in _known_dirs:
        return folder
    missing = []
    probe = folder
    while not os.path.isdir(probe):
        missing.append(probe)
        probe = os.path.dirname(probe)
    for created in reversed(missing):
        try:
            os.mkdir(created)
        except FileExistsError:
            pass
        fsync_dir(os.path.dirname(created))
    with _known_lock:
        _known_dirs.add(folder)
    return folder


def _forget(folder: str) -> None:
    with _known_lock:
        _known_dirs.discard(folder)


def clean_temporary(root: Path, older_than_s: float = 60.0) -> int:
    """Remove temporary files left by a crash (never acknowledged, so nothing is lost); returns how many.

    Only files older than `older_than_s`: another receiver process on the same folder may be mid-write.
    """
    folder = root / settings.TMP_DIR
    removed = 0
    if folder.is_dir():
        horizon = time.time() - older_than_s
        for leftover in folder.iterdir():
            try:
                if leftover.stat().st_mtime < horizon:
                    leftover.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
    _forget(os.fspath(folder))
    return removed
