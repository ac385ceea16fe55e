"""Files that survive a kill, a full disk and a hostile path: atomic writes, capped reads, locks.

* **Atomic writes.** A file is written whole to a temporary name in the same folder and then
  renamed over the target: ``os.replace`` is atomic, so a reader (or a resumed run) sees the
  old file or the new one, never half of one. The temporary file gets the permissions a plain
  ``open`` would give (``0o666`` minus the umask), not ``mkstemp``'s private ``0o600``.
* **Capped reads.** User files are read only if they are regular files below a size cap, so
  ``/dev/zero``, ``/dev/urandom`` or a FIFO cannot hang the program or eat the memory, and
  text must be UTF-8 (a byte-order mark is allowed and dropped).
* **Locks.** A folder is used by one process at a time: :func:`exclusive_lock` holds an
  ``fcntl`` lock on a file inside it for as long as the work lasts; a second process gets a
  one-line error instead of mixing its files with the first one's.

Every failure a user can cause (no such file, no permission, no space left) is raised as
:class:`~taskcore.errors.TaskError` with a message that names the path.
"""

from __future__ import annotations

import errno
import io
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from taskcore.errors import TaskError

LOCK_FILE = ".lock"


def describe_os_error(err: OSError, path: str | Path, doing: str) -> str:
    """One readable sentence for an ``OSError`` met while ``doing`` something with ``path``."""
    if err.errno == errno.ENOSPC:
        return f"no space left on the device while {doing} {path}"
    reason = err.strerror or type(err).__name__
    return f"cannot {doing.replace('writing', 'write').replace('reading', 'read')} {path}: {reason}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[io.BufferedWriter], object]) -> None:
    """Call ``write(f)`` on a temporary file next to ``path``, then rename it to ``path``.

    If ``write`` raises (or the process dies) the target is untouched; on an exception the
    temporary file is removed too. An ``OSError`` (a full disk, a read-only folder) becomes a
    :class:`TaskError` naming the file.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise TaskError(describe_os_error(err, path, "writing")) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise TaskError(describe_os_error(err, path, "writing")) from None
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


def atomic_write_json(path: str | Path, document: object) -> None:
    atomic_write_text(path, json.dumps(document, indent=2, allow_nan=False) + "\n")


def clear_temp_files(folder: str | Path) -> None:
    """Remove the ``.*.tmp`` files a killed writer left behind (readers ignore them anyway)."""
    for tmp in Path(folder).rglob(".*.tmp"):
        if tmp.is_file() and not tmp.is_symlink():
            tmp.unlink(missing_ok=True)


def read_bytes_capped(path: str | Path, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of a *regular* file of at most ``max_bytes``; anything else is a TaskError."""
    path = Path(path)
    try:
        info = path.stat()
    except OSError as err:
        raise TaskError(f"cannot read {what} {str(path)!r}: {err.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise TaskError(f"{what} {str(path)!r} is not a regular file")
    if info.st_size > max_bytes:
        raise TaskError(
            f"{what} {str(path)!r} is {info.st_size:,} bytes; the limit is {max_bytes:,}"
        )
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as err:
        raise TaskError(f"cannot read {what} {str(path)!r}: {err.strerror}") from None
    if len(data) > max_bytes:  # it grew while we looked
        raise TaskError(f"{what} {str(path)!r} is larger than {max_bytes:,} bytes")
    return data


def read_text_capped(path: str | Path, max_bytes: int, what: str = "file") -> str:
    """The UTF-8 text of a regular file (a leading byte-order mark is dropped)."""
    data = read_bytes_capped(path, max_bytes, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise TaskError(
            f"{what} {str(path)!r} is not UTF-8 text (byte {err.start} is 0x{data[err.start]:02x})"
        ) from None


def read_json_capped(path: str | Path, max_bytes: int, what: str = "file") -> object:
    """A JSON document from a regular file; a corrupt one is a TaskError, not a traceback."""
    text = read_text_capped(path, max_bytes, what)
    try:
        return json.loads(text)
    except ValueError as err:
        raise TaskError(f"{what} {str(path)!r} is not valid JSON ({err})") from None


@contextmanager
def exclusive_lock(folder: str | Path, what: str = "folder") -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (a lock file inside it) for the block's duration.

    A second process that asks for the same lock while the first holds it gets a TaskError at
    once (no waiting). The lock dies with the process, so a killed run never leaves a stale one.
    """
    import fcntl

    path = Path(folder) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666 & ~_umask())
    except OSError as err:
        raise TaskError(describe_os_error(err, path, "writing")) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TaskError(
                f"{what} {folder} is in use by another synthcmp process; wait for it to finish"
            ) from None
        yield
    finally:
        os.close(fd)
