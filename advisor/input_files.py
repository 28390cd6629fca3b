"""Reading an input file safely: a regular file only, within its size limit, never blocking.

A FIFO, a device or a directory given where a file is expected must be refused, not opened: a
FIFO opened for reading waits for a writer forever. A file far too large must be refused from
its size alone, before any of it is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from advisor.errors import InputError, Location

MB = 1024 * 1024

_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is a FIFO (named pipe), not a regular file"),
    (stat.S_ISCHR, "is a device, not a regular file"),
    (stat.S_ISBLK, "is a device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)


def read_regular(path: Path, limit: int, fix: str) -> bytes:
    """The bytes of `path`, a regular file of at most `limit` bytes; else a located InputError
    whose fix is `fix` (what the file should be)."""
    where = Location(path, field="file")
    try:
        _check(path, os.stat(path), limit, fix)  # before opening: opening a device may act
        # O_NONBLOCK: should the path become a FIFO after the check, opening it cannot hang.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(where, "does not exist", fix=fix) from None
    except OSError as exc:
        raise InputError(where, f"cannot be read ({exc.strerror})", fix=fix) from exc
    with os.fdopen(descriptor, "rb") as file:
        _check(path, os.fstat(file.fileno()), limit, fix)
        raw = file.read(limit + 1)  # a file growing after the check is still cut at the limit
    if len(raw) > limit:
        raise _too_large(path, len(raw), limit)
    return raw


def require_regular(path: Path, fix: str) -> None:
    """Refuse a FIFO, device, socket or folder before anything opens it (reading one can block
    for ever); a missing file is left to the reader, which names it."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:  # a symlink loop, a name too long...
        raise InputError(Location(path, field="file"), f"cannot be read ({exc.strerror})",
                         fix=fix) from None  # fmt: skip
    _check(path, info, info.st_size, fix)


def _check(path: Path, info: os.stat_result, limit: int, fix: str) -> None:
    for test, problem in _KINDS:
        if test(info.st_mode):
            raise InputError(Location(path, field="file"), problem, fix=fix)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(Location(path, field="file"), "is not a regular file", fix=fix)
    if info.st_size > limit:
        raise _too_large(path, info.st_size, limit)


def _too_large(path: Path, size: int, limit: int) -> InputError:
    return InputError(
        Location(path, field="file"),
        f"is {_size(size)}, larger than the {_size(limit)} such a file may have",
        fix="check that this is the right file",
    )


def _size(count: int) -> str:
    return f"{count / MB:,.1f} MB" if count >= MB else f"{count:,} bytes"
