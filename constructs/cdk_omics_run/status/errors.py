"""AWS errors as one line that names the fix: what ``status`` prints instead of a traceback.

Example::

    try:
        ...
    except botocore.exceptions.ClientError as error:
        raise StatusError(explain(error, "omics:GetRun", "run 1234567")) from error
"""

from __future__ import annotations

from botocore.exceptions import ClientError

# Error codes that mean "slow down": HealthOmics answers ThrottlingException (its model's error shape),
# CloudFormation and the Price List API answer Throttling.
THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})
# What IAM answers when no policy allows the action (HealthOmics: AccessDeniedException; Query APIs: AccessDenied).
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied"})


class StatusError(Exception):
    """A failure the command reports as one line (its message) and exit status 1."""


def error_code(error: ClientError) -> str:
    """The service's error code (``ThrottlingException``, ``ResourceNotFoundException`` ...)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def is_throttling(error: ClientError) -> bool:
    """Whether the service asked the caller to slow down."""
    return error_code(error) in THROTTLING_CODES


def explain(error: ClientError, action: str, subject: str) -> str:
    """One line for ``error`` raised by IAM action ``action`` (``omics:GetRun``) on ``subject`` (``run 1234567``).

    AccessDenied names the permission to add. Anything else keeps the service's own message, after what failed.
    """
    code = error_code(error)
    if code in ACCESS_DENIED_CODES:
        return f"access denied: {action} on {subject}; allow {action} to the identity you run this command as"
    message = error.response.get("Error", {}).get("Message", "") or code
    return f"{action} failed on {subject}: {message} ({code})"
