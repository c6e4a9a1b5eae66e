"""Files that hold personal data: created 0600 in 0700 directories, whatever the umask, and
the private spill where uploads and imports park rows, cleared of dead processes' leftovers
at start-up (hardening finding 9)."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import IO

from dinhdanh.store.batch import Rejected

SPILL = "spill"
# Left in the data directory itself by versions before the private spill.
_LEGACY = ("upload-*", "dinhdanh-import-*.spill")


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter: created 0700 whatever the umask. A
    directory that exists already is left as it is (it may be the operator's own)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return path
    os.chmod(path, 0o700)
    return path


def open_private(path: Path) -> IO[str]:
    """``path`` opened for writing text, mode 0600 from the first byte (truncated if it exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, mode 0600 (a partial file beside it first)."""
    partial = path.with_name(f".{path.name}.partial")
    with open_private(partial) as fh:
        fh.write(text)
    partial.replace(path)


def spill_dir(data_dir: Path) -> Path:
    """This process's private spill directory under the data directory."""
    return private_dir(private_dir(data_dir / SPILL) / str(os.getpid()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_stale_spills(data_dir: Path) -> int:
    """Remove what killed processes left in the spill (and legacy upload files in the data
    directory); returns how many entries went. A live process's spill is left alone."""
    removed = 0
    root = data_dir / SPILL
    if root.is_dir():
        for child in root.iterdir():
            pid = int(child.name) if child.name.isdigit() else None
            if pid is not None and pid != os.getpid() and _alive(pid):
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
            removed += 1
    for pattern in _LEGACY:
        for leftover in data_dir.glob(pattern):
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


class RejectsFile:
    """A rejects CSV (line, key, reasons) written row by row as they are found, mode 0600."""

    def __init__(self, path: Path, label: str) -> None:
        self._fh = open_private(path)
        self._writer = csv.writer(self._fh)
        self._writer.writerow(["line", label, "reason"])

    def write(self, rejected: Rejected) -> None:
        self._writer.writerow([rejected.line, rejected.label, rejected.reason])

    def __enter__(self) -> RejectsFile:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._fh.close()
