"""The OmicsRun construct: one HealthOmics workflow run as a stack resource."""

from __future__ import annotations

import difflib
import json
import sys
import warnings
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import jsii
from aws_cdk import (
    Annotations,
    CustomResource,
    Duration,
    IStableAnyProducer,
    ITaggable,
    Lazy,
    Stack,
    TagManager,
    TagType,
)
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_omics as omics
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_omics_run.acknowledgements import acknowledge_wildcard
from cdk_omics_run.argument_rules import (
    check_exclusive_arguments,
    check_statuses,
    check_wait_arguments,
    wait_settings_of,
)
from cdk_omics_run.arguments import (
    ArgumentError,
    argument_name_of,
    members_by_argument,
    resource_properties,
    resource_settings,
)
from cdk_omics_run.data_locations import DataReferences, S3Data, output_location, rendered_document
from cdk_omics_run.documentation import show_init_signature, with_argument_fields
from cdk_omics_run.enums import (
    CacheBehavior,
    DeletePolicy,
    LogLevel,
    NetworkingMode,
    OutputUriPrefixMode,
    RetentionMode,
    ScratchStorageMode,
    StorageType,
    WaitFor,
    WorkflowType,
)
from cdk_omics_run.managed_role import ManagedPolicyRole
from cdk_omics_run.provider import OmicsRunProvider
from cdk_omics_run.resource_attributes import ResourceAttributes
from cdk_omics_run.run_outputs import RunOutputs
from cdk_omics_run.run_role import declared_inputs, generated_run_role, grant_prefix_read, is_literal_s3_uri
from cdk_omics_run.status_events import status_change_rule
from cdk_omics_run.tag_limits import check_tags_after_propagation
from cdk_omics_run.tokens import is_token
from cdk_omics_run.wait import RunWait
from cdk_omics_run.workflow import OmicsWorkflow, workflow_arguments
from cdk_omics_run.workflow_parameters import check_parameters

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:
    # Type checkers only: annotations are never evaluated at run time (PEP 563).
    from typing_extensions import Unpack

RESOURCE_TYPE = "Custom::OmicsRun"
# A WaitCondition's longest Timeout; most Ready2Run estimates fit within it.
DEFAULT_WAIT_TIMEOUT = Duration.hours(12)
RESOURCE_SETTING_ARGUMENTS = ("rerun_token", "delete_policy", "wait_for", "wait_timeout", "wait_poll_interval")

Document = Mapping[str, Any] | str
# Where a run writes: an s3:// URI (bucket.s3_url_for_object(prefix) included), (bucket, prefix) or s3.Location.
OutputLocation = str | tuple[s3.IBucket, str] | s3.Location


class OmicsRunArguments(TypedDict, total=False):
    """The keyword arguments of ``OmicsRun``, each optional: the overrides ``from_cli_input_json`` takes.

    A type checker then refuses a misspelled override (PEP 692), as it refuses
    a misspelled argument of ``OmicsRun(...)``. Each key has the type of the
    argument of the same name; a test keeps the two in step.
    """

    role_arn: str | iam.IRole | None
    output_uri: OutputLocation
    workflow: OmicsWorkflow | None
    workflow_id: str | omics.CfnWorkflow | None
    workflow_type: WorkflowType | str | None
    run_id: str | None
    name: str | None
    cache_id: str | omics.CfnRunCache | None
    cache_behavior: CacheBehavior | str | None
    run_group_id: str | omics.CfnRunGroup | None
    priority: int | None
    parameters: Document | None
    storage_capacity: int | None
    log_level: LogLevel | str | None
    tags: Mapping[str, str] | None
    retention_mode: RetentionMode | str | None
    storage_type: StorageType | str | None
    workflow_owner_id: str | None
    workflow_version_name: str | omics.CfnWorkflowVersion | None
    networking_mode: NetworkingMode | str | None
    scratch_storage_mode: ScratchStorageMode | str | None
    configuration_name: str | omics.CfnConfiguration | None
    session_policy: str | None
    engine_settings: Document | None
    output_uri_prefix_mode: OutputUriPrefixMode | str | None
    requester_pays_enabled: bool | None
    parameters_uri: str | None
    rerun_token: str | None
    delete_policy: DeletePolicy | str | None
    wait_for: WaitFor | str | None
    wait_timeout: Duration | None
    wait_poll_interval: Duration | None


