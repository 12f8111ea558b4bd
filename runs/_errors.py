"""The root of every error labgate raises on purpose.

A front door (CLI, REST) that catches `LabgateError` catches every failure labgate names for the
user, and nothing it did not anticipate: those stay tracebacks, to be reported as bugs.
"""

import errno


class LabgateError(Exception):
    """An error labgate raises deliberately, with a message meant for the user."""


class StoreUnavailableError(LabgateError):
    """The run store cannot be opened: its folder cannot be made, its database is damaged, not a
    database, or written by a newer labgate. Nothing in it was changed."""


class DamagedRecordError(StoreUnavailableError):
    """A record of the store holds what labgate never writes (a JSON column that is not JSON): the database
    was changed by something else. Named, never shown as a traceback; nothing is changed."""


class ExperimentKeyError(LabgateError):
    """An experiment key that cannot name the experiment: it would not be a directory of its own."""


STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT})
"""Why a write to the store's folder fails that the user must fix (disk full, read-only, no permission)."""


def store_failure(error: BaseException) -> str:
    """One sentence for a database error under the store: the driver's first line, no SQL, no path.

    The REST API answers 503 with it and the CLI prints it; both keep what was recorded before."""
    original = getattr(error, "orig", None)
    text = str(original if original is not None else error).strip()
    reason = text.splitlines()[0] if text else ""
    return f"the run store cannot be used: {reason or type(error).__name__}"
