"""The tags the provider puts on every run it starts, and what it reads back from them.

They make updates and rollbacks safe without any state of the provider's own:
- ``fingerprint``: a digest of the properties that define the run, so an
  Update that changes nothing run-defining starts nothing;
- ``replaces`` and ``replaces-fingerprint``: the run this one replaced, so a
  rollback Update returns that run instead of starting another;
- ``owner``: a digest of the stack and logical ID, so Delete never touches a
  run that another resource started (run IDs are reused after deletion);
- ``stack``: the stack's ID, which the provider's IAM policy requires on every
  run it reads or changes (``aws:ResourceTag``), so IAM enforces what ``owner`` checks;
  runs of releases before it have none, and are adopted (tagged) once their owner matches
  (``lifecycle.adopted``);
- ``retired``: set when CloudFormation's cleanup Delete acted on the run, so a
  later revert never restores it and any wait on it stops;
- ``wait``: the token of the one live wake-up chain of a wait (see ``waiting``) and, for a
  run's wait, what a status-change event needs to signal it: the target, the run resource's
  logical ID and its WaitCondition handle's logical ID (``WaitTag``). Releases before it kept
  the token alone there, and moved it on every wake; a bare token still reads as a wait that
  only polling ends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from omics_run.tag_rules import TAG_PREFIX

FINGERPRINT_TAG = f"{TAG_PREFIX}fingerprint"
OWNER_TAG = f"{TAG_PREFIX}owner"
REPLACES_TAG = f"{TAG_PREFIX}replaces"
REPLACES_FINGERPRINT_TAG = f"{TAG_PREFIX}replaces-fingerprint"
STACK_TAG = f"{TAG_PREFIX}stack"
RETIRED_TAG = f"{TAG_PREFIX}retired"
WAIT_TAG = f"{TAG_PREFIX}wait"

# Members that never define what a run (or a batch's runs) compute: tags, the idempotency token,
# and a batch's name, which renaming must not answer by starting the whole cohort again.
# A declared runId (the run to duplicate) defines the run; the one a re-run adds is never
# fingerprinted, since the fingerprint is taken from the declared request.
NOT_RUN_DEFINING = frozenset({"tags", "requestId", "batchName"})
# A tag value is at most 256 characters (botocore's omics model, TagValue); logical IDs are
# alphanumeric (CloudFormation template anatomy, Resources), so "/" never occurs inside a part.
TAG_VALUE_LIMIT = 256
WAIT_TAG_SEPARATOR = "/"


@dataclass(frozen=True)
class WaitTag:
    """The ``wait`` tag's value: the live chain's token and, when it fits, where an event signals.

    Example::

        WaitTag("0f3c9a1b2c4d5e6f", "COMPLETED", "CramToBam", "CramToBamWait1A2B3C4DHandle5E6F7A8B").value()
        # '0f3c9a1b2c4d5e6f/COMPLETED/CramToBam/CramToBamWait1A2B3C4DHandle5E6F7A8B'
    """

    token: str
    target: str = ""
    logical_resource_id: str = ""
    handle_logical_id: str = ""

    @classmethod
    def parse(cls, value: str) -> WaitTag:
        parts = value.split(WAIT_TAG_SEPARATOR)
        if len(parts) != 4:
            # A bare token (earlier releases, batches, or a wait whose IDs did not fit).
            return cls(value)
        return cls(*parts)

    def value(self) -> str:
        """The tag value; the token alone when the IDs are unknown or would not fit 256 characters."""
        if not self.signals_on_events:
            return self.token
        text = WAIT_TAG_SEPARATOR.join((self.token, self.target, self.logical_resource_id, self.handle_logical_id))
        return text if len(text) <= TAG_VALUE_LIMIT else self.token

    @property
    def signals_on_events(self) -> bool:
        """Whether the tag says where a status-change event signals the wait."""
        return bool(self.target and self.logical_resource_id and self.handle_logical_id)

    def with_token(self, token: str) -> WaitTag:
        return replace(self, token=token)


def fingerprint(request: Mapping[str, Any], rerun_token: str | None) -> str:
    """A digest of the run-defining members of a StartRun request, and of the rerun token."""
    defining = {k: v for k, v in request.items() if k not in NOT_RUN_DEFINING}
    canonical = json.dumps([defining, rerun_token], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def owner(stack_id: str, logical_resource_id: str) -> str:
    """The digest that marks runs started by one resource of one stack."""
    return hashlib.sha256(f"{stack_id}\n{logical_resource_id}".encode()).hexdigest()


def bookkeeping_tags(
    *, run_fingerprint: str, run_owner: str, stack_id: str, replaced_run: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The tags a new run carries, including what it replaces when it comes from an Update."""
    tags = {FINGERPRINT_TAG: run_fingerprint, OWNER_TAG: run_owner, STACK_TAG: stack_id}
    if replaced_run is not None:
        tags[REPLACES_TAG] = replaced_run["id"]
        tags[REPLACES_FINGERPRINT_TAG] = tags_of(replaced_run).get(FINGERPRINT_TAG, "")
    return tags


def tags_of(run: Mapping[str, Any]) -> dict[str, str]:
    """The run's tags, as GetRun returns them (an empty dict when it returns none)."""
    return dict(run.get("tags") or {})


def is_retired(run: Mapping[str, Any]) -> bool:
    """Whether CloudFormation's cleanup has already let go of the run."""
    return RETIRED_TAG in tags_of(run)


def wait_tag_of(run: Mapping[str, Any]) -> WaitTag | None:
    """The run's ``wait`` tag, read; None when no wait chain is live on it."""
    value = tags_of(run).get(WAIT_TAG)
    return None if value is None else WaitTag.parse(value)


def is_bookkeeping(tag_key: str) -> bool:
    """Whether the provider owns the tag key."""
    return tag_key.startswith(TAG_PREFIX)
