"""The OmicsRunBatch construct: a cohort of HealthOmics runs, started by one StartRunBatch, as one stack resource."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import jsii
from aws_cdk import Annotations, CustomResource, Duration, ITaggable, Lazy, Stack, TagManager, TagType
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_omics as omics
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_omics_run.argument_rules import check_statuses, check_wait_arguments, wait_settings_of
from cdk_omics_run.arguments import (
    ArgumentError,
    argument_name_of,
    default_run_setting_members_by_argument,
    resource_properties,
    resource_settings,
)
from cdk_omics_run.batch_outputs import BatchOutputsSheet, BatchSettingsFromSheet, LaterText
from cdk_omics_run.data_locations import S3Data, data_of, output_location, rendered_document
from cdk_omics_run.documentation import BATCH_ARGUMENTS, show_init_signature, with_argument_fields
from cdk_omics_run.enums import (
    BatchWaitFor,
    CacheBehavior,
    DeletePolicy,
    LogLevel,
    NetworkingMode,
    RetentionMode,
    ScratchStorageMode,
    StorageType,
    WorkflowType,
)
from cdk_omics_run.handler_source import tag_rules
from cdk_omics_run.managed_role import ManagedPolicyRole
from cdk_omics_run.provider import OmicsRunProvider
from cdk_omics_run.resource_attributes import ResourceAttributes
from cdk_omics_run.run import (
    DEFAULT_WAIT_TIMEOUT,
    Document,
    OutputLocation,
    _MergedTags,
    _read_request,
    _unknown_names,
    warn_unplaced_data,
)
from cdk_omics_run.run import start_run_resource_arns as start_resource_arns
from cdk_omics_run.run_role import collapsed_inputs, generated_run_role, is_literal_s3_uri
from cdk_omics_run.run_settings import (
    MAX_INLINE_RUNS,
    ColumnParameter,
    Row,
    RunSetting,
    RunSettingLike,
    SheetColumn,
    inline_property,
    run_settings,
    settings_from_sample_sheet,
    write_settings_file,
)
from cdk_omics_run.status_events import status_change_rule
from cdk_omics_run.tag_limits import check_tags_after_propagation
from cdk_omics_run.tokens import contains_token, is_token
from cdk_omics_run.wait import RunWait
from cdk_omics_run.workflow import OmicsWorkflow, workflow_arguments
from cdk_omics_run.workflow_parameters import check_batch_parameters

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:
    # Type checkers only: annotations are never evaluated at run time (PEP 563).
    from typing_extensions import Unpack

RESOURCE_TYPE = "Custom::OmicsRunBatch"
# The handler adds its stack tag to every run's tags: the same limit as the handler's (tag_rules).
MAX_DECLARED_RUN_TAGS: int = tag_rules().MAX_DECLARED_RUN_TAGS_IN_BATCH
BATCH_SETTING_ARGUMENTS = ("rerun_token", "delete_policy", "wait_for", "wait_timeout", "wait_poll_interval")


class OmicsRunBatchSheetArguments(TypedDict, total=False):
    """The keyword arguments of ``OmicsRunBatch`` that ``from_sample_sheet`` passes on, each optional:
    all but ``runs`` and ``s3_uri_settings`` (the sheet gives the runs) and ``parameters`` (given there
    as ``default_parameters``), so that a type checker refuses a misspelled one (PEP 692)."""

    workflow: OmicsWorkflow | None
    workflow_id: str | omics.CfnWorkflow | None
    role_arn: str | iam.IRole | None
    output_uri: OutputLocation | None
    workflow_type: WorkflowType | str | None
    name: str | None
    cache_id: str | omics.CfnRunCache | None
    cache_behavior: CacheBehavior | str | None
    run_group_id: str | omics.CfnRunGroup | None
    priority: int | None
    storage_capacity: int | None
    log_level: LogLevel | str | None
    run_tags: Mapping[str, str] | None
    retention_mode: RetentionMode | str | None
    storage_type: StorageType | str | None
    workflow_owner_id: str | None
    output_bucket_owner_id: str | None
    workflow_version_name: str | omics.CfnWorkflowVersion | None
    networking_mode: NetworkingMode | str | None
    configuration_name: str | omics.CfnConfiguration | None
    session_policy: str | None
    engine_settings: Document | None
    scratch_storage_mode: ScratchStorageMode | str | None
    requester_pays_enabled: bool | None
    batch_name: str | None
    tags: Mapping[str, str] | None
    rerun_token: str | None
    delete_policy: DeletePolicy | str | None
    wait_for: BatchWaitFor | str | None
    wait_timeout: Duration | None
    wait_poll_interval: Duration | None
    max_failed_runs: int | None


class OmicsRunBatchArguments(OmicsRunBatchSheetArguments, total=False):
    """The keyword arguments of ``OmicsRunBatch``, each optional: the overrides ``from_cli_input_json``
    takes, so that a type checker refuses a misspelled one (PEP 692). Each key has the type of the
    argument of the same name; a test keeps the two in step."""

    runs: Iterable[RunSettingLike] | None
    s3_uri_settings: str | None
    parameters: Document | None


@jsii.implements(ITaggable)
class OmicsRunBatch(ResourceAttributes, Construct):
    """Starts a cohort of AWS HealthOmics runs with one StartRunBatch when the stack deploys.

    The keyword arguments from ``workflow_id`` to ``requester_pays_enabled``
    are StartRunBatch's ``defaultRunSetting``, shared by every run, spelt as
    for :class:`OmicsRun` (``run_tags`` are the runs' tags; ``tags`` the batch's
    own, which ``Tags.of()`` also reaches). ``runs``: the per-run settings
    (:class:`RunSetting` objects, or dicts with the same snake_case keys), or
    ``s3_uri_settings``: the ``s3://`` URI of your own settings file. Up to 100
    runs go inline into the template; more (up to 100,000) are written as a
    JSON file shipped as a CDK asset, which the run role may read.

    The batch ID is the physical ID; ``attr_arn``, ``attr_id``, ``attr_uuid``,
    ``attr_status`` and ``attr_total_runs`` are its attributes. ``wait_for``
    (a :class:`BatchWaitFor`) makes the deploy wait until every run was
    submitted or has ended, failing when more than ``max_failed_runs`` runs
    failed. ``delete_policy`` applies to the batch as a whole: CANCEL cancels
    its runs, CANCEL_AND_DELETE also deletes them and the batch's record.

    Example::

        from cdk_omics_run import OmicsRunBatch, RunSetting

        cohort = OmicsRunBatch(
            stack,
            "Cohort",
            workflow_id="1234567",
            output_uri="s3://my-bucket/cohort/",
            parameters={"reference": "s3://my-bucket/ref/GRCh38.fa"},
            runs=[
                RunSetting("NA12878", parameters={"input_cram": "s3://my-bucket/crams/NA12878.cram"}),
                RunSetting("NA12891", parameters={"input_cram": "s3://my-bucket/crams/NA12891.cram"}),
            ],
        )
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        runs: Iterable[RunSettingLike] | None = None,
        s3_uri_settings: str | None = None,
        workflow: OmicsWorkflow | None = None,
        workflow_id: str | omics.CfnWorkflow | None = None,
        role_arn: str | iam.IRole | None = None,
        output_uri: OutputLocation | None = None,
        workflow_type: WorkflowType | str | None = None,
        name: str | None = None,
        cache_id: str | omics.CfnRunCache | None = None,
        cache_behavior: CacheBehavior | str | None = None,
        run_group_id: str | omics.CfnRunGroup | None = None,
        priority: int | None = None,
        parameters: Document | None = None,
        storage_capacity: int | None = None,
        log_level: LogLevel | str | None = None,
        run_tags: Mapping[str, str] | None = None,
        retention_mode: RetentionMode | str | None = None,
        storage_type: StorageType | str | None = None,
        workflow_owner_id: str | None = None,
        output_bucket_owner_id: str | None = None,
        workflow_version_name: str | omics.CfnWorkflowVersion | None = None,
        networking_mode: NetworkingMode | str | None = None,
        configuration_name: str | omics.CfnConfiguration | None = None,
        session_policy: str | None = None,
        engine_settings: Document | None = None,
        scratch_storage_mode: ScratchStorageMode | str | None = None,
        requester_pays_enabled: bool | None = None,
        batch_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        rerun_token: str | None = None,
        delete_policy: DeletePolicy | str | None = None,
        wait_for: BatchWaitFor | str | None = None,
        wait_timeout: Duration | None = None,
        wait_poll_interval: Duration | None = None,
        max_failed_runs: int | None = None,
    ) -> None:
        """Declares the batch. The class's documentation describes the arguments."""
        super().__init__(scope, id)
        arguments = {k: v for k, v in locals().items() if k not in ("self", "scope", "id", "__class__")}
        granting_workflow = workflow if isinstance(workflow, OmicsWorkflow) and workflow.grants_start_runs() else None
        arguments.update(workflow_arguments(self, arguments.pop("workflow"), workflow_id, workflow_version_name))
        if arguments["workflow_id"] is None:
            raise ArgumentError(
                f"{self.node.path}: arguments workflow and workflow_id: got neither; allowed: exactly one "
                "(the workflow every run of the batch runs)"
            )
        runs_given, settings_uri = arguments.pop("runs"), arguments.pop("s3_uri_settings")
        max_failed = arguments.pop("max_failed_runs")
        check_wait_arguments(self, wait_for=wait_for, no_wait=BatchWaitFor.NONE.value, **wait_settings_of(arguments))
        settings = {name: arguments.pop(name) for name in BATCH_SETTING_ARGUMENTS}
        explicit_tags = arguments.pop("tags")
        output_uri, output = output_location(self, output_uri) if output_uri is not None else (None, None)
        arguments["output_uri"] = output_uri
        arguments["parameters"], self._data = rendered_document(self, "parameters", parameters)
        arguments["engine_settings"], _ = rendered_document(self, "engine_settings", engine_settings)
        properties = {
            **resource_properties(self, arguments, default_run_setting_members_by_argument()),
            **resource_settings(self, **settings, wait_targets=BatchWaitFor),
        }
        self._check_workflow_type(properties)
        self._check_output_uri(output_uri)
        if max_failed is not None:
            if isinstance(max_failed, bool) or not isinstance(max_failed, int) or max_failed < 0:
                raise ArgumentError(
                    f"{self.node.path}: argument max_failed_runs: got {max_failed!r}; allowed: an integer of 0 or more"
                )
            properties["MaxFailedRuns"] = max_failed

        self._wait_for = properties.get("WaitFor", BatchWaitFor.NONE.value)
        self._sheet: BatchOutputsSheet | None = None
        self._settings_from_sheet: BatchSettingsFromSheet | None = None
        self.runs: list[RunSetting] = self._runs(runs_given, settings_uri)
        """The per-run settings, checked (empty when ``s3_uri_settings`` names your own file)."""
        run_outputs = [data_of(setting.output_uri) for setting in self.runs if setting.output_uri is not None]
        self._output_locations = [data for data in [output, *run_outputs] if data is not None]
        self._outputs_unplaced = len(self._output_locations) < len(run_outputs) + (output_uri is not None)
        self._check_merged_run_tags(run_tags)
        if isinstance(workflow, OmicsWorkflow):
            check_batch_parameters(
                self,
                workflow.parameter_template,
                workflow.node.path,
                properties.get("Parameters"),
                [run.parameters for run in self.runs],
            )
        self.settings_asset: s3_assets.Asset | None = None
        """The asset holding the settings file, when there are more than 100 runs."""
        if len(self.runs) > MAX_INLINE_RUNS:
            self.settings_asset = self._settings_asset()
            properties["S3UriSettings"] = self.settings_asset.s3_object_url
            properties["RunCount"] = len(self.runs)
        elif self.runs:
            properties["InlineSettings"] = inline_property(self.runs)
        else:
            properties["S3UriSettings"] = settings_uri

        self.run_role: ManagedPolicyRole | None = None
        """The generated run role (None when ``role_arn`` was given); add grants it cannot infer."""
        if role_arn is None:
            self.run_role = self._generated_role(properties, cache_id, output)
            properties["RoleArn"] = self.run_role.role_arn
        self._grant_settings_read(role_arn, settings_uri)

        self._tags = TagManager(TagType.MAP, RESOURCE_TYPE)
        if explicit_tags is not None:
            properties["Tags"] = resource_properties(
                self, {"tags": explicit_tags}, default_run_setting_members_by_argument()
            )["Tags"]
        properties["Tags"] = Lazy.any(_MergedTags(self._tags, properties.get("Tags")))
        check_tags_after_propagation(self, self._tags, explicit_tags, RESOURCE_TYPE)

        provider = OmicsRunProvider.of(self)
        provider.allow_pass_role(properties["RoleArn"])
        named = properties
        if granting_workflow is not None:  # it grants its own workflow and version (OmicsWorkflow.grant_start_run)
            named = {k: v for k, v in properties.items() if k not in ("WorkflowId", "WorkflowVersionName")}
        resource_arns = start_resource_arns(provider, named)
        provider.allow_start_run(*resource_arns)
        provider.allow_start_run_batch(*resource_arns)
        self.wait: RunWait | None = None
        """The batch's WaitCondition and the attributes read after it (None when the deploy does not wait)."""
        if properties.get("WaitFor", BatchWaitFor.NONE.value) != BatchWaitFor.NONE.value:
            provider.allow_list_runs()
            self.wait = RunWait(
                self,
                provider,
                properties,
                timeout=wait_timeout or DEFAULT_WAIT_TIMEOUT,
                poll_interval=wait_poll_interval,
                result_property="BatchId",
            )
        self._resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties=properties,
        )
        if granting_workflow is not None:
            granting_workflow.grant_start_run(self._resource, batch=True)
        if self.wait is not None:
            self.wait.follow(self._resource)

    @property
    def tags(self) -> TagManager:
        """The batch's own tags as CDK's tagging sees them (``Tags.of(scope).add(...)`` reaches the batch)."""
        return self._tags

    @property
    def attr_total_runs(self) -> str:
        """How many runs the batch holds.

        Known at once for ``runs``; for your own ``s3_uri_settings`` file only once HealthOmics has
        read it, so then only after a wait (``wait_for``): otherwise an ArgumentError says so.
        """
        if not self.runs and self.wait is None:
            raise ArgumentError(
                f"{self.node.path}: attr_total_runs: unknown until HealthOmics reads the s3_uri_settings file; "
                "allowed: with runs=, or with wait_for (it is read after the wait)"
            )
        return self._attributes.get_att_string("TotalRuns")

    @property
    def attr_skipped_runs(self) -> str:
        """For a batch made by :meth:`from_outputs`: how many upstream runs did not complete, and so have no run.

        Outside ``from_outputs`` an ArgumentError says so.
        """
        if self._settings_from_sheet is None:
            raise ArgumentError(
                f"{self.node.path}: attr_skipped_runs: this batch's runs are not built from another batch's "
                "outputs; allowed: on a batch made by OmicsRunBatch.from_outputs"
            )
        return self._settings_from_sheet.skipped_runs

    @property
    def outputs_sheet(self) -> str:
        """The ``s3://`` URI of the batch's outputs sheet: see :meth:`outputs_sheet_for`."""
        return self.outputs_sheet_for([])

    def outputs_sheet_for(self, names: Sequence[str]) -> str:
        """The ``s3://`` URI of a CSV the provider writes once the batch is PROCESSED, one row per run.

        Its columns: ``runSettingId``, ``runId``, ``status``, then one per output
        name declared here (or by :meth:`from_outputs`), in the order first
        declared: each the S3 URI of a COMPLETED run's output, read from its
        output summary and checked to exist, as for :meth:`OmicsRun.output`
        (a full key such as ``BWAMappingWorkflow.merged_bam``, or the part
        after the dot); blank for a run that did not complete. A run whose
        submission failed has no ``runId`` and the status ``SUBMISSION_FAILED``.
        The sheet lies under the batch's output location
        (``cohort-outputs/``), named by its content. Needs
        ``wait_for=BatchWaitFor.PROCESSED`` and an output location this app can
        place (a literal ``s3://`` URI or a bucket of the app). Every call
        returns the same sheet, with every name declared so far. The runs are
        read in parts of up to 4,000, each one invocation of the provider
        (``Custom::OmicsRunBatchOutputsPart``), then joined.

        Example::

            cohort = OmicsRunBatch(stack, "Align", ..., wait_for=BatchWaitFor.PROCESSED)
            CfnOutput(stack, "AlignedBams", value=cohort.outputs_sheet_for(["merged_bam"]))
        """
        if isinstance(names, str) or not all(isinstance(n, str) and n and not is_token(n) for n in names):
            raise ArgumentError(
                f"{self.node.path}: outputs_sheet_for: got {names!r}; allowed: a list of output names in the "
                "runs' output summaries, such as ['merged_bam']"
            )
        return self._declared_sheet(names).uri

    def _declared_sheet(self, names: Sequence[str]) -> BatchOutputsSheet:
        """The batch's one sheet, with ``names`` declared; ArgumentError when the batch cannot have one."""
        if self.wait is None or self._wait_for != BatchWaitFor.PROCESSED.value:
            raise ArgumentError(
                f"{self.node.path}: outputs_sheet: the runs' outputs are known once every run ended; allowed on a "
                f"batch declared with wait_for=BatchWaitFor.PROCESSED (this one waits for {self._wait_for})"
            )
        if not self._output_locations or self._outputs_unplaced or not self._output_locations[0].is_folder:
            raise ArgumentError(
                f"{self.node.path}: outputs_sheet: the provider writes the sheet under the batch's output location; "
                "allowed with output_uri a literal s3://bucket/prefix/ URI, bucket.s3_url_for_object('prefix/') "
                "or (bucket, 'prefix/'), and every run's own output_uri placed too"
            )
        if self._sheet is None:
            self._sheet = BatchOutputsSheet(
                self.wait, OmicsRunProvider.of(self), self._resource.ref, self._output_locations, len(self.runs) or None
            )
        self._sheet.declare(names)
        return self._sheet

    def on_status_change(
        self,
        id: str,
        *,
        target: events.IRuleTarget | None = None,
        statuses: Sequence[str] | None = None,
        description: str | None = None,
    ) -> events.Rule:
        """An EventBridge rule on this batch's HealthOmics ``RunBatch Status Change`` events.

        The way to follow a cohort beyond the 12 hours a stack can wait
        (HealthOmics user guide, "Batch runs in HealthOmics": source
        ``aws.omics``; ``detail`` has ``batchId``, ``status`` and the run counts)
        as the batch moves through PENDING, SUBMITTING, INPROGRESS, then
        PROCESSED, FAILED or CANCELLED. The rule follows the batch resource
        itself, never its wait.

        Example::

            cohort.on_status_change("OnProcessed", target=targets.SfnStateMachine(report), statuses=["PROCESSED"])
        """
        check_statuses(self, statuses, operation="GetBatch")
        return status_change_rule(
            self,
            id,
            detail_type="RunBatch Status Change",
            detail={"batchId": [self._resource.get_att_string("Id")]},
            statuses=statuses,
            target=target,
            description=description or f"HealthOmics status changes of the batch of {self.node.path}",
        )

    @classmethod
    def from_sample_sheet(
        cls,
        scope: Construct,
        id: str,
        path: str | Path,
        *,
        run_setting_id: str | Callable[[Row], str],
        parameters: Mapping[str, ColumnParameter] | Callable[[Row], Mapping[str, Any]] | None = None,
        run_name: str | SheetColumn | Callable[[Row], str] | None = None,
        run_output_uri: str | SheetColumn | Callable[[Row], str] | None = None,
        run_priority: str | SheetColumn | Callable[[Row], int] | None = None,
        run_tags_of: Callable[[Row], Mapping[str, str]] | None = None,
        default_parameters: Document | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        **batch_arguments: Unpack[OmicsRunBatchSheetArguments],
    ) -> OmicsRunBatch:
        """A batch with one run per row of a sample sheet (CSV, TSV or semicolon-separated).

        ``run_setting_id``: the column naming each sample (or a function of
        the row). ``parameters``: workflow parameter -> column, or
        ``(column, type)`` to type the value (``("read_length", int)``), or a
        :class:`SheetColumn`, or a function of the row returning the run's
        parameters. Every row must have one cell per column, and an empty
        cell is an error, unless its column is spelt
        ``SheetColumn("read_length", int, empty_means_default=True)``: then
        the run leaves that value to the batch's defaults. ``encoding``: the
        sheet's text encoding (UTF-8 by default). ``delimiter``: a tab for a
        ``.tsv`` file, otherwise detected (comma, tab or semicolon) unless
        given. The parameters are merged
        with ``default_parameters``, the batch's ``parameters`` that every run
        shares. ``run_name``, ``run_output_uri`` and ``run_priority`` (a
        column or a function of the row) and ``run_tags_of`` (a function) set
        the rest of each run. The other keyword arguments are those of the
        constructor (:class:`OmicsRunBatchSheetArguments`); ``runs`` and
        ``s3_uri_settings`` are refused, because the sheet gives the runs.

        Example::

            OmicsRunBatch.from_sample_sheet(
                stack, "Cohort", "samples.csv",
                run_setting_id="sample_id",
                parameters={"input_cram": "cram_uri", "read_length": ("read_length", int)},
                default_parameters={"reference": "s3://my-bucket/ref/GRCh38.fa"},
                workflow_id="1234567", output_uri="s3://my-bucket/cohort/",
            )
        """
        settings = settings_from_sample_sheet(
            f"{scope.node.path}/{id}",
            path,
            run_setting_id=run_setting_id,
            parameters=parameters,
            name=run_name,
            output_uri=run_output_uri,
            priority=run_priority,
            run_tags=run_tags_of,
            encoding=encoding,
            delimiter=delimiter,
        )
        given_runs = sorted(set(batch_arguments) & {"runs", "s3_uri_settings"})
        if given_runs:
            raise ArgumentError(
                f"{scope.node.path}/{id}: argument {given_runs[0]}: got a value; allowed: none, because "
                "from_sample_sheet takes the runs from the sheet (OmicsRunBatch(..., runs=...) takes your own)"
            )
        arguments: OmicsRunBatchArguments = {**batch_arguments, "runs": settings}
        if default_parameters is not None:
            arguments["parameters"] = default_parameters
        return cls(scope, id, **arguments)

    @classmethod
    def from_outputs(
        cls,
        scope: Construct,
        id: str,
        upstream: OmicsRunBatch,
        *,
        parameters: Mapping[str, str],
        default_parameters: Document | None = None,
        **batch_arguments: Unpack[OmicsRunBatchSheetArguments],
    ) -> OmicsRunBatch:
        """The next cohort: one run per sample whose ``upstream`` run COMPLETED, on that run's output files.

        ``parameters``: workflow parameter -> upstream output name
        (``{"input_bam": "merged_bam"}``), each read from the upstream batch's
        outputs sheet (:meth:`outputs_sheet_for`; the upstream batch must wait
        for PROCESSED). Each run keeps its upstream ``runSettingId``. Samples
        whose upstream run did not complete are skipped: ``attr_skipped_runs``
        says how many, and the deploy fails when none completed. The settings
        file is written at deploy time by the provider, under this batch's
        ``output_uri`` (``cohort-run-settings/``), named by its content and never
        changed once written (StartRunBatch fails a batch whose file changes
        after submission); the run role may read it and the upstream outputs.
        ``default_parameters``: the parameters every run shares. The other
        keyword arguments are those of the constructor; ``output_uri`` is
        required and must be placeable (a literal ``s3://`` URI or a bucket of
        the app).

        Example::

            align = OmicsRunBatch.from_sample_sheet(stack, "Align", "samples.csv", ...,
                                                    wait_for=BatchWaitFor.PROCESSED)
            call = OmicsRunBatch.from_outputs(stack, "Call", align, parameters={"input_bam": "merged_bam"},
                                              workflow_id="7654321", output_uri="s3://my-bucket/calls/")
            CfnOutput(stack, "SkippedSamples", value=call.attr_skipped_runs)
        """
        where = f"{scope.node.path}/{id}"
        if (
            not isinstance(parameters, Mapping)
            or not parameters
            or not all(isinstance(v, str) and v and not is_token(v) for v in parameters.values())
        ):
            raise ArgumentError(
                f"{where}: argument parameters: got {parameters!r}; allowed: workflow parameter -> upstream output "
                "name, such as {'input_bam': 'merged_bam'}"
            )
        given_runs = sorted(set(batch_arguments) & {"runs", "s3_uri_settings"})
        if given_runs:
            raise ArgumentError(
                f"{where}: argument {given_runs[0]}: got a value; allowed: none, because from_outputs takes the runs "
                "from the upstream batch's outputs"
            )
        output = data_of(batch_arguments.get("output_uri"))
        if output is None or not (output.key == "" or output.key.endswith("/")):
            raise ArgumentError(
                f"{where}: argument output_uri: got {batch_arguments.get('output_uri')!r}; allowed with from_outputs: "
                "a folder the provider writes the settings file under: a literal s3://bucket/prefix/ URI, "
                "bucket.s3_url_for_object('prefix/') or (bucket, 'prefix/')"
            )
        sheet = upstream._declared_sheet(list(parameters.values()))
        settings_uri = LaterText()
        arguments: OmicsRunBatchArguments = {**batch_arguments, "s3_uri_settings": Lazy.string(settings_uri)}
        if default_parameters is not None:
            arguments["parameters"] = default_parameters
        batch = cls(scope, id, **arguments)
        settings = BatchSettingsFromSheet(batch, "RunSettings", OmicsRunProvider.of(batch), sheet, parameters, output)
        settings_uri.value = settings.s3_uri
        batch._settings_from_sheet = settings
        batch._resource.node.default_child.add_property_override("RunCount", settings.run_count)  # type: ignore[union-attr]
        grantee = batch.run_role if batch.run_role is not None else batch_arguments.get("role_arn")
        if grantee is not None and not isinstance(grantee, str):
            settings.grant_read(grantee, upstream._output_locations)
        else:
            message = (
                "role_arn is an ARN, so the settings file and the upstream outputs cannot be granted to it here: "
                f"let that role s3:GetObject {settings.folder.uri}* and the upstream batch's output location, "
                "or pass an iam.IRole"
            )
            Annotations.of(batch).add_warning_v2("cdk-omics-run:grantRunSettings", message)
            warnings.warn(f"{batch.node.path}: {message}", UserWarning, stacklevel=2)
        return batch

    @classmethod
    def from_cli_input_json(
        cls,
        scope: Construct,
        id: str,
        request: Mapping[str, Any] | str | Path,
        **overrides: Unpack[OmicsRunBatchArguments],
    ) -> OmicsRunBatch:
        """Builds the batch from a StartRunBatch request in the AWS CLI's ``--cli-input-json`` form.

        ``request`` is the request itself or the path of a JSON file holding
        it. Keyword ``overrides`` (the constructor's arguments) replace its
        values. ``requestId`` is accepted and ignored: the provider derives
        its own. Unknown keys raise ArgumentError, naming every one.

        Example::

            OmicsRunBatch.from_cli_input_json(stack, "Cohort", "cohort-batch.json", batch_name="nightly")
        """
        where = f"{scope.node.path}/{id}"
        body = _read_request(where, request)
        default_members = default_run_setting_members_by_argument()
        known_keys = ["batchName", "tags", "requestId", "defaultRunSetting", "batchRunSettings"]
        unknown = [str(key) for key in body if key not in known_keys]
        if unknown:
            raise ArgumentError(_unknown_names(where, "key", unknown, "in the StartRunBatch request", known_keys))
        default = body.get("defaultRunSetting") or {}
        wire_names = [m.wire_name for name, m in default_members.items() if name not in ("batch_name", "tags")]
        unknown = [str(key) for key in default if key not in wire_names]
        if unknown:
            raise ArgumentError(_unknown_names(where, "key", unknown, "in defaultRunSetting", wire_names))
        arguments: dict[str, Any] = {argument_name_of(key): value for key, value in default.items()}
        for key in ("batchName", "tags"):
            if key in body:
                arguments[argument_name_of(key)] = body[key]
        run_settings_body = body.get("batchRunSettings") or {}
        unknown = [str(key) for key in run_settings_body if key not in ("inlineSettings", "s3UriSettings")]
        if unknown:
            allowed = ["inlineSettings", "s3UriSettings"]
            raise ArgumentError(_unknown_names(where, "key", unknown, "in batchRunSettings", allowed))
        if "inlineSettings" in run_settings_body:
            arguments["runs"] = [
                RunSetting.from_request(f"{where}: inlineSettings[{index}]", setting)
                for index, setting in enumerate(run_settings_body["inlineSettings"])
            ]
        if "s3UriSettings" in run_settings_body:
            arguments["s3_uri_settings"] = run_settings_body["s3UriSettings"]
        known_arguments = list(OmicsRunBatchArguments.__annotations__)
        unknown = [name for name in overrides if name not in known_arguments]
        if unknown:
            raise ArgumentError(_unknown_names(where, "argument", unknown, "of from_cli_input_json", known_arguments))
        arguments.update(overrides)
        return cls(scope, id, **arguments)

    def _settings_asset(self) -> s3_assets.Asset:
        """The settings file as a CDK asset; staged (copied into the assembly) as it is created."""
        requests = [setting.request() for setting in self.runs]
        for index, request in enumerate(requests):
            if contains_token(request):
                raise ArgumentError(
                    f"{self.node.path}: argument runs[{index}]: holds a value known only at deploy time; allowed "
                    f"with more than {MAX_INLINE_RUNS} runs: literal values (the settings file is written at synth "
                    "time; deploy-time values can go in the batch's own arguments, such as parameters)"
                )
        staging_disabled = bool(self.node.try_get_context("aws:cdk:disable-asset-staging"))
        with write_settings_file(requests, keep=staging_disabled) as path:
            return s3_assets.Asset(self, "RunSettings", path=str(path))

    def _runs(self, runs: Iterable[RunSettingLike] | None, settings_uri: str | None) -> list[RunSetting]:
        if (runs is None) == (settings_uri is None):
            given = "both" if runs is not None else "neither"
            raise ArgumentError(
                f"{self.node.path}: arguments runs and s3_uri_settings: got {given}; allowed: exactly one "
                "(the runs themselves, or the s3:// URI of your own settings file)"
            )
        if settings_uri is not None:
            if not is_token(settings_uri) and not str(settings_uri).startswith("s3://"):
                raise ArgumentError(
                    f"{self.node.path}: argument s3_uri_settings: got {settings_uri!r}; "
                    "allowed: an s3:// URI of a JSON array of run settings"
                )
            return []
        return run_settings(self, runs or [], self._data)

    def _check_merged_run_tags(self, run_tags: Mapping[str, str] | None) -> None:
        """HealthOmics merges the batch's and each run's run_tags: at most 49 (one of 50 is the provider's)."""
        if run_tags is None or is_token(run_tags):
            return
        for index, setting in enumerate(self.runs):
            if setting.run_tags and len(set(run_tags) | set(setting.run_tags)) > MAX_DECLARED_RUN_TAGS:
                raise ArgumentError(
                    f"{self.node.path}: argument runs[{index}].run_tags: with run_tags, the run would have "
                    f"{len(set(run_tags) | set(setting.run_tags))} tags; allowed: at most {MAX_DECLARED_RUN_TAGS} "
                    "(HealthOmics merges them, and one of a run's 50 is the provider's)"
                )

    def _check_workflow_type(self, properties: Mapping[str, Any]) -> None:
        if properties.get("WorkflowType") == WorkflowType.READY2RUN.value:
            raise ArgumentError(
                f"{self.node.path}: argument workflow_type: got 'READY2RUN'; allowed: PRIVATE "
                "(HealthOmics user guide: batch runs are not supported with Ready2Run workflows)"
            )

    def _check_output_uri(self, output_uri: Any) -> None:
        if isinstance(output_uri, str) and not is_token(output_uri) and not output_uri.startswith("s3://"):
            raise ArgumentError(
                f"{self.node.path}: argument output_uri: got {output_uri!r}; "
                "allowed: an s3:// URI, such as 's3://my-bucket/outputs/'"
            )

    def _generated_role(self, properties: Mapping[str, Any], cache: Any, output: S3Data | None) -> ManagedPolicyRole:
        documents: list[Any] = [_literal_document(properties.get("Parameters"))]
        documents += [setting.parameters for setting in self.runs]
        run_outputs = [s.output_uri for s in self.runs if s.output_uri is not None]
        placed = [data for data in map(data_of, run_outputs) if data is not None]
        outputs = ([] if output is None else [output]) + placed
        unplaced = len(placed) != len(run_outputs) or (properties.get("OutputUri") is not None and output is None)
        if not outputs or unplaced or (output is None and len(placed) < len(self.runs)):
            got = "a value known only at deploy time" if unplaced else "none for some runs"
            raise ArgumentError(
                f"{self.node.path}: argument output_uri: got {got}; allowed with no role_arn: "
                "a literal s3://bucket/prefix/ URI, bucket.s3_url_for_object('prefix/') or (bucket, 'prefix/'), "
                "for the batch or for every run"
            )
        warn_unplaced_data(self, self._data)
        cache_uri = cache.cache_s3_location if isinstance(cache, omics.CfnRunCache) else None
        return generated_run_role(
            self,
            inputs=collapsed_inputs(documents, self._data.locations),
            outputs=outputs,
            cache_uri=cache_uri if is_literal_s3_uri(cache_uri) else None,
            private_workflow=properties.get("WorkflowType", WorkflowType.PRIVATE.value) == WorkflowType.PRIVATE.value
            and "WorkflowOwnerId" not in properties,
            batch=True,
        )

    def _grant_settings_read(self, role_arn: Any, settings_uri: str | None) -> None:
        """Lets the run role read the settings file: HealthOmics reads it with that role (StartRunBatch's model)."""
        if self.settings_asset is not None:
            bucket, key = self.settings_asset.s3_bucket_name, self.settings_asset.s3_object_key
        elif settings_uri is not None and not is_token(settings_uri):
            bucket, _, key = settings_uri[len("s3://") :].partition("/")
        else:
            return
        grantee = self.run_role if self.run_role is not None else role_arn
        if grantee is not None and not isinstance(grantee, str):
            grant = iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["s3:GetObject"],
                resource_arns=[f"arn:{Stack.of(self).partition}:s3:::{bucket}/{key}"],
            )
            if grant.success:
                return
            cannot = "role_arn is an imported role this stack cannot change"
        elif self.settings_asset is None:
            return  # the user's own file, for a role given by ARN: theirs to grant, as for any input
        else:
            cannot = "role_arn is an ARN"
        message = (
            f"{cannot}, so the run settings file cannot be granted to it here: let that role "
            "s3:GetObject the asset (batch.settings_asset.s3_object_url), or pass an iam.IRole"
        )
        Annotations.of(self).add_warning_v2("cdk-omics-run:grantRunSettings", message)
        warnings.warn(f"{self.node.path}: {message}", UserWarning, stacklevel=3)


def _literal_document(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and not is_token(value) else None


OmicsRunBatch.__doc__ = with_argument_fields(OmicsRunBatch.__doc__, OmicsRunBatch.__init__, own=BATCH_ARGUMENTS)
show_init_signature(OmicsRunBatch)

__all__ = ["RESOURCE_TYPE", "OmicsRunBatch", "OmicsRunBatchArguments", "OmicsRunBatchSheetArguments", "RunSetting"]
