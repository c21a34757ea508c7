"""Python enums for the StartRun members that take one of a fixed set of values.

A test checks these against botocore's service model, so they cannot drift.
"""

from __future__ import annotations

from enum import Enum


class WorkflowType(str, Enum):
    """Where the workflow comes from."""

    PRIVATE = "PRIVATE"
    READY2RUN = "READY2RUN"


class CacheBehavior(str, Enum):
    """When the run cache stores task outputs."""

    CACHE_ON_FAILURE = "CACHE_ON_FAILURE"
    CACHE_ALWAYS = "CACHE_ALWAYS"


class LogLevel(str, Enum):
    """How much the run logs."""

    OFF = "OFF"
    FATAL = "FATAL"
    ERROR = "ERROR"
    ALL = "ALL"


class RetentionMode(str, Enum):
    """Whether HealthOmics may remove the run record when the run quota is reached."""

    RETAIN = "RETAIN"
    REMOVE = "REMOVE"


class StorageType(str, Enum):
    """Fixed (STATIC) or automatically scaled (DYNAMIC) run storage."""

    STATIC = "STATIC"
    DYNAMIC = "DYNAMIC"


class NetworkingMode(str, Enum):
    """The run's network access."""

    RESTRICTED = "RESTRICTED"
    VPC = "VPC"


class ScratchStorageMode(str, Enum):
    """Where tasks keep scratch data."""

    LOCAL = "LOCAL"
    SHARED = "SHARED"


class OutputUriPrefixMode(str, Enum):
    """Whether outputs go under a service-defined prefix of the output URI."""

    SERVICE_DEFINED = "SERVICE_DEFINED"
    NONE_WITH_OVERWRITE = "NONE_WITH_OVERWRITE"


class DeletePolicy(str, Enum):
    """What deleting the resource does to its run."""

    LEAVE = "LEAVE"
    """Leave the run as it is."""
    CANCEL = "CANCEL"
    """Cancel the run if it is still active (the default)."""
    CANCEL_AND_DELETE = "CANCEL_AND_DELETE"
    """Cancel the run if it is still active, then delete its record."""


class WaitFor(str, Enum):
    """What the resource waits for before CloudFormation moves on."""

    NONE = "NONE"
    """Answer as soon as StartRun succeeds (the default)."""
    RUNNING = "RUNNING"
    """Hold the resource until the run is RUNNING (or already COMPLETED)."""
    COMPLETED = "COMPLETED"
    """Hold the resource until the run is COMPLETED; a FAILED or CANCELLED run fails it."""


class BatchWaitFor(str, Enum):
    """What a batch's deploy waits for (HealthOmics user guide, "Batch runs in HealthOmics")."""

    NONE = "NONE"
    """Do not wait: the batch resource completes once StartRunBatch has accepted the batch."""
    SUBMITTED = "SUBMITTED"
    """Wait until every run was submitted (the batch is INPROGRESS, or already PROCESSED)."""
    PROCESSED = "PROCESSED"
    """Wait until every run has ended (the batch is PROCESSED)."""
