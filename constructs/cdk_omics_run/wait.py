"""The wait of a run or batch: a CloudFormation WaitCondition, and the attributes read once it succeeds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from aws_cdk import (
    CfnWaitCondition,
    CfnWaitConditionHandle,
    CrossStackReferences,
    CustomResource,
    Duration,
    ReferenceStrength,
    Stack,
)
from constructs import Construct

if TYPE_CHECKING:
    from cdk_omics_run.provider import OmicsRunProvider

RESULT_RESOURCE_TYPE = "Custom::OmicsRunResult"
# Properties that never call for a new wait: a tags-only or delete-policy change keeps the run.
NOT_WAIT_DEFINING = frozenset({"Tags", "DeletePolicy", "ServiceToken"})


class RunWait(Construct):
    """A waiting run's ``AWS::CloudFormation::WaitCondition`` (Timeout up to 12 hours) and its handle.

    The run resource answers CloudFormation as soon as its run starts; the
    provider signals the handle when the run reaches its target. The condition
    and handle are named after a digest of the run-defining properties, so a
    change that starts a new run brings a new condition (a WaitCondition's
    properties cannot be updated), and a tags-only change keeps them.
    ``result`` is a ``Custom::OmicsRunResult`` that depends on the condition and
    carries the run's attributes as they are once the wait succeeded: the
    run's ``attr_*`` point at it, so whatever uses them waits too.

    Example::

        run = OmicsRun(stack, "Align", ..., wait_for=WaitFor.COMPLETED, wait_timeout=Duration.hours(6))
        run.wait.condition  # the CfnWaitCondition
        CfnOutput(stack, "Outputs", value=run.attr_run_output_uri)  # deployed after the wait
    """

    def __init__(
        self,
        run: Construct,
        provider: OmicsRunProvider,
        properties: MutableMapping[str, Any],
        *,
        timeout: Duration,
        poll_interval: Duration | None,
        result_property: str = "RunId",
    ) -> None:
        timeout_seconds = timeout.to_seconds()
        properties["WaitTimeout"] = timeout_seconds
        if poll_interval is not None:
            properties["WaitPollInterval"] = poll_interval.to_seconds()
        key = wait_key(run, properties)
        super().__init__(run, f"Wait{key}")
        self._provider = provider
        self._run = run
        self._result_property = result_property
        self.handle = CfnWaitConditionHandle(self, "Handle")
        """The handle the provider signals; its Ref (a presigned URL) reaches the provider as WaitHandle."""
        properties["WaitHandle"] = self.handle.ref
        self.condition = CfnWaitCondition(
            self, "Condition", count=1, handle=self.handle.ref, timeout=str(timeout_seconds)
        )
        """The WaitCondition itself: it succeeds on the provider's SUCCESS signal."""
        self.result: CustomResource
        provider.enable_waiting()

    def follow(self, run_resource: CustomResource) -> None:
        """Orders the condition after the run resource, and adds the result that depends on the condition."""
        self.condition.node.add_dependency(run_resource)
        # The result sits beside the wait, not in it: its logical ID stays when a new run brings a new
        # wait, so a new run updates it (it reads the new run's attributes) and the output another stack
        # reads keeps its name. That stack reads it weakly (Fn::GetStackOutput, no Export): CloudFormation
        # refuses to modify an exported value another stack imports (template reference, Fn::ImportValue:
        # "you can't ... modify the exported output value"), which every new run would do.
        self.result = CustomResource(
            self._run,
            "Result",
            service_token=self._provider.service_token,
            resource_type=RESULT_RESOURCE_TYPE,
            properties={self._result_property: run_resource.ref},
        )
        self.result.node.add_dependency(self.condition)
        CrossStackReferences.of(self.result).produce(ReferenceStrength.WEAK)


def wait_key(scope: Construct, properties: MutableMapping[str, Any]) -> str:
    """A digest of what defines the run and its wait, as the template renders it.

    Tokens are resolved to their CloudFormation form ({"Ref": ...}), which is
    stable from one synth to the next and changes when an upstream wait does.
    """
    stack = Stack.of(scope)
    defining = {k: v for k, v in properties.items() if k not in NOT_WAIT_DEFINING}
    rendered = stack.resolve(defining)
    text = json.dumps(rendered, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8].upper()