@jsii.implements(ITaggable)
class OmicsRun(ResourceAttributes, Construct):
    """Starts an AWS HealthOmics workflow run when the stack deploys.

    Every keyword argument but the last five is a StartRun request member in
    snake_case (``workflowId`` is ``workflow_id``); the last five configure the
    resource itself. ``output_uri`` is required, and exactly one of
    ``workflow_id`` and ``run_id``. Literal values are checked at synth time
    against botocore's service model; CDK tokens pass unchecked. The run's ID
    becomes the resource's physical ID; its ARN, ID, UUID, output URI and
    status are available as ``attr_*`` properties.

    Example::

        from aws_cdk import App, CfnOutput, Stack
        from cdk_omics_run import LogLevel, OmicsRun

        app = App()
        stack = Stack(app, "Genomics")
        run = OmicsRun(
            stack,
            "CramToBam",
            workflow_id="1234567",
            output_uri="s3://my-bucket/workflow-output/",
            # Without role_arn, the generated run role may read these inputs.
            parameters={"sample_name": "NA12878", "input_cram": "s3://my-bucket/NA12878.cram"},
            log_level=LogLevel.ALL,
        )
        CfnOutput(stack, "RunId", value=run.attr_id)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        role_arn: str | iam.IRole | None = None,
        output_uri: OutputLocation,
        workflow: OmicsWorkflow | None = None,
        workflow_id: str | omics.CfnWorkflow | None = None,
        workflow_type: WorkflowType | str | None = None,
        run_id: str | None = None,
        name: str | None = None,
        cache_id: str | omics.CfnRunCache | None = None,
        cache_behavior: CacheBehavior | str | None = None,
        run_group_id: str | omics.CfnRunGroup | None = None,
        priority: int | None = None,
        parameters: Document | None = None,
        storage_capacity: int | None = None,
        log_level: LogLevel | str | None = None,
        tags: Mapping[str, str] | None = None,
        retention_mode: RetentionMode | str | None = None,
        storage_type: StorageType | str | None = None,
        workflow_owner_id: str | None = None,
        workflow_version_name: str | omics.CfnWorkflowVersion | None = None,
        networking_mode: NetworkingMode | str | None = None,
        scratch_storage_mode: ScratchStorageMode | str | None = None,
        configuration_name: str | omics.CfnConfiguration | None = None,
        session_policy: str | None = None,
        engine_settings: Document | None = None,
        output_uri_prefix_mode: OutputUriPrefixMode | str | None = None,
        requester_pays_enabled: bool | None = None,
        parameters_uri: str | None = None,
        rerun_token: str | None = None,
        delete_policy: DeletePolicy | str | None = None,
        wait_for: WaitFor | str | None = None,
        wait_timeout: Duration | None = None,
        wait_poll_interval: Duration | None = None,
    ) -> None:
        """Declares the run. The class's documentation describes every argument."""
        super().__init__(scope, id)
        # Every keyword argument, by name: all of locals() but these, as nothing else is bound yet.
        arguments = {k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")}
        granting_workflow = workflow if isinstance(workflow, OmicsWorkflow) and workflow.grants_start_runs() else None
        # workflow= names a workflow ID and the exact version of its current content.
        arguments.update(workflow_arguments(self, arguments.pop("workflow"), workflow_id, workflow_version_name))
        self._check_workflow_or_source_run(arguments["workflow_id"], run_id)
        check_exclusive_arguments(self, arguments, members_by_argument())
        check_wait_arguments(self, wait_for=wait_for, no_wait=WaitFor.NONE.value, **wait_settings_of(arguments))
        settings = {name: arguments.pop(name) for name in RESOURCE_SETTING_ARGUMENTS}
        explicit_tags = arguments.pop("tags")
        output_uri, self._output = output_location(self, output_uri)
        arguments["output_uri"] = output_uri
        arguments["parameters"], self._parameter_data = rendered_document(self, "parameters", parameters)
        arguments["engine_settings"], _ = rendered_document(self, "engine_settings", engine_settings)
        properties = {**resource_properties(self, arguments), **resource_settings(self, **settings)}
        if isinstance(workflow, OmicsWorkflow):
            check_parameters(self, workflow.parameter_template, workflow.node.path, properties.get("Parameters"))
        if isinstance(output_uri, str) and not is_token(output_uri) and not output_uri.startswith("s3://"):
            raise ArgumentError(
                f"{self.node.path}: argument output_uri: got {output_uri!r}; "
                "allowed: an s3:// URI, such as 's3://my-bucket/outputs/'"
            )
        if storage_capacity is not None and properties.get("StorageType") == StorageType.DYNAMIC.value:
            message = "storage_capacity is ignored with DYNAMIC storage: HealthOmics scales the storage itself"
            Annotations.of(self).add_warning_v2("cdk-omics-run:storageCapacityIgnored", message)
            # CDK prints annotations only through its CLI: `python app.py` users see this one too.
            warnings.warn(f"{self.node.path}: {message}", UserWarning, stacklevel=2)
        self._output_uri = output_uri
        self.run_role: ManagedPolicyRole | None = None
        """The generated run role (None when ``role_arn`` was given); add grants it cannot infer.
        Its statements, and those added with ``run_role.add_to_policy``, are in ``run_role.policy``."""
        if role_arn is None:
            self.run_role = self._generated_role(properties, cache_id, arguments["parameters"])
            properties["RoleArn"] = self.run_role.role_arn

        self._tags = TagManager(TagType.MAP, RESOURCE_TYPE)
        if explicit_tags is not None:
            properties["Tags"] = resource_properties(self, {"tags": explicit_tags})["Tags"]
        # CDK's Tags.of(...) reaches the run through this construct's TagManager; explicit tags win.
        properties["Tags"] = Lazy.any(_MergedTags(self._tags, properties.get("Tags")))
        check_tags_after_propagation(self, self._tags, explicit_tags, RESOURCE_TYPE)

        # Of the scope, not of self: the same stack, and its provider is known after the first run.
        provider = OmicsRunProvider.of(scope)
        provider.allow_pass_role(properties["RoleArn"])
        self._allow_start_run(provider, properties, workflow_granted=granting_workflow is not None)
        self.wait: RunWait | None = None
        """The run's WaitCondition and the attributes read after it (None when the run does not wait)."""
        self._wait_for = properties.get("WaitFor", WaitFor.NONE.value)
        self._run_outputs: RunOutputs | None = None
        if properties.get("WaitFor", WaitFor.NONE.value) != WaitFor.NONE.value:
            self.wait = RunWait(
                self,
                provider,
                properties,
                timeout=wait_timeout or DEFAULT_WAIT_TIMEOUT,
                poll_interval=wait_poll_interval,
            )
            # Where a status-change event finds the handle: its physical ID is its URL (wake_events).
            properties["WaitHandleLogicalId"] = self.wait.handle.logical_id
            # A run started from another run's ID has the workflow of that run, not known here.
            provider.enable_run_status_events(
                properties["WaitFor"], properties.get("WorkflowId"), _output_location(properties.get("OutputUri"))
            )
        self._resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties=properties,
        )
        if granting_workflow is not None:
            granting_workflow.grant_start_run(self._resource)
        if self.wait is not None:
            self.wait.follow(self._resource)

    @property
    def tags(self) -> TagManager:
        """The run's tags as CDK's tagging sees them (``Tags.of(scope).add(...)`` reaches the run)."""
        return self._tags

    def grant_read_outputs(self, grantee: iam.IGrantable) -> iam.Grant:
        """Lets ``grantee`` read everything under the run's output location (and decrypt it, with its bucket's key).

        Example::

            run.grant_read_outputs(analysis_function)
        """
        output = self._placed_output("grant_read_outputs")
        grant = grant_prefix_read(grantee, output.bucket_name, output.key, Stack.of(self).partition)
        key = None if output.bucket is None else output.bucket.encryption_key
        return grant if key is None else grant.combine(key.grant_decrypt(grantee))

    def _generated_role(self, properties: Mapping[str, Any], cache: Any, parameters: Any) -> ManagedPolicyRole:
        document = properties.get("Parameters")
        if isinstance(document, str) and not is_token(document):
            parameters = json.loads(document)
        inputs = declared_inputs(parameters if isinstance(parameters, Mapping) else None)
        warn_unplaced_data(self, self._parameter_data)
        # A run cache declared as an L1 shows its S3 location; one given by ID does not (docs/security.md).
        cache_uri = cache.cache_s3_location if isinstance(cache, omics.CfnRunCache) else None
        return generated_run_role(
            self,
            inputs=inputs.add(self._parameter_data.locations),
            outputs=[self._placed_output("role_arn")],
            cache_uri=cache_uri if is_literal_s3_uri(cache_uri) else None,
            private_workflow=properties.get("WorkflowType", WorkflowType.PRIVATE.value) == WorkflowType.PRIVATE.value
            and "WorkflowOwnerId" not in properties,
        )

    def _placed_output(self, needed_by: str) -> S3Data:
        """The output location as S3 data, which a generated role or a grant needs to name."""
        if self._output is None:
            given = "a value known only at deploy time" if is_token(self._output_uri) else repr(self._output_uri)
            raise ArgumentError(
                f"{self.node.path}: argument output_uri: got {given}; allowed with "
                f"{'no role_arn' if needed_by == 'role_arn' else needed_by}: a literal s3://bucket/prefix/ URI, "
                "bucket.s3_url_for_object('prefix/') or (bucket, 'prefix/') for a bucket of this app"
            )
        return self._output

    @staticmethod
    def _allow_start_run(
        provider: OmicsRunProvider, properties: Mapping[str, Any], *, workflow_granted: bool = False
    ) -> None:
        """Grants StartRun on each resource the request names, as IAM authorizes it.

        The Service Authorization Reference for AWS HealthOmics lists StartRun's
        resource types: run (required), workflow, runGroup, runCache and
        configuration. The user guide (identity-based policies) adds: "To grant
        permission for users to perform actions on a workflow version, you must
        add the workflow and the specific workflow version to the resource list."

        ``workflow_granted``: an ``OmicsWorkflow`` of the stack grants its own workflow and version.
        """
        named = properties
        if workflow_granted:
            named = {k: v for k, v in properties.items() if k not in ("WorkflowId", "WorkflowVersionName")}
        for arn in start_run_resource_arns(provider, named):
            provider.allow_start_run(arn)
        workflow_id = properties.get("WorkflowId")
        if properties.get("WorkflowType") == WorkflowType.READY2RUN.value and not is_token(workflow_id):
            policy = provider.policy
            reason = "a Ready2Run workflow is owned by HealthOmics, not by this account"
            acknowledge_wildcard(policy, f"arn:<AWS::Partition>:omics:<AWS::Region>:*:workflow/{workflow_id}", reason)
            version = properties.get("WorkflowVersionName")
            if version is not None and not is_token(version):
                acknowledge_wildcard(
                    policy,
                    f"arn:<AWS::Partition>:omics:<AWS::Region>:*:workflow/{workflow_id}/version/{version}",
                    reason,
                )

    @classmethod
    def from_cli_input_json(
        cls,
        scope: Construct,
        id: str,
        request: Mapping[str, Any] | str | Path,
        **overrides: Unpack[OmicsRunArguments],
    ) -> OmicsRun:
        """Builds the run from a StartRun request in the AWS CLI's ``--cli-input-json`` form.

        ``request`` is the request itself or the path of a JSON file holding it.
        Keyword ``overrides``, any keyword argument of ``OmicsRun``, replace the
        request's values, as command-line options override ``--cli-input-json``
        in the CLI. ``requestId`` is accepted and ignored: the provider derives
        its own, so that a redelivered event starts no second run. Unknown keys
        and overrides raise ``ArgumentError``, naming every one of them.

        Example::

            OmicsRun.from_cli_input_json(stack, "CramToBam", "examples/cram-to-bam.json",
                                         name="cram-to-bam-nightly")
        """
        # The construct's path is read from jsii only for an error message (two calls per run otherwise).
        body = request if isinstance(request, Mapping) else _read_request(_path_of(scope, id), request)
        members = {m.wire_name: argument_name_of(m.wire_name) for m in members_by_argument().values()}
        known_keys = [*members, "requestId"]
        unknown_keys = [str(key) for key in body if key not in known_keys]
        if unknown_keys:
            raise ArgumentError(
                _unknown_names(_path_of(scope, id), "key", unknown_keys, "in the StartRun request", known_keys)
            )
        known_arguments = list(OmicsRunArguments.__annotations__)
        unknown_arguments = [name for name in overrides if name not in known_arguments]
        if unknown_arguments:
            raise ArgumentError(
                _unknown_names(
                    _path_of(scope, id), "argument", unknown_arguments, "of from_cli_input_json", known_arguments
                )
            )
        arguments: dict[str, Any] = {members[key]: value for key, value in body.items() if key != "requestId"}
        arguments.update(overrides)
        return cls(scope, id, **arguments)

    def _check_workflow_or_source_run(self, workflow_id: Any, run_id: Any) -> None:
        if (workflow_id is None) == (run_id is None):
            given = "both" if workflow_id is not None else "neither"
            raise ArgumentError(
                f"{self.node.path}: arguments workflow_id and run_id: got {given}; "
                "allowed: exactly one (a workflow to run, or a run to repeat)"
            )

    @property
    def attr_run_output_uri(self) -> str:
        """Where the run writes its outputs."""
        return self._attributes.get_att_string("RunOutputUri")

    def output(self, name: str) -> str:
        """The S3 URI of one output the run declares, read from its output summary once it COMPLETED.

        ``name`` is the summary's key (``BWAMappingWorkflow.merged_bam``) or, when no other
        key ends the same way, the part after its last dot (``merged_bam``). The object is
        checked to exist when the run completes; a missing or ambiguous output fails the
        deploy there, naming it, before anything that reads it starts. Needs
        ``wait_for=WaitFor.COMPLETED``. A generated role of a run given this value may read it.

        Example::

            align = OmicsRun(stack, "Align", ..., wait_for=WaitFor.COMPLETED)
            OmicsRun(stack, "Call", ..., parameters={"input_bam": align.output("merged_bam")})
        """
        return self._outputs("output", name).attribute("Name", name)

    def output_list(self, name: str) -> list[str]:
        """The S3 URIs of an ``Array[File]`` output, as a CloudFormation list (see :meth:`output`).

        Example::

            OmicsRun(stack, "Merge", ..., parameters={"bams": align.output_list("sorted_bams")})
        """
        return self._outputs("output_list", name).list_attribute(name)

    def output_path(self, path: str) -> str:
        """The S3 URI of a file under the run's output location (``runOutputUri``), checked to exist once it
        COMPLETED: Nextflow's published files (``out/...``), or any file you know the run writes.

        Example::

            OmicsRun(stack, "Report", ..., parameters={"vcf": nextflow_run.output_path("out/calls/sample.vcf.gz")})
        """
        if not isinstance(path, str) or not path.strip("/") or is_token(path):
            raise ArgumentError(
                f"{self.node.path}: output_path: got {path!r}; allowed: a literal path under the run's output "
                "location, such as 'out/calls/sample.vcf.gz'"
            )
        return self._outputs("output_path", path.strip("/")).attribute("Path", path.strip("/"))

    def _outputs(self, method: str, name: str) -> RunOutputs:
        if method != "output_path" and (not isinstance(name, str) or not name or is_token(name)):
            raise ArgumentError(
                f"{self.node.path}: {method}: got {name!r}; allowed: an output's name in the run's output summary, "
                "such as 'BWAMappingWorkflow.merged_bam' or 'merged_bam'"
            )
        if self.wait is None or self._wait_for != WaitFor.COMPLETED.value:
            raise ArgumentError(
                f"{self.node.path}: {method}({name!r}): the run's outputs are known once it completes; "
                f"allowed on a run declared with wait_for=WaitFor.COMPLETED (this one waits for {self._wait_for})"
            )
        if self._output is None:
            raise ArgumentError(
                f"{self.node.path}: {method}({name!r}): needs an output location the construct can place; allowed "
                "with output_uri a literal s3:// URI, (bucket, prefix) or bucket.s3_url_for_object(prefix)"
            )
        if self._run_outputs is None:
            self._run_outputs = RunOutputs(self.wait, OmicsRunProvider.of(self), self._resource.ref, self._output)
        return self._run_outputs

    def on_status_change(
        self,
        id: str,
        *,
        target: events.IRuleTarget | None = None,
        statuses: Sequence[str] | None = None,
        description: str | None = None,
    ) -> events.Rule:
        """An EventBridge rule on this run's HealthOmics ``Run Status Change`` events.

        The way to chain work beyond the 12 hours a stack can wait: HealthOmics
        sends these events (source ``aws.omics``; ``detail`` has ``runId``,
        ``status``, ``arn`` and ``runOutputUri``) as the run moves through
        PENDING, STARTING, RUNNING, STOPPING, then COMPLETED, FAILED, CANCELLED
        or DELETED. EventBridge delivers them on a best-effort basis. The rule
        follows the run resource itself, never its wait.

        Example::

            run = OmicsRun(stack, "Align", ..., wait_for=WaitFor.RUNNING)
            run.on_status_change("OnDone", target=targets.LambdaFunction(next_step),
                                 statuses=["COMPLETED"])
        """
        check_statuses(self, statuses, operation="GetRun")
        return status_change_rule(
            self,
            id,
            detail_type="Run Status Change",
            detail={"runId": [self._resource.get_att_string("Id")]},
            statuses=statuses,
            target=target,
            description=description or f"HealthOmics status changes of the run of {self.node.path}",
        )


