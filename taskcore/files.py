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
* **Owned folders.** :func:`owned_folder` makes (or reuses) a folder, locks it and marks it
  as ours with a marker file; ``force`` clears only a marked folder, unlinking links inside it
  and never following one; a block that fails leaves nothing half-made behind.

Every failure a user can cause (no such file, no permission, no space left) is raised as
:class:`~taskcore.errors.TaskError` with a message that names the path.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
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


TEMP_EXTRA = len(".") + len(".") + 8 + len(".tmp")  # what atomic_write's temporary name adds


def check_writable_name(path: str | Path, what: str = "file") -> None:
    """A TaskError now, before any work, if :func:`atomic_write` could not make ``path``
    because its name (or that of its temporary file) is too long for the folder's file
    system."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if len(os.fsencode(path.name)) + TEMP_EXTRA > limit:
        raise TaskError(f"{what} name {path.name[:40]}… is too long for its folder's file system "
                        f"({len(os.fsencode(path.name))} bytes; at most {limit - TEMP_EXTRA})")


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


def atomic_write_json(path: str | Path, document: object) -> None:
    atomic_write_text(path, json.dumps(document, indent=2, allow_nan=False) + "\n")


# what :func:`atomic_write` leaves when killed: "." + the target's name + mkstemp's 8 random
# characters + ".tmp" — for the kinds of file synthcmp writes
_OUR_TEMP = re.compile(r"\.[^/]+\.(json|jsonl|pt|png|html|csv|parquet)\.[a-z0-9_]{8}\.tmp")


def clear_temp_files(folder: str | Path, subfolders: tuple[str, ...] = ()) -> None:
    """Remove the temporary files a killed :func:`atomic_write` left in ``folder`` (and in its
    ``subfolders``): only names of that writer's pattern, regular files, not links — a
    ``.notes.tmp`` of the user's stays. Readers ignore them anyway."""
    for place in (Path(folder), *(Path(folder) / sub for sub in subfolders)):
        if place.is_symlink() or not place.is_dir():
            continue
        for tmp in place.iterdir():
            if _OUR_TEMP.fullmatch(tmp.name) and tmp.is_file() and not tmp.is_symlink():
                tmp.unlink(missing_ok=True)


