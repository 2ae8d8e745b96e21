"""The one exception type that interfaces turn into a one-line message (CLI) or a 4xx (HTTP)."""


class RagqaError(Exception):
    """A problem the user can fix: bad input, missing index, mismatched settings."""


class IndexMismatch(RagqaError):
    """The index was built with other settings or an older layout: it must be rebuilt."""