def start_run_resource_arns(provider: OmicsRunProvider, properties: Mapping[str, Any]) -> list[str]:
    """The ARNs, besides ``run/*``, that StartRun is authorized against for these properties.

    ARN formats from the Service Authorization Reference for AWS HealthOmics:
    ``workflow/${Id}``, ``workflow/${Id}/version/${VersionName}``,
    ``runGroup/${Id}``, ``runCache/${Id}``, ``configuration/${Name}``.
    """
    arns: list[str] = []
    workflow_id = properties.get("WorkflowId")
    if workflow_id is not None:
        # Ready2Run workflows belong to HealthOmics; shared ones to their owner's account.
        ready2run = properties.get("WorkflowType") == WorkflowType.READY2RUN.value
        account = "*" if ready2run else properties.get("WorkflowOwnerId")
        arns.append(provider.omics_arn(f"workflow/{workflow_id}", account))
        version = properties.get("WorkflowVersionName")
        if version is not None:
            arns.append(provider.omics_arn(f"workflow/{workflow_id}/version/{version}", account))
    for property_name, resource_type in (
        ("RunGroupId", "runGroup"),
        ("CacheId", "runCache"),
        ("ConfigurationName", "configuration"),
    ):
        if properties.get(property_name) is not None:
            arns.append(provider.omics_arn(f"{resource_type}/{properties[property_name]}"))
    return arns


