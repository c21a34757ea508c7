"""The rules a run's declared tags follow: the service's limits and the provider's reserved keys.

Pure and dependency-free, so the construct library loads this very module at
synth time (see ``cdk_omics_run.handler_source``) and both apply the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Keys the provider writes itself (see ``bookkeeping``); templates may not declare them.
TAG_PREFIX = "cdk-omics-run:"
# Reserved by AWS for its own tags (AWS tagging best practices; HealthOmics user guide, "Tagging resources").
AWS_PREFIX = "aws:"
# At most 50 tags per run (HealthOmics user guide, "Tagging resources in HealthOmics";
# botocore's model leaves the map's size open). The provider may write up to
# BOOKKEEPING_TAG_SLOTS of them: fingerprint, owner, stack, replaces,
# replaces-fingerprint, retired and wait.
MAX_TAGS_PER_RUN = 50
BOOKKEEPING_TAG_SLOTS = 7
MAX_DECLARED_TAGS = MAX_TAGS_PER_RUN - BOOKKEEPING_TAG_SLOTS
# A batch's run carries the provider's stack tag only (its bookkeeping tags are the batch's): a run
# may declare the rest, merged by HealthOmics from the batch's default runTags and the run's own.
MAX_DECLARED_RUN_TAGS_IN_BATCH = MAX_TAGS_PER_RUN - 1


def declared_tags_problem(tags: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first rule the declared tags break, as (the tag's path, the problem), or None.

    Key and value lengths are the service model's own shape rules, checked
    with the rest of the request; this adds what the model does not carry.

    >>> declared_tags_problem({"cdk-omics-run:owner": "x"})
    ('Tags.cdk-omics-run:owner', 'reserved key; allowed: any key not starting with cdk-omics-run: or aws:')
    """
    for key in tags:
        if isinstance(key, str) and (key.startswith(TAG_PREFIX) or key.lower().startswith(AWS_PREFIX)):
            return f"Tags.{key}", f"reserved key; allowed: any key not starting with {TAG_PREFIX} or {AWS_PREFIX}"
    if len(tags) > MAX_DECLARED_TAGS:
        return "Tags", (
            f"got {len(tags)} tags; allowed: at most {MAX_DECLARED_TAGS} "
            f"(HealthOmics allows {MAX_TAGS_PER_RUN} per run, {BOOKKEEPING_TAG_SLOTS} are kept for the provider's own)"
        )
    return None
