"""The one exception type that interfaces turn into a one-line message (CLI) or a 4xx (HTTP)."""


class RagqaError(Exception):
    """A problem the user can fix: bad input, missing index, mismatched settings."""
