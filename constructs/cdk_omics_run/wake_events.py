"""The provider's rule that delivers runs' status-change events to its wake queue.

HealthOmics sends a ``Run Status Change`` event to the account's default
event bus whenever a run changes status (HealthOmics user guide, "Using
EventBridge with AWS HealthOmics"); the handler signals the run's wait from it
(``lambda/omics_run/status_events.py``), so a wait ends within seconds rather
than at the next poll. Batches have their own event (``RunBatch Status
Change``, HealthOmics user guide, "Batch runs in HealthOmics", EventBridge
events for batches), which ``OmicsRunBatch.on_status_change`` offers; a
batch's wait still polls, one GetBatch per wake whatever the batch's size.

One rule per provider, for the runs of its account and region (a rule sees its
own region's bus), and only the statuses, workflows and output locations
that can end one of its waits (``run_event_pattern``). The queue's
policy lets EventBridge send only on behalf of this rule (``aws:SourceArn``,
Amazon SQS Developer Guide, "Amazon SQS policy examples"). A queue encrypted
with a customer managed key also needs the key to let ``events.amazonaws.com``
call ``kms:GenerateDataKey`` and ``kms:Decrypt`` (Amazon SQS Developer Guide,
"Configuring KMS permissions for AWS services"; EventBridge user guide,
"Amazon SQS queues as targets"): without it, EventBridge fails to deliver and
the events are lost without a sign.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsii
from aws_cdk import Annotations, IStableAnyProducer, Lazy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces.aws_events import IRuleRef
from constructs import Construct

DETAIL_TYPE = "Run Status Change"


@jsii.implements(IStableAnyProducer)
class _Produced:
    """A ``Lazy`` value computed by a plain function when the template is written (every run added by then)."""

    def __init__(self, produce: Callable[[], Any]) -> None:
        self._produce = produce

    def produce(self) -> Any:
        return self._produce()


@jsii.implements(events.IRuleTarget)
class _WakeQueueTarget:
    """The wake queue as the rule's target, its permissions granted by ``deliver_run_status_changes``."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(self, rule: IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._queue.queue_arn)


def deliver_run_status_changes(
    scope: Construct, queue: sqs.Queue, key: kms.IKey | None, detail: Callable[[], dict[str, list[str]]]
) -> events.Rule:
    """Adds the rule, its queue policy and, with ``key``, the key policy statement EventBridge needs.

    ``detail``: the pattern's ``detail``, read when the template is written, so
    that runs added later narrow or widen it (``run_event_pattern``).

    Example::

        rule = deliver_run_status_changes(provider, provider.wait_queue, None, lambda: {"status": ["COMPLETED"]})
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
        ),
    )
    cfn_rule = rule.node.default_child
    assert isinstance(cfn_rule, events.CfnRule)
    cfn_rule.add_property_override("EventPattern.detail", Lazy.any(_Produced(detail)))
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
