"""Writing outputs: figures at a fixed number of significant digits (stable across platforms,
so the same inputs give the same bytes), and atomic file writes (a reader sees the old file or
the new one, never half of either)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
