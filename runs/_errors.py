"""The root of every error labgate raises on purpose.

A front door (CLI, REST) that catches `LabgateError` catches every failure labgate names for the
user, and nothing it did not anticipate: those stay tracebacks, to be reported as bugs.
"""

import errno
import sys


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


def is_store_error(error: BaseException) -> bool:
    """Whether `error` is the run store's own failure (a database locked past its wait, a lost server), which
    is no experiment's doing: recorded as one, a lock held 75 s by another process made an evaluated kernel an
    `error` and both kernel gates "reject: no candidate-kernel file" (`store_failure` says it in words).

    Read without importing SQLAlchemy (a Ray worker running an experiment never loads the store): an error
    of its classes can only exist once it is loaded."""
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(error, exc.DBAPIError | exc.PendingRollbackError)


def store_failure(error: BaseException) -> str:
    """One sentence for a database error under the store: the driver's first line, no SQL, no path.

    The REST API answers 503 with it and the CLI prints it; both keep what was recorded before."""
    original = getattr(error, "orig", None)
    text = str(original if original is not None else error).strip()
    reason = text.splitlines()[0] if text else ""
    for driver_says, meaning in _STORE_FAILURES:
        if driver_says in reason.lower():
            return f"the run store cannot be written: {meaning} (the database said: {reason})"
    return f"the run store cannot be used: {reason or type(error).__name__}"


_STORE_FAILURES = (
    ("readonly database", "it is read-only (read-only media, or no permission to write its folder)"),
    ("disk is full", "its disk is full"),
    ("could not extend file", "its disk is full"),
    ("no space left on device", "its disk is full"),
)
"""What SQLite and PostgreSQL say when the store's folder cannot take a write, in the words a user acts on."""


class RunNotFoundError(LabgateError, LookupError):
    """No run has that id."""


class UnknownStatusError(LabgateError, ValueError):
    """A status that is none of labgate's run statuses: every reader (the API's schema, the dashboard's filters)
    knows only those, so one stored run with another made the whole run list fail."""
