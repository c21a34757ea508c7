"""Runs of earlier releases, started before runs carried the stack tag, adopted by the current handler.

Such a run has the owner tag but no ``cdk-omics-run:stack``. Under the provider's policy
(``enforce_stack_tag``, with its adoption grant) the handler may read it and add this
stack's tag, nothing else: it checks the owner digest, tags the run once, then handles it as
usual. A run whose owner tag names another resource is never adopted.
"""

from __future__ import annotations

from events import LOGICAL_ID, STACK_ID, Stack, operations
from support.omics_stand_in import OmicsStandIn
from test_provider_runtime_sequences import A_REQUEST, A, B

from omics_run.bookkeeping import FINGERPRINT_TAG, OWNER_TAG, STACK_TAG, fingerprint, owner


def run_of_an_earlier_release(omics: OmicsStandIn, run_owner: str = owner(STACK_ID, LOGICAL_ID)) -> dict:
    """A run as the handler before the stack tag left it: fingerprint and owner tags, no stack tag."""
    tags = {"team": "genomics", FINGERPRINT_TAG: fingerprint(A_REQUEST, None), OWNER_TAG: run_owner}
    return omics.add_run(
        status="RUNNING", workflowId="1234567", roleArn=A["RoleArn"], outputUri=A["OutputUri"], tags=tags
    )


def test_a_tags_only_update_adopts_the_run_and_starts_none(stack: Stack, omics: OmicsStandIn) -> None:
    old = run_of_an_earlier_release(omics)
    omics.enforce_stack_tag(STACK_ID)
    stack.properties, stack.physical_id = A, old["id"]

    response = stack.update({**A, "Tags": {"team": "genomics", "cost-centre": "42"}})

    assert response["PhysicalResourceId"] == old["id"]
    assert operations(omics) == ["GetRun", "TagResource", "TagResource"]
    assert omics.requests[1].body == {"tags": {STACK_TAG: STACK_ID}}  # adopted first, its tag alone
    assert omics.requests[2].body == {"tags": {"cost-centre": "42"}}
    assert omics.runs[old["id"]]["tags"][STACK_TAG] == STACK_ID


def test_an_update_of_parameters_adopts_the_run_then_re_runs_it(stack: Stack, omics: OmicsStandIn) -> None:
    old = run_of_an_earlier_release(omics)
    omics.enforce_stack_tag(STACK_ID)
    stack.properties, stack.physical_id = A, old["id"]

    stack.update(B)

    assert operations(omics) == ["GetRun", "TagResource", "StartRun"]
    [body] = omics.start_run_bodies()
    assert body["runId"] == old["id"]
    assert body["tags"]["cdk-omics-run:replaces"] == old["id"]


def test_a_delete_adopts_the_run_then_applies_the_delete_policy(stack: Stack, omics: OmicsStandIn) -> None:
    old = run_of_an_earlier_release(omics)
    omics.enforce_stack_tag(STACK_ID)

    response = stack.delete(physical_id=old["id"], properties=A)

    assert response["Status"] == "SUCCESS"
    assert operations(omics) == ["GetRun", "TagResource", "TagResource", "CancelRun"]
    assert omics.runs[old["id"]]["status"] == "CANCELLED"
    assert omics.runs[old["id"]]["tags"]["cdk-omics-run:retired"] == "true"


def test_a_run_of_another_resource_is_never_adopted(stack: Stack, omics: OmicsStandIn) -> None:
    theirs = run_of_an_earlier_release(omics, run_owner=owner(STACK_ID, "AnotherRun"))
    omics.enforce_stack_tag(STACK_ID)

    stack.delete(physical_id=theirs["id"], properties=A)

    assert operations(omics) == ["GetRun"]  # read (the policy allows that), but not tagged
    assert STACK_TAG not in omics.runs[theirs["id"]]["tags"]
    assert omics.runs[theirs["id"]]["status"] == "RUNNING"


def test_a_refused_adoption_fails_the_update_naming_it_and_starts_nothing(stack: Stack, omics: OmicsStandIn) -> None:
    old = run_of_an_earlier_release(omics)
    omics.enforce_stack_tag(STACK_ID)
    omics.fail_next("TagResource", "AccessDeniedException", message="not authorized")
    stack.properties, stack.physical_id = A, old["id"]

    response = stack.update(A, expected_status="FAILED")

    assert response["Reason"] == "CramToBam: TagResource failed: AccessDeniedException: not authorized"
    assert operations(omics) == ["GetRun", "TagResource"]
