"""Moving landed files through their life: landing -> claimed/<batch> -> processed or quarantine.

Every move is an atomic rename inside one file system, so a file is in exactly one place, and a file that
two claimers race for goes to exactly one of them. Folders are fsynced after moves, so a crash cannot bring
a loaded file back to the landing folder. A batch folder keeps an attempt counter: a run that finds it
already set knows an earlier attempt may have loaded some files, and checks the warehouse ledger.

Layout under the landing root (relative names `<path>/<YYYY-MM-DD>/<file>` are kept at every stage):
`<path>/...` waiting, `claimed/<batch>/<path>/...` being loaded, `processed/<path>/...` loaded,
`quarantine/<path>/...` unreadable, with `<file>.reason.txt` beside each.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from . import settings
from .landing import fsync_dir

ATTEMPTS_FILE = ".attempts"


def relative_name(file: Path) -> str:
    """`<path>/<YYYY-MM-DD>/<file>`: the same at every stage of a file's life."""
    return "/".join(file.parts[-3:])


def pending_files(root: Path) -> list[Path]:
    """Landed files not yet claimed, oldest first (names start with the receive time)."""
    found: list[Path] = []
    for path in settings.PUSH_PATHS:
        folder = root / path
        if not folder.is_dir():
            continue
        for day in folder.iterdir():
            if day.is_dir():
                found.extend(day / name for name in os.listdir(day) if name.endswith(".json"))
    return sorted(found, key=lambda file: file.name)


def new_batch_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:12]}"


def _move(files: Iterable[tuple[Path, Path]]) -> list[Path]:
    """Rename each source to its target; a source that is gone was taken by someone else and is skipped."""
    moved: list[Path] = []
    touched: set[Path] = set()
    for source, target in files:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(source, target)
        except FileNotFoundError:
            continue
        moved.append(target)
        touched.update((source.parent, target.parent))
    for folder in touched:
        if folder.is_dir():
            fsync_dir(folder)
    return moved


def claim(root: Path, files: Iterable[Path], batch: str) -> list[Path]:
    """Move `files` into `claimed/<batch>/`; returns the claimed files (those still there to take)."""
    folder = root / settings.CLAIMED_DIR / batch
    return _move((file, folder / relative_name(file)) for file in files)


def claim_new_batches(root: Path, max_files: int = settings.BATCH_MAX_FILES) -> list[str]:
    """Claim every pending file into batches of at most `max_files`; returns the new batch ids."""
    pending = pending_files(root)
    batches = []
    for start in range(0, len(pending), max(1, max_files)):
        batch = new_batch_id()
        if claim(root, pending[start : start + max_files], batch):
            batches.append(batch)
    return batches


def claimed_batches(root: Path) -> list[str]:
    folder = root / settings.CLAIMED_DIR
    return sorted(entry.name for entry in folder.iterdir() if entry.is_dir()) if folder.is_dir() else []


def batch_files(root: Path, batch: str) -> list[Path]:
    folder = root / settings.CLAIMED_DIR / batch
    return sorted(folder.glob("*/*/*.json"), key=lambda file: file.name)


def record_attempt(root: Path, batch: str) -> int:
    """Count one more attempt at loading `batch`; returns how many attempts came before this one."""
    marker = root / settings.CLAIMED_DIR / batch / ATTEMPTS_FILE
    before = int(marker.read_text() or 0) if marker.exists() else 0
    marker.write_text(str(before + 1))
    return before


def finish(root: Path, batch: str, loaded: Iterable[Path], quarantined: dict[Path, str]) -> None:
    """Move loaded files to `processed/`, unreadable ones to `quarantine/` with their reason, drop the batch."""
    for file, reason in quarantined.items():
        target = root / settings.QUARANTINE_DIR / relative_name(file)
        target.parent.mkdir(parents=True, exist_ok=True)
        note = target.with_name(target.name + settings.REASON_SUFFIX)
        note.write_text(f"{reason}\n(batch {batch})\n")
    _move((file, root / settings.QUARANTINE_DIR / relative_name(file)) for file in quarantined)
    _move((file, root / settings.PROCESSED_DIR / relative_name(file)) for file in loaded)
    folder = root / settings.CLAIMED_DIR / batch
    if not batch_files(root, batch):
        shutil.rmtree(folder, ignore_errors=True)


def tidy_landing(root: Path, today: date | None = None) -> None:
    """Remove empty day folders older than yesterday (the receiver remakes a folder it finds gone)."""
    horizon = ((today or datetime.now(UTC).date()) - timedelta(days=1)).isoformat()
    for path in settings.PUSH_PATHS:
        folder = root / path
        if not folder.is_dir():
            continue
        for day in folder.iterdir():
            if day.is_dir() and day.name < horizon:
                try:
                    day.rmdir()
                except OSError:
                    continue
