"""What the CLI tests share: invoking the command, and checking that a mistake is one error
line and changes nothing on disk."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from click.testing import CliRunner

from neural import store
from synthcmp.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (links not followed, lock files left out): type, mode, bytes."""
    seen = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if name in (store.LOCK_FILE, ".lock"):
                continue
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                content = os.readlink(path)
            else:
                content = None
            seen[str(path.relative_to(root))] = (stat.S_IFMT(info.st_mode), info.st_mode, content)
    return seen


def assert_one_error_line(result, *words, alone: bool = True) -> str:
    """Exit code 2, no traceback, exactly one ``Error: …`` line (the only line on stderr when
    ``alone``) that contains each of ``words`` (case ignored); returns that line."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    if alone:
        assert lines == errors, result.stderr
    for word in words:
        assert word.lower() in errors[0].lower(), (word, errors[0])
    return errors[0]
