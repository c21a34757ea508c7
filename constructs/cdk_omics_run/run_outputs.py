"""A waiting run's outputs as values: ``Custom::OmicsRunResult`` resources that answer the outputs a stack uses.

Each declared output becomes an attribute of a result resource read after the run's
WaitCondition (so only once the run COMPLETED); the provider reads the run's output
summary, checks each object exists, and fails the resource, naming the output, when one
does not. Only declared outputs are answered, and they are spread over as many resources
as CloudFormation's limit on a custom resource's response (4,096 bytes) needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import CustomResource, Fn, IResolveContext, IStableAnyProducer, Lazy, Stack
from constructs import Construct

from cdk_omics_run.acknowledgements import acknowledge_wildcard
from cdk_omics_run.arguments import LIST_OUTPUT_DELIMITER
from cdk_omics_run.data_locations import S3Data, register_output_token
from cdk_omics_run.run_role import grant_prefix_read
from cdk_omics_run.wait import RESULT_RESOURCE_TYPE

if TYPE_CHECKING:
    from cdk_omics_run.provider import OmicsRunProvider
    from cdk_omics_run.wait import RunWait

# The longest an output's URI can be: s3:// + a bucket name (63) + / + a key (1,024 bytes, S3's limit).
LONGEST_OUTPUT_URI = 5 + 63 + 1 + 1024
# A response is at most 4,096 bytes; its other fields (Status, a Reason of up to 256, the stack
# ID, the request ID, a logical ID of up to 255...) take up to about 900 of them.
RESPONSE_DATA_BUDGET = 4096 - 900
# So two file outputs per resource, each counted at its longest ("OutputN": "<uri>"): 2 x 1,105.
FILE_OUTPUTS_PER_RESULT = RESPONSE_DATA_BUDGET // (LONGEST_OUTPUT_URI + 12)


class RunOutputs(Construct):
    """The result resources of one waiting run's declared outputs, made as outputs are first asked for.

    ``output``: where the run writes (its output location), granted to the provider to read
    the summary and head the outputs, and to downstream generated roles that read them.
    """

    def __init__(self, wait: RunWait, provider: OmicsRunProvider, run_id: str, output: S3Data) -> None:
        super().__init__(wait, "Outputs")
        self._wait = wait
        self._provider = provider
        self._run_id = run_id
        self._output = output
        self._attributes: dict[tuple[str, str], str] = {}
        self._results: list[tuple[CustomResource, dict[str, Any], bool]] = []
        self._allow_provider_reads()

    def attribute(self, kind: str, value: str) -> str:
        """The token of one output's attribute (``kind``: Name, List or Path); the same output answers once."""
        if (kind, value) not in self._attributes:
            result, outputs = self._result_with_room(alone=kind == "List")
            key = f"Output{len(outputs)}"
            outputs[key] = {kind: value}
            token = result.get_att_string(key)
            register_output_token(token, self._output)
            self._attributes[(kind, value)] = token
        return self._attributes[(kind, value)]

    def list_attribute(self, value: str) -> list[str]:
        """An Array[File] output as a CloudFormation list (the provider's joined URIs, split)."""
        joined = self.attribute("List", value)
        split = Fn.split(LIST_OUTPUT_DELIMITER, joined)
        for item in split:
            register_output_token(item, self._output, joined=joined)
        return split

    def _result_with_room(self, *, alone: bool) -> tuple[CustomResource, dict[str, Any]]:
        """A result resource with room for one more output: a list output has one of its own."""
        for resource, declared, single in self._results:
            if not single and not alone and len(declared) < FILE_OUTPUTS_PER_RESULT:
                return resource, declared
        properties: dict[str, Any] = {}
        resource = CustomResource(
            self,
            f"Result{len(self._results)}",
            service_token=self._provider.service_token,
            resource_type=RESULT_RESOURCE_TYPE,
            properties={"RunId": self._run_id, "Outputs": Lazy.any(_Outputs(properties))},
        )
        resource.node.add_dependency(self._wait.condition)
        self._results.append((resource, properties, alone))
        return resource, properties

    def _allow_provider_reads(self) -> None:
        """The provider reads the summary and heads the outputs under the run's output location only."""
        role = self._provider.role
        grant_prefix_read(role, self._output.bucket_name, self._output.key, Stack.of(self).partition)
        key = None if self._output.bucket is None else self._output.bucket.encryption_key
        if key is not None:
            key.grant_decrypt(role)
        acknowledge_wildcard(
            self._provider.policy,
            f"arn:<AWS::Partition>:s3:::{self._output.bucket_name}/{self._output.key}*",
            "the provider reads a waiting run's output summary and heads its declared outputs, whose keys "
            "HealthOmics names at run time under the run's output location",
        )


@jsii.implements(IStableAnyProducer)
class _Outputs:
    """The declared outputs of one result resource, as they stand when the template is written."""

    def __init__(self, outputs: dict[str, Any]) -> None:
        self._outputs = outputs

    def produce(self, context: IResolveContext | None = None) -> Any:
        return dict(self._outputs)


__all__ = ["FILE_OUTPUTS_PER_RESULT", "RunOutputs"]
