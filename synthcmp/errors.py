"""The one exception type for a user's mistake in describing a task.

Engines raise :class:`TaskError` with a message a person can act on; the CLI turns it into
one line on stderr and exit code 2. Anything else escaping is a bug, and shows as one.
"""


class TaskError(ValueError):
    """A task, split or option that cannot be built as asked (bad name, bad p, bad table...)."""
