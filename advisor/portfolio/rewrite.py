"""Rewriting a portfolio file in place, safely: `advisor apply`'s file handling.

The file is locked (flock) for the whole read-check-write, so two applies of one proposal cannot
both pass the sha256 check. The new text replaces the file by an atomic rename, which gives the
path a new inode: a process that waited on the old inode's lock notices and locks the new one.
A symlink is written through (the link stays a link); permission bits, owner and group are kept,
and so are CRLF line endings and a UTF-8 byte-order mark. Any failure leaves no temporary file.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import InputError, Location

MAX_BYTES = 10_000_000  # a portfolio file or a fills file; far above any real one
LOCK_WAIT = 15.0  # seconds to wait for another apply of the same file to finish


@dataclass(frozen=True)
class Locked:
    """A portfolio file held under an exclusive lock: its real path, bytes and metadata."""

    path: Path  # symlinks resolved
    raw: bytes
    mode: int  # permission bits
    uid: int
    gid: int


@contextmanager
def locked(path: Path, fix: str) -> Iterator[Locked]:
    """Hold an exclusive lock on the file `path` names (through symlinks) while in the block."""
    real = Path(os.path.realpath(path))
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        fd = _open(real, fix, shown=path)
        try:
            if not _lock(fd, deadline):
                raise InputError(
                    Location(real, field="file"),
                    f"is locked by another process (waited {LOCK_WAIT:g} s)",
                    fix="let the other apply finish, then try again",
                )
            if not _same_file(fd, real):  # replaced while we waited: lock the new one
                continue
            info = os.fstat(fd)
            raw = _read_fd(fd, real, fix, "portfolio file")
            yield Locked(real, raw, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
            return
        finally:
            os.close(fd)  # closing releases the lock


def _lock(fd: int, deadline: float) -> bool:
    """Take an exclusive flock on `fd`, waiting until `deadline` at most."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)


def replace(locked_file: Locked, text: str, check: Callable[[Path], None], backup: Path) -> None:
    """Write `text` over the locked file in its original line endings and byte-order mark,
    after `check` accepts the new file (given as a temporary path); keep the old bytes as
    `backup`. Both files get the original's mode and owner; both writes are atomic."""
    path, raw = locked_file.path, locked_file.raw
    if b"\r\n" in raw:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    data = text.encode("utf-8")
    if raw.startswith(codecs.BOM_UTF8):
        data = codecs.BOM_UTF8 + data
    if not os.access(path, os.W_OK):
        raise _write_error(path, OSError(errno.EACCES, os.strerror(errno.EACCES)))
    new = _temporary(path, data, locked_file)
    try:
        check(new)
        _write_atomic(backup, raw, locked_file)
        try:
            os.replace(new, path)
        except OSError as exc:
            raise _write_error(path, exc) from exc
    finally:
        new.unlink(missing_ok=True)


def _open(path: Path, fix: str, shown: Path | None = None) -> int:
    """A read-only descriptor of the regular file `path` (errors name `shown`, if given)."""
    where = Location(shown or path, field="file")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        known = {FileNotFoundError: "does not exist", IsADirectoryError: "is a directory"}
        problem = known.get(type(exc), f"cannot be read ({exc.strerror})")
        raise InputError(where, problem, fix=fix) from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputError(where, f"is {kind}", fix=fix)
    return fd


def _read_fd(fd: int, path: Path, fix: str, what: str) -> bytes:
    size = os.fstat(fd).st_size
    if size > MAX_BYTES:
        raise InputError(
            Location(path, field="file"),
            f"is {size:,} bytes, more than the {MAX_BYTES:,} a {what} may have",
            fix=fix,
        )
    chunks, total = [], 0
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_BYTES:  # grew while being read
                raise InputError(
                    Location(path, field="file"),
                    f"has more than the {MAX_BYTES:,} bytes a {what} may have",
                    fix=fix,
                )
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror})"
        raise InputError(Location(path, field="file"), problem, fix=fix) from exc
    return b"".join(chunks)


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _temporary(path: Path, data: bytes, like: Locked) -> Path:
    """`data` in a new file beside `path`, flushed to disk, with the mode and owner of `like`."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):  # the owner is kept where allowed (as root)
            os.chown(temp, like.uid, like.gid)
        os.chmod(temp, like.mode)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise _write_error(path, exc) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _write_atomic(path: Path, data: bytes, like: Locked) -> None:
    temp = _temporary(path, data, like)
    try:
        os.replace(temp, path)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    finally:
        temp.unlink(missing_ok=True)


def _write_error(path: Path, exc: OSError) -> InputError:
    reason = exc.strerror or str(exc)
    return InputError(
        Location(path, field="file"),
        f"cannot be written ({reason})",
        fix="check the folder's permissions and free space; the portfolio file is unchanged",
    )