def warn_unplaced_data(scope: Construct, data: DataReferences) -> None:
    """Warns, per value, that a deploy-time parameter whose bucket is unknown gets no read grant of its own."""
    for where in data.unknown:
        message = (
            f"{where} is a value known only at deploy time whose bucket cannot be known here, so the generated "
            "run role gets no read on it (the other inputs keep theirs); if it names S3 data, pass the bucket "
            "object ((bucket, key), or bucket.s3_url_for_object(key)) or grant it with run.run_role.add_to_policy(...)"
        )
        Annotations.of(scope).add_warning_v2("cdk-omics-run:ungrantedInput", message)
        # CDK prints annotations only through its CLI: `python app.py` users see this one too.
        warnings.warn(f"{scope.node.path}: {message}", UserWarning, stacklevel=4)


@jsii.implements(IStableAnyProducer)
class _MergedTags:
    """The run's tags at synth time: those CDK's tagging added, then the explicit ones on top."""

    def __init__(self, tag_manager: TagManager, explicit: Any) -> None:
        self._tag_manager = tag_manager
        self._explicit = explicit

    def produce(self) -> Any:
        if is_token(self._explicit):
            return self._explicit
        # None leaves the property out, rather than sending empty tags.
        return {**(self._tag_manager.render_tags() or {}), **(self._explicit or {})} or None


