"""The root of every error labgate raises on purpose.

A front door (CLI, REST) that catches `LabgateError` catches every failure labgate names for the
user, and nothing it did not anticipate: those stay tracebacks, to be reported as bugs.
"""


class LabgateError(Exception):
    """An error labgate raises deliberately, with a message meant for the user."""
