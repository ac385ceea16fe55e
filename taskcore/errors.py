"""The one exception type for a user's mistake.

Engines raise :class:`TaskError` (or a subclass, such as the run store's ``RunError``) with a
message a person can act on; the CLI turns it into one ``Error: …`` line on stderr and exit
code 2. Anything else escaping is a bug, and shows as one.
"""


class TaskError(ValueError):
    """A task, split, file or option that cannot be used as asked (bad name, bad p, bad table…)."""
