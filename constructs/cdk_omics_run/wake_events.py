"""The provider's rule that delivers runs' status-change events to its wake queue.

HealthOmics sends a ``Run Status Change`` event to the account's default
event bus whenever a run changes status (HealthOmics user guide, "Using
EventBridge with AWS HealthOmics"); the handler signals the run's wait from it
(``lambda/omics_run/status_events.py``), so a wait ends within seconds rather
than at the next poll. Batches have no documented status-change event, so
their waits keep polling.

One rule per provider, for the runs of its account and region (a rule sees its
own region's bus), and only the statuses that can end a wait. The queue's
policy lets EventBridge send only on behalf of this rule (``aws:SourceArn``,
Amazon SQS Developer Guide, "Amazon SQS policy examples"). A queue encrypted
with a customer managed key also needs the key to let ``events.amazonaws.com``
call ``kms:GenerateDataKey`` and ``kms:Decrypt`` (Amazon SQS Developer Guide,
"Configuring KMS permissions for AWS services"; EventBridge user guide,
"Amazon SQS queues as targets"): without it, EventBridge fails to deliver and
the events are lost without a sign.
"""

from __future__ import annotations

import jsii
from aws_cdk import Annotations, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces.aws_events import IRuleRef
from constructs import Construct

DETAIL_TYPE = "Run Status Change"
# The handler's status_events.DECIDING_STATUSES: the statuses that can end a wait. PENDING,
# STARTING and STOPPING never do, so the rule leaves them out and they cost no invocation.
DECIDING_STATUSES = ("RUNNING", "COMPLETED", "FAILED", "CANCELLED", "DELETED")


@jsii.implements(events.IRuleTarget)
class _WakeQueueTarget:
    """The wake queue as the rule's target, its permissions granted by ``deliver_run_status_changes``."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(self, rule: IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._queue.queue_arn)


def deliver_run_status_changes(scope: Construct, queue: sqs.Queue, key: kms.IKey | None) -> events.Rule:
    """Adds the rule, its queue policy and, with ``key``, the key policy statement EventBridge needs.

    Example::

        rule = deliver_run_status_changes(provider, provider.wait_queue, provider.options.encryption_key)
    """
    stack = Stack.of(scope)
    rule = events.Rule(
        scope,
        "RunStatusChanges",
        description="HealthOmics run status changes that can end a wait, to the provider's wake queue",
        event_pattern=events.EventPattern(
            source=["aws.omics"],
            detail_type=[DETAIL_TYPE],
            account=[stack.account],
            detail={"status": list(DECIDING_STATUSES)},
        ),
    )
    rule.add_target(_WakeQueueTarget(queue))
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid="RunStatusChanges",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}},
        )
    )
    if key is not None:
        _let_events_use(scope, key, stack)
    return rule


def _let_events_use(scope: Construct, key: kms.IKey, stack: Stack) -> None:
    # The key cannot name the rule's ARN: the rule targets the queue, which the key encrypts (a cycle).
    # The rules of this account and region stand for it.
    added = key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="RunStatusChangesToEncryptedQueue",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=["*"],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:events:{stack.region}:{stack.account}:rule/*"},
            },
        )
    )
    if not added.statement_added:
        Annotations.of(scope).add_warning_v2(
            "cdk-omics-run:importedEncryptionKeyEvents",
            "encryption_key is imported, so its key policy is not changed here: it must let events.amazonaws.com "
            "call kms:GenerateDataKey and kms:Decrypt, or runs' status-change events never reach the wake queue "
            "and waits end only by polling (docs/waiting.md)",
        )