def regular_file(path: str | Path, what: str = "file") -> os.stat_result:
    """``path``'s stat if it is a regular file (links followed); anything else — missing,
    unreadable, a FIFO, a device, a folder — is a TaskError naming ``what``."""
    try:
        info = Path(path).stat()
    except OSError as err:
        raise TaskError(f"cannot read {what} {str(path)!r}: {err.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise TaskError(f"{what} {str(path)!r} is not a regular file")
    return info


def read_bytes_capped(path: str | Path, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of a *regular* file of at most ``max_bytes``; anything else is a TaskError."""
    path = Path(path)
    info = regular_file(path, what)
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
    except RecursionError:
        raise TaskError(f"{what} {str(path)!r} is nested too deeply to be one we wrote") from None


_HELD: dict[str, int] = {}  # folders this process holds the lock of → how deep


@contextmanager
def exclusive_lock(
    folder: str | Path, what: str = "folder", required: bool = True
) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (a lock file inside it) for the block's duration.

    A second process that asks for the same lock while the first holds it gets a TaskError at
    once (no waiting). The lock dies with the process, so a killed run never leaves a stale one.
    Within one process the lock is re-entrant: a pipeline that holds its run folder can call
    the trainer, which takes the same lock. ``required=False`` goes on without a lock where no
    lock file can be made (a read-only folder: nothing will be written there either).
    """
    import fcntl

    key = os.path.realpath(folder)
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    path = Path(folder) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666 & ~_umask())
    except OSError as err:
        if required or err.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise TaskError(describe_os_error(err, path, "writing")) from None
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TaskError(
                f"{what} {folder} is in use by another synthcmp process; wait for it to finish"
            ) from None
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------
# Owned folders


def is_marked(folder: str | Path, marker: str) -> bool:
    """Provably ours: ``folder`` holds ``marker`` as a regular file (not a link to one)."""
    try:
        return stat.S_ISREG(os.lstat(Path(folder) / marker).st_mode)
    except OSError:
        return False


def _claim(folder: Path, unique: bool, error: type[TaskError]) -> tuple[Path, Path | None]:
    """The folder to use, and the topmost folder this call made (None if it made none).

    ``unique`` never reuses a folder: ``folder``, else ``folder-2``, ``folder-3``, …, each
    made by an exclusive ``mkdir``, so two runs started in the same second get two folders.
    """
    top = next((a for a in reversed([folder, *folder.parents]) if not os.path.lexists(a)), None)
    if unique and not folder.name:
        raise error(f"{folder} cannot be given a fresh name")
    names = [folder] + [folder.with_name(f"{folder.name}-{k}") for k in range(2, 1000 * unique)]
    for path in names:
        if not unique and os.path.lexists(path):
            if not path.is_dir():
                kind = "a broken symbolic link" if path.is_symlink() else "not a folder"
                raise error(f"{path} exists and is {kind}")
            return path, None
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            if unique:
                continue
            return path, None  # made a moment ago by another process: the lock decides
        except OSError as err:
            raise error(f"cannot create folder {path}: {err.strerror}") from None
        return path, (top if path == folder else path)
    raise error(f"no free folder name next to {folder}")


def _clear(folder: Path, error: type[TaskError] = TaskError) -> None:
    """Delete what ``folder`` holds but its lock file; links are unlinked, never followed."""
    try:
        for entry in os.scandir(folder):
            if entry.name == LOCK_FILE:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
    except OSError as err:
        raise error(f"cannot clear folder {folder}: {err.strerror}") from None


def _discard(folder: Path, created: Path | None) -> None:
    """Take back what a failed block wrote into ``folder``, and the folders this call made."""
    try:
        _clear(folder)
        (folder / LOCK_FILE).unlink(missing_ok=True)
    except (TaskError, OSError):
        return
    for path in [folder, *folder.parents] if created is not None else []:
        try:
            path.rmdir()
        except OSError:
            return
        if path == created:
            return


def _must_clear(folder: Path, marker: str, reuse: bool, force: bool, what: str, error) -> bool:
    """May the work go on in ``folder``? Raises if not; True if its contents must go first."""
    try:
        contents = [name for name in os.listdir(folder) if name not in (LOCK_FILE, marker)]
    except OSError as err:
        raise error(f"cannot read {what} {folder}: {err.strerror}") from None
    if not contents or reuse:
        return False
    if not force:
        raise error(
            f"{what} {folder} already exists; use --force to overwrite it "
            "or --resume to continue it"
        )
    if not is_marked(folder, marker):
        raise error(f"{folder} is not a synthcmp {what} (no {marker} in it); refusing to delete it")
    return True


@contextmanager
def owned_folder(
    folder: str | Path,
    marker: str,
    stamp: str,
    *,
    reuse: bool = False,
    force: bool = False,
    unique: bool = False,
    keep: Callable[[Path], bool] = lambda folder: False,
    what: str = "folder",
    error: type[TaskError] = TaskError,
) -> Iterator[Path]:
    """Own ``folder`` for the block, and yield its path.

    It is made if missing (``unique``: never an existing one, see :func:`_claim`) and locked
    (:func:`exclusive_lock`; re-entrant, so a caller that owns it can call code that opens it
    again). A folder with contents is used only to ``reuse`` them, or with ``force``, which
    first clears a folder that holds ``marker`` (and no other one). Then ``marker`` is written
    into it, holding ``stamp``. If the block fails and ``keep(folder)`` is false, what was
    written is taken back, and the folder too if this call made it.
    """
    folder = Path(folder)
    if force and folder.is_symlink():
        raise error(f"{folder} is a symbolic link; --force will not delete through it")
    if not unique and folder.is_dir():  # refuse before even a lock file is made in it
        _must_clear(folder, marker, reuse, force, what, error)
    folder, created = _claim(folder, unique, error)
    with exclusive_lock(folder, what):
        try:
            if _must_clear(folder, marker, reuse, force, what, error):  # again, now it is locked
                _clear(folder, error)
            atomic_write_text(folder / marker, stamp)
        except BaseException:
            if created is not None:
                _discard(folder, created)
            raise
        try:
            yield folder
        except BaseException:
            if not keep(folder):
                _discard(folder, created)
            raise
