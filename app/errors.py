"""The one exception type that interfaces turn into a one-line message (CLI) or a 4xx (HTTP), and the
HTTP error bodies."""


class RagqaError(Exception):
    """A problem the user can fix: bad input, missing index, mismatched settings."""


class IndexMismatch(RagqaError):
    """The index was built with other settings or an older layout: it must be rebuilt."""


class ApiError(Exception):
    """An HTTP request that cannot be done: its status code and what to do, in words."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                429: "rate_limit_error"}  # others: invalid_request_error (4xx), server_error (5xx)


def error_body(path: str, status: int, message: str) -> dict:
    """`{"error": "..."}`, or on /v1/* the OpenAI shape `{"error": {"message", "type", "param", "code"}}`."""
    if not path.startswith("/v1/"):
        return {"error": message}
    kind = OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    code = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status)
    if status == 404 and "model" in message:
        code = "model_not_found"
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