def _output_location(output_uri: Any) -> str | None:
    """What a run's ``runOutputUri`` starts with: its literal output URI without the last "/"; None if not known.

    The run's outputs go under the URI, in a folder named by the run's ID, or
    straight into it with ``NONE_WITH_OVERWRITE``, which may drop that "/".
    """
    if not isinstance(output_uri, str) or is_token(output_uri):
        return None
    return output_uri.rstrip("/")


def _path_of(scope: Construct, id: str) -> str:
    """The path a construct ``id`` in ``scope`` will have, for messages about it before it exists."""
    return f"{scope.node.path}/{id}"


def _read_request(where: str, request: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    if isinstance(request, Mapping):
        return request
    path = Path(request)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ArgumentError(
            f"{where}: argument request: cannot read {path} ({error}); "
            "allowed: a StartRun request in --cli-input-json form, as a dict or a JSON file path"
        ) from None
    if not isinstance(body, Mapping):
        raise ArgumentError(f"{where}: argument request: {path} holds no JSON object")
    return body


def _unknown_names(where: str, kind: str, unknown: Sequence[str], context: str, known: Collection[str]) -> str:
    """Names every unknown key or argument at once, then what is allowed, then what each was likely meant to be.

    ``Stack/Run: unknown keys naem, priorty in the StartRun request; allowed: ...;
    did you mean name for naem, priority for priorty?``
    """
    message = f"{where}: unknown {kind}{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} {context}; "
    message += f"allowed: {', '.join(sorted(known))}"
    suggestions = [(name, meant) for name in unknown if (meant := _likely_meant(name, known)) is not None]
    if len(unknown) == 1 and suggestions:
        return f"{message}; did you mean {suggestions[0][1]}?"
    if suggestions:
        return f"{message}; did you mean {', '.join(f'{meant} for {name}' for name, meant in suggestions)}?"
    return message


def _likely_meant(name: str, known: Collection[str]) -> str | None:
    """The known name ``name`` is closest to: the same but for case and underscores, else a near spelling."""

    def folded(text: str) -> str:
        return text.replace("_", "").replace("-", "").lower()

    same = [candidate for candidate in known if folded(candidate) == folded(name)]
    if same:
        return same[0]
    close = difflib.get_close_matches(name, list(known), n=1)
    return close[0] if close else None


OmicsRun.__doc__ = with_argument_fields(OmicsRun.__doc__, OmicsRun.__init__)
show_init_signature(OmicsRun)

__all__ = ["RESOURCE_TYPE", "OmicsRun", "OmicsRunArguments"]
