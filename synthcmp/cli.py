"""The ``synthcmp`` command: a click group whose commands live in :mod:`synthcmp.commands`.

Commands are thin: parse options, call one engine function, render its result with rich.
A user's mistake (:class:`~taskcore.errors.TaskError` or a bad option) ends as one line on
stderr and exit code 2; engines never print. Heavy imports (torch) happen inside the
commands that need them, so ``synthcmp --help`` and ``synthcmp tasks`` start fast.
"""

from __future__ import annotations

import errno
import os
import sys

import click

from synthcmp import __version__
from synthcmp.commands import align, compare, explain, run, sweep, synth, tasks, train
from synthcmp.ui import UserError
from taskcore.errors import TaskError

NoArgsIsHelp = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click ≥ 8.2: help, not an error


def one_line(err: click.ClickException) -> UserError:
    """Click's own usage errors (unknown option, missing argument, bad type) as one line."""
    message = err.format_message()
    ctx = getattr(err, "ctx", None)
    if isinstance(err, click.UsageError) and ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    error = UserError(message)
    error.exit_code = err.exit_code if not isinstance(err, click.UsageError) else 2
    return error


OUTPUT_ERRORS = (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.EBADF)


def output_failed(err: OSError) -> bool:
    """An error of writing to stdout (not of a file the command opened, which is a TaskError
    where it is raised)."""
    return err.errno in OUTPUT_ERRORS and getattr(err, "filename", None) is None


def silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what could not be written
    does not print a second error after ours."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


class _Group(click.Group):
    """A group whose every user mistake — a TaskError raised anywhere below it, or a click
    usage error of the group or a command — is one ``Error: …`` line on stderr."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent, **extra)
        except (UserError, NoArgsIsHelp):
            raise
        except click.ClickException as err:
            raise one_line(err) from None

    def main(self, *args, **kwargs):
        # a terminal whose encoding cannot show a character (PYTHONIOENCODING=ascii) gets a
        # "?" in its place, not a UnicodeEncodeError
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="replace")
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TaskError as err:
            raise UserError(str(err)) from None
        except OSError as err:  # stdout itself failed: full (/dev/full), closed, broken pipe
            if err.errno == errno.ENAMETOOLONG:  # any path a user typed, wherever it is used
                name = os.fsdecode(err.filename or "")
                raise UserError(f"a file name is too long: {name[:60]}…") from None
            if not output_failed(err):
                raise
            silence_stdout()
            raise UserError(f"cannot write the output: {os.strerror(err.errno)}") from None
        except (UserError, NoArgsIsHelp):
            raise
        except click.ClickException as err:
            raise one_line(err) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synthcmp")
def main() -> None:
    """Put an explicit program search and a neural network side by side on a small
    algorithmic task, then open the network to see which program it learned.

    \b
    Start with:
      synthcmp tasks                 the built-in tasks
      synthcmp run modadd --p 97     the whole comparison, with a report
      synthcmp explain               what each number in a report means
    """


for command in (
    tasks.tasks, synth.synth, train.train, compare.compare, run.run,
    align.align, sweep.sweep, explain.explain,
):  # fmt: skip
    main.add_command(command)


if __name__ == "__main__":
    main()
