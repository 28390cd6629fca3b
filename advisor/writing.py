"""Writing outputs: figures at a fixed number of significant digits (stable across platforms,
so the same inputs give the same bytes), output paths checked before any work, and files
written all together or not at all (a reader sees the old files or the new ones, never half).

A file-system fault while writing (no space, no permission, a folder where a file should be)
is the user's to fix, so it is an InputError naming the path and the system's reason (exit 2).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from advisor.errors import InputError, Location

SIGNIFICANT_DIGITS = 8


def significant(value: float) -> float:
    """`value` at SIGNIFICANT_DIGITS significant digits."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def write_atomic(path: Path, content: str | bytes) -> None:
    path = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def reason(exc: OSError) -> str:
    """The system's reason for a failed file operation: 'No space left on device (ENOSPC)'."""
    name = errno.errorcode.get(exc.errno or 0)
    text = exc.strerror or str(exc)
    return f"{text} ({name})" if name else text


def refusal(option: str, path: Path, problem: str, fix: str) -> InputError:
    """`--option 'path' problem; fix`, the path given in full (an error's value is shortened)."""
    return InputError(Location(option), f"{str(path)!r} {problem}", fix=fix)


def check_file_target(path: Path, option: str, *, probe: bool = True) -> None:
    """Refuse, before any work, an output path that cannot take a new file: a folder, a device
    or FIFO (renaming over it would replace it), a missing or unwritable folder (`probe`: tried
    by creating a file; a batch tries its folder once)."""
    mode = _mode(path, option)
    if mode is not None and stat.S_ISDIR(mode):
        raise refusal(
            option,
            path,
            "is a folder, not a file",
            fix=f"give a file name, e.g. {path / 'proposal.json'}",
        )
    if mode is not None and not stat.S_ISREG(mode):
        raise refusal(
            option,
            path,
            "is not a regular file (a device, FIFO or socket)",
            fix="give the path of a new or ordinary file",
        )
    folder = path.parent
    folder_mode = _mode(folder, option)
    if folder_mode is None:
        raise refusal(
            option,
            path,
            "is in a folder that does not exist",
            fix="create the folder first",
        )
    if not stat.S_ISDIR(folder_mode):
        raise refusal(
            option,
            path,
            f"is in {folder}, which is a file, not a folder",
            fix="give a path in a folder",
        )
    if probe:
        _probe(folder, path, option)


def _mode(path: Path, option: str) -> int | None:
    """The file type and mode of `path` (through symlinks), None where there is nothing."""
    try:
        return path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # a name too long, a symlink loop, no permission to look
        raise refusal(
            option, path, f"cannot be used: {reason(exc)}", fix="give another path"
        ) from None


def check_folder_target(folder: Path, option: str) -> None:
    """Refuse, before any work, an output folder that is a file or cannot be created or
    written to. A missing folder is created only when the outputs are written."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == folder else f"is under {existing}, a file"
        raise refusal(
            option,
            folder,
            f"{where}, not a folder",
            fix=f"give a folder for the outputs, e.g. {option} proposals",
        )
    _probe(existing, folder, option)


def _probe(folder: Path, path: Path, option: str) -> None:
    """Create and remove a temporary file in `folder`: the one sure test that it takes files
    (permissions, a read-only or virtual file system such as /proc)."""
    try:
        fd, temp = tempfile.mkstemp(prefix=".advisor-probe.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise refusal(
            option,
            path,
            f"cannot be written: {reason(exc)}",
            fix="choose a folder you can write to",
        ) from None
    os.close(fd)
    os.unlink(temp)


def identity(path: Path) -> tuple[int, int] | str:
    """What makes two paths one file: the device and inode of an existing file (so symlinks and
    hard links are seen through), else the real path it would be created at."""
    try:
        found = os.stat(path)
    except OSError:  # not there yet
        return os.path.realpath(path)
    return (found.st_dev, found.st_ino)


def refuse_overwrites(
    outputs: Iterable[tuple[str, Path]], inputs: Iterable[tuple[str, Path]] = ()
) -> None:
    """Refuse two outputs that are one file, or an output that is one of the run's inputs.
    `outputs` are (option, path), `inputs` (what the file is, path). One look-up per path, so a
    batch of many accounts is checked in linear time."""
    sources = {identity(source): (label, source) for label, source in inputs}
    seen: dict[tuple[int, int] | str, tuple[str, Path]] = {}
    for option, path in outputs:
        key = identity(path)
        if key in sources:
            label, source = sources[key]
            raise refusal(
                option,
                path,
                f"is {label} {str(source)!r}: an output never overwrites an input",
                fix=f"give {option} another file name",
            )
        if key in seen:
            other, earlier = seen[key]
            raise refusal(
                option,
                path,
                f"is the same file as {other} {str(earlier)!r}",
                fix="give each output a file of its own",
            )
        seen[key] = (option, path)


def refuse_inside(outputs: Iterable[tuple[str, Path]], folder: Path, label: str) -> None:
    """Refuse an output inside `folder` (a model folder: a file written there would change
    the model the next run reads)."""
    root = Path(os.path.realpath(folder))
    for option, path in outputs:
        if Path(os.path.realpath(path)).is_relative_to(root):
            raise refusal(
                option,
                path,
                f"is inside {label} {str(folder)!r}, which this run reads",
                fix=f"write {option} somewhere else",
            )


class Outputs:
    """The files of one run, written together. Each goes first to a temporary file beside its
    target; only when every one is on disk are they renamed into place. A failure on the way
    leaves no output and no temporary file (and removes the folders it created)."""

    def __init__(self) -> None:
        self._files: list[tuple[Path, bytes, str]] = []

    def add(self, path: Path, content: str | bytes, option: str = "") -> None:
        """Plan `content` for `path`; `option` (e.g. '--output') names it in errors."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        self._files.append((Path(path), data, option))

    @property
    def paths(self) -> list[Path]:
        """The files planned, in the order added."""
        return [path for path, _, _ in self._files]

    def commit(self) -> None:
        temps: list[Path] = []
        created: list[Path] = []
        renamed = 0  # how many are in place
        try:
            for path, data, _ in self._files:
                _make_folders(path.parent, created)
                temps.append(_write_temp(path, data))
            for temp in temps:
                os.replace(temp, self._files[renamed][0])
                renamed += 1
        except OSError as exc:  # the file that failed: the first not written, or not renamed
            path, _, option = self._files[len(temps) if len(temps) < len(self._files) else renamed]
            done = "nothing was written" if not renamed else f"{renamed} file(s) were replaced"
            raise refusal(
                option or "output",
                path,
                f"could not be written: {reason(exc)}",
                fix=f"{done}; free space or choose another place, then run again",
            ) from None
        finally:
            if renamed < len(self._files):
                for temp in temps[renamed:]:
                    temp.unlink(missing_ok=True)
                for folder in sorted(created, key=lambda f: -len(f.parts)) if not renamed else ():
                    with contextlib.suppress(OSError):  # not empty: something else wrote there
                        folder.rmdir()  # deepest first


def _make_folders(folder: Path, created: list[Path]) -> None:
    """Create `folder` and its missing parents, adding each to `created` as it is made."""
    missing: list[Path] = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir()
        created.append(each)


def _write_temp(path: Path, data: bytes) -> Path:
    """`data` in a new temporary file beside `path`, flushed to disk, with the usual mode."""
    # The name shortened: with the random part and suffix it must stay within NAME_MAX.
    prefix = f".{path.name[:120]}."
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return temp
