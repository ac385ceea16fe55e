"""A hostile user at the command line: every mistake is one ``Error: …`` line, never a traceback
or lost data.

Each case goes through the real CLI (click's runner, in this process; one test uses a second
real process) in a scratch folder that holds a canary folder, a run folder and a foreign
folder. The properties, for every case: exit code 2; exactly one line on stderr that starts
with ``Error: `` (and, when the mistake is caught before anything starts, nothing else on
stderr); no traceback; and no file anywhere changed, made or deleted (lock files aside),
so nothing half-made is left either.
"""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import pickle
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cli_helpers import assert_one_error_line, invoke, snapshot

from neural import default_config, store, train
from synthcmp.render.html import check_html_target
from taskcore.errors import TaskError
from taskcore.registry import get_task

TRAIN = ["--p", "7", "--steps", "6", "--frac", "0.5"]
TINY = dict(steps=20, train_frac=0.5, d_model=16, d_mlp=32, threads=1, log_every=5, checkpoints=4)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A tiny finished run (p = 7, 20 steps, 4 checkpoints), copied by the tests that damage it."""
    run_dir = tmp_path_factory.mktemp("base") / "run"
    train(get_task("modadd", p=7), default_config(**TINY), run_dir=run_dir)
    return run_dir


@pytest.fixture
def place(tmp_path, monkeypatch, finished_run) -> Path:
    """A scratch working folder: a canary folder, a finished run, a folder that is not a run."""
    monkeypatch.chdir(tmp_path)
    canary = tmp_path / "canary"
    canary.mkdir()
    (canary / "notes.txt").write_text("precious")
    (canary / "data.csv").write_text("x,y,out\n0,0,0\n")
    (canary / "table.csv").write_text("x,y,out\n0,0,1\n0,1,0\n1,0,0\n1,1,1\n")
    shutil.copytree(finished_run, tmp_path / "run", symlinks=True)
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("...")
    (foreign / "config.json").write_text("{}")  # looks like a run folder; is not one
    (foreign / "state.pt").write_bytes(b"")
    return tmp_path


@pytest.fixture
def alarm():
    """Fail (instead of hanging for ever) if a case blocks, e.g. on a FIFO."""

    def timeout(signum, frame):
        raise TimeoutError("the command hung")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def write(name: str, data: bytes):
    def make(tmp: Path) -> str:
        (tmp / name).write_bytes(data)
        return name

    return make


def fifo(tmp: Path) -> str:
    os.mkfifo(tmp / "pipe.csv")
    return "pipe.csv"


def sparse(tmp: Path) -> str:
    with open(tmp / "huge.csv", "wb") as f:
        f.truncate(200 * 2**20)
    return "huge.csv"


def many_rows(tmp: Path) -> str:
    (tmp / "rows.csv").write_bytes(b"x,y,out\n" + b"0,0,0\n" * (1024**2 + 1))
    return "rows.csv"


def link_to_dev_zero(tmp: Path) -> str:
    (tmp / "zero.csv").symlink_to("/dev/zero")
    return "zero.csv"


TABLES = {
    "not-utf8": (write("latin1.csv", b"x,y,out\n0,0,\xe9\n"), "UTF-8"),
    "nul-bytes": (write("nul.csv", b"0,1\x00\n1,0\n"), "NUL"),
    "empty": (write("empty.csv", b""), "empty"),
    "cell-beyond-int64": (write("big.csv", b"x,y,out\n0,0,99999999999999999999999\n"), "range"),
    "coordinate-1024": (write("wide.csv", b"x,y,out\n0,0,0\n1024,0,1\n"), "range"),
    "coordinate-1e15": (write("far.csv", b"x,y,out\n0,0,0\n1000000000000000,0,1\n"), "range"),
    "negative-coordinate": (write("neg.csv", b"x,y,out\n-1,0,0\n"), "non-negative"),
    "float-cell": (write("float.csv", b"0,1\n1,0.5\n"), "non-integer"),
    "ragged": (write("ragged.csv", b"0,1\n1\n"), "lengths"),
    "not-csv": (write("quote.csv", b'0,"1\n'), "table"),
    "dev-zero": (lambda tmp: "/dev/zero", "not a regular file"),
    "dev-urandom": (lambda tmp: "/dev/urandom", "not a regular file"),
    "fifo": (fifo, "not a regular file"),
    "link-to-dev-zero": (link_to_dev_zero, "not a regular file"),
    "too-large": (sparse, "limit"),
    "too-many-rows": (many_rows, "rows"),
    "too-wide": (write("wide.csv", b",".join([b"0"] * 1025) + b"\n"), "cells"),
    "missing": (lambda tmp: "nowhere.csv", "nowhere.csv"),
    "a-folder": (lambda tmp: "canary", "canary"),
}


@pytest.mark.parametrize("case", sorted(TABLES))
def test_a_hostile_table_is_one_line(place, alarm, case):
    make, words = TABLES[case]
    path = make(place)
    before = snapshot(place)
    assert_one_error_line(invoke("synth", "--table", path, "--timeout", "5"), words)
    assert snapshot(place) == before


def test_a_table_with_a_byte_order_mark_is_read(place):
    (place / "bom.csv").write_bytes(b"\xef\xbb\xbfx,y,out\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    result = invoke("synth", "--table", "bom.csv", "--json", "--timeout", "5")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 2


# (command line, words the error must contain); {run} is a finished run, {thesis} a folder
# that looks like one but is not, {canary} a folder of precious files, {file} a regular file.
CASES = {
    "seed-negative": ("synth modadd --p 7 --seed -1", "seed"),
    "seed-huge": ("train modadd --p 7 --seed 4294967296", "seed"),
    "run-seed-negative": ("run modadd --p 7 --seed -5", "seed"),
    "max-bits-inf": ("synth modadd --p 7 --max-bits inf", "--max-bits"),
    "max-bits-nan": ("synth modadd --p 7 --max-bits nan", "--max-bits"),
    "max-bits-1e308": ("synth modadd --p 7 --max-bits 1e308", "--max-bits"),
    "max-bits-zero": ("synth modadd --p 7 --max-bits 0", "--max-bits"),
    "timeout-inf": ("synth modadd --p 7 --timeout inf", "--timeout"),
    "timeout-nan": ("synth modadd --p 7 --timeout nan", "--timeout"),
    "odd-outside-ite": ("synth --expr odd(x) --p 7", "odd"),
    "expr-and-name": ("synth modadd --expr x+y --p 7", "exactly one"),
    "p-huge": ("synth modadd --p 99999999999999999999", "range"),
    "noise-nan": ("synth modadd --p 7 --noise nan", "noise"),
    "frac-nan": ("train modadd --p 7 --frac nan", "--frac"),
    "frac-tiny": ("train modadd --p 7 --frac 1e-300", "no training pair"),
    "frac-almost-one": ("synth modadd --p 7 --frac 0.999", "no held-out pair"),
    "align-frac-tiny": ("align modadd --p 7 --frac 1e-300", "no training pair"),
    "top-huge": ("synth modadd --p 7 --top 1000000000", "--top"),
    "run-top-huge": ("run modadd --p 7 --top 101", "--top"),
    "steps-negative": ("train modadd --p 7 --steps -1", "--steps"),
    "steps-huge": ("train modadd --p 7 --steps 99999999999999999999999", "--steps"),
    "run-steps-huge": ("run modadd --p 7 --steps 10000000000", "--steps"),
    "top-zero": ("compare {run} --top 0", "--top"),
    "node-unparsable": ("compare {run} --node 'x +'", "cannot parse"),
    "node-one-input": ("compare {run} --node 'x**2'", "both x and y"),
    "node-constant": ("compare {run} --node 3", "both x and y"),
    "node-not-the-language": ("compare {run} --node 'x @ y'", "not allowed"),
    "node-defined-nowhere": ("compare {run} --node 'inv(x - x) + y'", "not defined on any"),
    "device-unknown": ("train modadd --p 7 --steps 2 --device foo", "foo"),
    "device-meta": ("train modadd --p 7 --steps 2 --device meta", "meta"),
    "run-device-unknown": ("run modadd --p 7 --steps 2 --device foo", "foo"),
    "out-under-a-file": ("train modadd --p 7 --steps 2 --out {file}/run", "cannot create"),
    "out-in-proc": ("train modadd --p 7 --steps 2 --out /proc/synthcmp-run", "cannot create"),
    "run-out-under-a-file": ("run modadd --p 7 --steps 2 --out {file}/run", "cannot create"),
    "out-empty": ("train modadd --p 7 --steps 2 --out ''", "must name a folder"),
    "p-with-a-group": ("synth s5mul --p 11", "--p does not apply"),
    "group-s1": ("synth --expr 'x*y' --group S1", "S2…S6"),
    "group-d2": ("synth --expr 'x*y' --group D2", "D2"),
    "group-unknown": ("synth --expr 'x*y' --group A5", "S2…S6"),
    "p-with-expr-in-a-group": ("train --expr 'x*y' --group s3 --p 5 --steps 2", "in S3"),
    "p-with-a-table": ("synth --table {canary}/table.csv --p 5", "--table"),
    "out-name-too-long": ("train modadd --p 7 --steps 2 --out " + "a" * 300, "too long"),
    "html-name-too-long": ("run modadd --p 7 --steps 2 --html " + "b" * 245 + ".html", "too long"),
    "table-name-too-long": ("synth --table " + "c" * 300 + ".csv", "too long"),
    "compare-name-too-long": ("compare " + "d" * 300, "d" * 20),
    "sweep-report-name-too-long": ("sweep report " + "e" * 300, "too long"),
    "out-empty-force": ("train modadd --p 7 --steps 2 --out '' --force", "must name a folder"),
    "run-out-empty": ("run modadd --p 7 --steps 2 --out ''", "must name a folder"),
    "align-out-empty": ("align modadd --p 7 --steps 2 --out ''", "must name a folder"),
    "html-empty": ("run modadd --p 7 --steps 2 --html ''", "not a regular file"),
    "out-is-a-file": ("train modadd --p 7 --steps 2 --out {file}", "file"),
    "html-missing-folder": ("run modadd --p 7 --steps 2 --html nowhere/r.html", "does not exist"),
    "html-foreign-file": ("run modadd --p 7 --steps 2 --html {canary}/notes.txt", "--force"),
    "html-a-link": ("run modadd --p 7 --steps 2 --html {link} --force", "regular file"),
    "run-exists": ("run modadd --p 7 --steps 2 --out {run}", "--force"),
    "train-exists": ("train modadd --p 7 --steps 2 --out {run}", "--force"),
    "force-foreign": ("train modadd --p 7 --steps 2 --out {thesis} --force", "not a synthcmp run"),
    "force-canary": ("train modadd --p 7 --steps 2 --out {canary} --force", "not a synthcmp run"),
    "force-here": ("train modadd --p 7 --steps 2 --out . --force", "not a synthcmp run"),
    "run-force-foreign": (
        "run modadd --p 7 --steps 2 --out {thesis} --force",
        "not a synthcmp run",
    ),
    "force-through-link": ("train modadd --p 7 --steps 2 --out {runlink} --force", "link"),
    "resume-nothing": ("train modadd --p 7 --out {canary} --resume", "nothing to resume"),
    "run-resume-nothing": ("run modadd --p 7 --out {canary} --resume", "nothing to resume"),
    "run-resume-foreign": ("run modadd --p 7 --out {thesis} --resume", "task.json"),
    "resume-without-out": ("run modadd --p 7 --resume", "--out"),
    "resume-and-force": ("train modadd --p 7 --out {run} --resume --force", "contradict"),
    "resume-other-task": ("train modsub --p 7 --out {run} --resume", "different task"),
    "resume-other-model": ("run modadd --p 7 --out {run} --resume --model mlp", "--model"),
    "resume-other-seed": ("train modadd --p 7 --out {run} --resume --seed 5", "--seed 0, not 5"),
    "run-resume-other-seed": ("run modadd --p 7 --out {run} --resume --seed 5", "--seed"),
    "resume-other-noise": ("train modadd --p 7 --out {run} --resume --noise 0.3", "--noise 0"),
    "run-resume-other-noise": ("run modadd --p 7 --out {run} --resume --noise 0.3", "--noise"),
    "compare-not-a-run": ("compare {canary}", "not a run folder"),
    "compare-foreign": ("compare {thesis}", "task.json"),
    "unknown-option": ("train modadd --bogus", "--bogus"),
    "missing-argument": ("compare", "RUN_DIR"),
    "bad-type": ("train modadd --p seven", "--p"),
    "bad-choice": ("train modadd --model rnn", "--model"),
    "option-without-value": ("synth modadd --frac", "--frac"),
    "no-such-command": ("trian modadd", "trian"),
    "no-such-run-dir": ("compare nowhere", "nowhere"),
    "llc-step-zero": ("compare {run} --llc-step 0", "--llc-step"),
    "llc-step-nan": ("compare {run} --llc --llc-step nan", "--llc-step"),
    "llc-step-negative": ("run modadd --p 7 --steps 2 --llc-step -1e-4", "--llc-step"),
    "llc-localization-inf": ("compare {run} --llc-localization inf", "--llc-localization"),
    "llc-nbeta-negative": ("run modadd --p 7 --steps 2 --llc-nbeta -3", "--llc-nbeta"),
    "llc-draws-one": ("compare {run} --llc-draws 1", "--llc-draws"),
    "llc-chains-huge": ("compare {run} --llc-chains 1000", "--llc-chains"),
    "llc-checkpoints-zero": ("run modadd --p 7 --steps 2 --llc-checkpoints 0", "--llc-checkpoints"),
}


def fill(line: str, tmp: Path) -> list[str]:
    (tmp / "file.txt").write_text("a file")
    if not (tmp / "runlink").exists():
        (tmp / "runlink").symlink_to(tmp / "run")
        (tmp / "link.html").symlink_to(tmp / "canary" / "notes.txt")
    names = {"run": "run", "thesis": "thesis", "canary": "canary", "file": "file.txt",
             "runlink": "runlink", "link": "link.html"}  # fmt: skip
    return [part.format(**names) for part in shlex.split(line)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_command_line_is_one_line_and_changes_nothing(place, alarm, case):
    line, words = CASES[case]
    args = fill(line, place)
    before = snapshot(place)
    assert_one_error_line(invoke(*args), words)
    assert snapshot(place) == before


# ---------------------------------------------------------------------------------------
# a damaged run folder: every file of it empty, cut in half, garbage or missing


def damage(path: Path, how: str) -> None:
    if how == "missing":
        path.unlink()
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "garbage":
        path.write_bytes(bytes(range(256)) * 3)
    elif how == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif how == "wrong-json":
        path.write_text('{"steps": "many", "n": [], "model": 3, "step": "x"}\n')
    elif how == "pickle":  # a hostile pickle: it would run a command if it were unpickled
        path.write_bytes(pickle.dumps(Hostile(), protocol=4))
    elif how == "deep-json":  # valid JSON, nested past any parser's recursion
        path.write_text("[" * 100_000 + "]" * 100_000 + "\n")


RUN_FILES = ["config.json", "task.json", "metrics.jsonl", "summary.json", "model.pt",
             "checkpoints/step_000010.pt", "state.pt"]  # fmt: skip
DAMAGE = ["empty", "truncated", "garbage", "missing", "fifo", "wrong-json", "deep-json",
          "pickle"]  # fmt: skip


class Hostile:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))
COMMANDS = {
    "compare": ["compare", "run", "--json", "--top", "2"],
    "train-resume": ["train", "modadd", "--p", "7", "--out", "run", "--resume", "--json"],
    "run-resume": ["run", "modadd", "--p", "7", "--out", "run", "--resume", "--json", "--no-plots"],
}
# what each command needs: damage to these files must be an error that names the file
NEEDS = {
    "compare": {
        "config.json",
        "task.json",
        "metrics.jsonl",
        "summary.json",
        "model.pt",
        "checkpoints/step_000010.pt",
    },  # fmt: skip
    "train-resume": {"config.json", "task.json", "state.pt"},
    "run-resume": {"config.json", "task.json", "state.pt"},
}
FORGIVEN = {  # a missing file that is legitimately absent (or rebuilt) is no error
    ("metrics.jsonl", "missing"), ("metrics.jsonl", "empty"), ("summary.json", "missing"),
    ("model.pt", "missing"), ("checkpoints/step_000010.pt", "missing"),
    ("summary.json", "wrong-json"),  # any object will do: compare does not read it
}  # fmt: skip


def damaged_cases():
    for command, needs in NEEDS.items():
        for name in RUN_FILES:
            for how in DAMAGE:
                if command != "compare" and name not in needs:
                    continue  # rebuilt by the resumed run; the compare cases read them
                yield pytest.param(command, name, how, id=f"{command}-{name}-{how}")


@pytest.mark.parametrize("command, name, how", list(damaged_cases()))
def test_a_damaged_run_folder_is_one_line_naming_the_file(place, alarm, command, name, how):
    damage(place / "run" / name, how)
    before = snapshot(place)
    result = invoke(*COMMANDS[command])
    if name in NEEDS[command] and (name, how) not in FORGIVEN:
        error = assert_one_error_line(result)
        assert Path(name).name in error or "nothing to resume" in error, error
        outside = {k: v for k, v in before.items() if not k.startswith("run/")}
        assert {k: v for k, v in snapshot(place).items() if not k.startswith("run/")} == outside
    else:  # not needed, or rebuilt
        assert result.exit_code == 0, result.output


def test_a_network_too_large_for_the_machine_is_one_line(place):
    config = json.loads((place / "run" / "config.json").read_text())
    config["model"]["d_model"] = 10**7  # 4·10¹⁴ bytes of weights
    (place / "run" / "config.json").write_text(json.dumps(config))
    assert_one_error_line(invoke("compare", "run"), "too large", "config.json")
    assert_one_error_line(invoke(*COMMANDS["train-resume"]), "too large", "config.json")


def test_weights_of_another_network_are_one_line(place):
    other = default_config(**{**TINY, "d_model": 8})
    train(get_task("modadd", p=7), other, run_dir=place / "other")
    shutil.copy(place / "other" / "model.pt", place / "run" / "model.pt")
    assert_one_error_line(invoke("compare", "run"), "model.pt", "this run's network")
    shutil.copy(place / "other" / "state.pt", place / "run" / "state.pt")
    assert_one_error_line(invoke(*COMMANDS["train-resume"]), "state.pt")
    torch.save([1, 2, 3], place / "run" / "state.pt")
    assert_one_error_line(invoke(*COMMANDS["train-resume"]), "state.pt")
    torch.save({"model": {}}, place / "run" / "state.pt")
    assert_one_error_line(invoke(*COMMANDS["train-resume"]), "state.pt", "resume point")


# ---------------------------------------------------------------------------------------
# locks: one process per run folder


def hold_lock(folder: Path):
    """Lock ``folder`` the way another process would (an flock on its own open file)."""
    fd = os.open(folder / store.LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


@pytest.mark.parametrize(
    "args",
    [
        ["train", "modadd", "--p", "7", "--out", "run", "--resume"],
        ["train", "modadd", "--p", "7", "--steps", "2", "--out", "run", "--force"],
        ["run", "modadd", "--p", "7", "--out", "run", "--resume"],
        ["run", "modadd", "--p", "7", "--steps", "2", "--out", "run", "--force"],
        ["compare", "run"],
    ],
    ids=["train-resume", "train-force", "run-resume", "run-force", "compare"],
)
def test_a_run_folder_in_use_is_refused(place, args):
    fd = hold_lock(place / "run")
    try:
        before = snapshot(place)
        assert_one_error_line(invoke(*args), "in use")
        assert snapshot(place) == before
    finally:
        os.close(fd)


def test_two_processes_never_share_a_run_folder(tmp_path):
    """A real second process: while one trains in a folder, nobody else may use it."""
    out = tmp_path / "run"
    exe = os.path.join(os.path.dirname(sys.executable), "synthcmp")
    args = [exe, "train", "lookup", "--p", "11", "--steps", "1000000", "--out", str(out)]
    first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not (out / "state.pt").exists() and time.time() < deadline:
            time.sleep(0.05)
        assert (out / "state.pt").exists()
        assert_one_error_line(invoke(*args[1:], "--force"), "in use")
        assert_one_error_line(
            invoke("train", "lookup", "--p", "11", "--out", out, "--resume"), "in use"
        )
        assert_one_error_line(invoke("compare", out), "in use")
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 130
    assert (
        invoke("train", "lookup", "--p", "11", "--steps", "1", "--out", out, "--force").exit_code
        == 0
    )


# ---------------------------------------------------------------------------------------
# --force deletes only what synthcmp made, and never through a link


def test_force_replaces_a_run_but_never_follows_its_links(place):
    run = place / "run"
    (run / "linked-folder").symlink_to(place / "canary", target_is_directory=True)
    (run / "checkpoints" / "linked-file.pt").symlink_to(place / "canary" / "notes.txt")
    before = snapshot(place / "canary")
    result = invoke("train", "modadd", *TRAIN, "--out", "run", "--force", "--json")
    assert result.exit_code == 0, result.output
    assert snapshot(place / "canary") == before
    assert not (run / "linked-folder").exists() and store.is_run_folder(run)


def test_a_marker_must_be_a_file_not_a_link_to_one(place):
    (place / "thesis" / store.MARKER).symlink_to(place / "run" / store.MARKER)
    before = snapshot(place)
    args = ["train", "modadd", *TRAIN, "--out", "thesis", "--force"]
    assert_one_error_line(invoke(*args), "not a synthcmp run")
    assert snapshot(place) == before


# ---------------------------------------------------------------------------------------
# the disk, the memory and Ctrl-C


def full_disk_for(monkeypatch, part: str):
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if part in str(dst):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("part", ["config.json", "step_000000.pt", "state.pt"])
def test_a_full_disk_is_one_line_and_leaves_no_half_run(place, monkeypatch, part):
    full_disk_for(monkeypatch, part)
    before = snapshot(place)
    result = invoke("train", "modadd", *TRAIN, "--out", "new")
    assert_one_error_line(result, "no space left", alone=False)
    assert snapshot(place) == before and not (place / "new").exists()


def test_a_disk_that_fills_while_writing_is_one_line(place, monkeypatch):
    """A real full disk fails inside the write, not at the rename (torch's own file writer
    turned that into a RuntimeError and a 60-line traceback)."""
    import taskcore.files

    real = os.fdopen

    class AlmostFull(io.FileIO):
        """A disk with 64 KiB left: a write takes what fits, the next one fails."""

        room = 64 * 1024

        def write(self, data):
            if self.room <= 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            part = memoryview(data)[: self.room]
            self.room -= len(part)
            return super().write(part)

    def fdopen(fd, *args, **kwargs):  # a checkpoint's temporary file is on that disk
        if "step_" in os.readlink(f"/proc/self/fd/{fd}"):
            return io.BufferedWriter(AlmostFull(fd, "wb"))
        return real(fd, *args, **kwargs)

    monkeypatch.setattr(taskcore.files.os, "fdopen", fdopen)
    for command in ("train", "run"):
        result = invoke(command, "modadd", *TRAIN, "--out", f"new-{command}")
        assert_one_error_line(result, "no space left", alone=False)
        assert not (place / f"new-{command}").exists()


def test_a_full_disk_during_run_is_one_line(place, monkeypatch):
    full_disk_for(monkeypatch, "step_000000.pt")
    before = snapshot(place)
    assert_one_error_line(invoke("run", "modadd", *TRAIN, "--out", "new"), "no space", alone=False)
    assert snapshot(place) == before


def test_synth_out_of_memory_stops_cleanly(place, monkeypatch):
    """Out of memory inside the search: it stops with ``stopped: memory`` (or, if the search
    cannot, as one line); never a traceback."""
    from synth import search

    def no_memory(self, level):
        raise MemoryError

    monkeypatch.setattr(search.Search, "_level", no_memory)
    result = invoke("synth", "modadd", "--p", "7", "--json")
    if result.exit_code == 0:
        assert json.loads(result.stdout)["stats"]["stopped"] == "memory"
    else:
        assert_one_error_line(result, "memory")


def test_run_interrupted_before_anything_started_says_so(place, monkeypatch):
    import synthcmp.pipeline

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(synthcmp.pipeline, "run_pipeline", ctrl_c)
    before = snapshot(place)
    result = invoke("run", "modadd", "--p", "7", "--out", "new")
    assert result.exit_code == 130
    assert "before the run started" in result.stderr and "None" not in result.stderr
    assert snapshot(place) == before


def test_run_interrupted_while_searching_keeps_nothing(place, monkeypatch):
    import synth

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(synth, "synthesize", ctrl_c)
    before = snapshot(place)
    result = invoke("run", "modadd", "--p", "7")  # a default folder under runs/
    assert result.exit_code == 130
    assert "during synth" in result.stderr and "nothing was kept" in result.stderr
    assert "--resume" not in result.stderr
    assert snapshot(place) == before


# ---------------------------------------------------------------------------------------
# files as a user expects them


def test_run_files_follow_the_umask(place):
    old = os.umask(0o022)
    try:
        assert invoke("train", "modadd", *TRAIN, "--out", "new").exit_code == 0
    finally:
        os.umask(old)
    for name in ("config.json", "task.json", "metrics.jsonl", "state.pt", "model.pt"):
        assert stat.S_IMODE((place / "new" / name).stat().st_mode) == 0o644, name


def test_default_run_folders_started_in_the_same_second_differ(place, monkeypatch):
    monkeypatch.setattr(time, "strftime", lambda fmt, *args: "20260101-120000")
    folders = []
    for _ in range(3):
        result = invoke("train", "modadd", *TRAIN, "--json")
        assert result.exit_code == 0, result.output
        folders.append(json.loads(result.stdout)["run_dir"])
    assert len(set(folders)) == 3
    assert [Path(f).name for f in folders] == [
        "modadd-p7-s0-20260101-120000",
        "modadd-p7-s0-20260101-120000-2",
        "modadd-p7-s0-20260101-120000-3",
    ]


def test_html_overwrites_only_a_report_synthcmp_wrote(tmp_path):
    from synthcmp.render.html import GENERATOR, PAGE_START

    ours = tmp_path / "ours.html"
    ours.write_text(f"{PAGE_START}{GENERATOR}\n<title>synthcmp · modadd</title></head>")
    check_html_target(ours, force=False)
    older = tmp_path / "older.html"  # from before the generator tag
    older.write_text(f"{PAGE_START}<title>synthcmp · modadd: x + y</title>\n</head><body>")
    check_html_target(older, force=False)
    quoting = tmp_path / "quoting.html"  # the user's page about synthcmp, quoting the tag
    quoting.write_text(f"<!DOCTYPE html>\n<html><head><title>notes</title></head><body><pre>"
                       f"{GENERATOR}</pre>{PAGE_START}</body></html>")  # fmt: skip
    with pytest.raises(TaskError, match="--force"):
        check_html_target(quoting, force=False)
    theirs = tmp_path / "theirs.html"
    theirs.write_text("<html>my own page</html>")
    with pytest.raises(TaskError, match="--force"):
        check_html_target(theirs, force=False)
    check_html_target(theirs, force=True)
    link = tmp_path / "link.html"
    link.symlink_to(ours)
    with pytest.raises(TaskError, match="regular file"):
        check_html_target(link, force=True)
    with pytest.raises(TaskError, match="does not exist"):
        check_html_target(tmp_path / "no" / "r.html", force=True)
    check_html_target(tmp_path / "new.html", force=False)


@pytest.mark.parametrize("how", ["corrupt", "other-task", "link", "deep-json"])
def test_compare_never_rewrites_a_synth_json_it_did_not_make(place, how):
    """A synth.json that is corrupt, of another task, or a link to the user's file is read
    past, never overwritten: compare searches again and keeps the result to itself."""
    path = place / "run" / "synth.json"
    if how == "corrupt":
        path.write_text("{ not json")
    elif how == "other-task":
        path.write_text(json.dumps({"task": "lookup", "n": 3}))
    elif how == "deep-json":
        path.write_text("[" * 100_000 + "]" * 100_000)
    else:
        path.symlink_to(place / "canary" / "notes.txt")
    before = snapshot(place)
    result = invoke("compare", "run", "--json", "--top", "2")
    assert result.exit_code == 0, result.output
    assert snapshot(place) == before


@pytest.mark.parametrize("args", [["tasks"], ["synth", "modadd", "--p", "7", "--json"],
                                  ["explain", "bits"]])  # fmt: skip
def test_a_full_stdout_is_one_line(args, tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "synthcmp")
    with open("/dev/full", "w") as full:
        done = subprocess.run([exe, *args], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=120, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == ["Error: cannot write the output: No space left "
                                                "on device"]  # fmt: skip


def test_a_terminal_that_cannot_show_unicode_gets_question_marks_not_a_traceback(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "synthcmp")
    done = subprocess.run([exe, "tasks"], capture_output=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "ascii"})  # fmt: skip
    assert done.returncode == 0 and b"Traceback" not in done.stderr
    assert b"modadd" in done.stdout and b"?" in done.stdout


@pytest.mark.parametrize("command", ["train", "run"])
@pytest.mark.parametrize("left", ["marker only", "config, no checkpoint"])
def test_a_run_killed_before_it_trained_anything_resumes_afresh(place, command, left):
    """Killed while it searched programs (or before its first checkpoint), a run leaves a
    folder of its own with nothing to continue: --resume starts it afresh there."""
    folder = place / "killed"
    folder.mkdir()
    (folder / store.MARKER).write_text("synthcmp run folder, format 1\n")
    if left != "marker only":
        shutil.copy(place / "run" / "config.json", folder / "config.json")
        (folder / "checkpoints").mkdir()
    args = [command, "modadd", *TRAIN, "--out", "killed", "--resume", "--json"]
    if command == "run":
        args.append("--no-plots")
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert (folder / store.STATE).exists() and store.is_run_folder(folder)
    assert "starting the run afresh" in result.stderr


def test_resume_clears_only_the_temporary_files_synthcmp_left(place):
    """A killed writer leaves .state.pt.XXXXXXXX.tmp; --resume removes those, never a
    .tmp file of the user's."""
    run = place / "run"
    ours = [run / ".state.pt.ab12cd34.tmp", run / "checkpoints" / ".step_000010.pt.zz99yy88.tmp"]
    theirs = [run / ".notes.tmp", run / ".draft.txt.abcdefgh.tmp"]
    for path in ours + theirs:
        path.write_text("x")
    result = invoke("train", "modadd", "--p", "7", "--out", "run", "--resume", "--json")
    assert result.exit_code == 0, result.output
    assert not any(p.exists() for p in ours) and all(p.read_text() == "x" for p in theirs)


@pytest.mark.parametrize("how", ["garbage", "pickle", "missing"])
def test_align_refuses_a_damaged_run_before_it_starts(place, how):
    shutil.copytree(place / "run", place / "run2", symlinks=True)
    if how == "missing":
        (place / "run" / "model.pt").unlink()
        for checkpoint in (place / "run" / "checkpoints").iterdir():
            checkpoint.unlink()
    else:
        damage(place / "run" / "model.pt", how)
    before = snapshot(place)
    assert_one_error_line(invoke("align", "--runs", "run", "--runs", "run2"), "run")
    assert snapshot(place) == before
