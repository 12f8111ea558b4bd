"""The root of every error labgate raises on purpose.

A front door (CLI, REST) that catches `LabgateError` catches every failure labgate names for the
user, and nothing it did not anticipate: those stay tracebacks, to be reported as bugs.
"""


class LabgateError(Exception):
    """An error labgate raises deliberately, with a message meant for the user."""


class StoreUnavailableError(LabgateError):
    """The run store cannot be opened: its folder cannot be made, its database is damaged, not a
    database, or written by a newer labgate. Nothing in it was changed."""


class ExperimentKeyError(LabgateError):
    """An experiment key that cannot name the experiment: it would not be a directory of its own."""
