"""The OmicsWorkflow construct: a private HealthOmics workflow from a folder of the repository, versioned by content."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from aws_cdk import Annotations, AssetHashType, CustomResource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_omics_run.arguments import ArgumentError, argument_name_of
from cdk_omics_run.handler_source import workflow_request
from cdk_omics_run.provider import OmicsRunProvider
from cdk_omics_run.registry_map import ContainerRegistryMap
from cdk_omics_run.tokens import is_token
from cdk_omics_run.workflow_containers import images_by_pattern, warn_unpullable
from cdk_omics_run.workflow_definition import MAX_DEFINITION_BYTES, WorkflowFolder, read_folder
from cdk_omics_run.workflow_wdl import WdlDeclarations, WdlUnreadable, read_wdl

RESOURCE_TYPE = "Custom::OmicsWorkflow"
# A literal stand-in for the asset's S3 URI (a token until deploy time), so that synth checks the rest.
_PLACEHOLDER_URI = "s3://placeholder/definition.zip"


class WorkflowEngine(str, Enum):
    """The workflow language (CreateWorkflow's ``engine``)."""

    WDL = "WDL"
    WDL_LENIENT = "WDL_LENIENT"
    NEXTFLOW = "NEXTFLOW"
    CWL = "CWL"


class WorkflowDeletePolicy(str, Enum):
    """What deleting the resource does to its workflow."""

    RETAIN = "RETAIN"
    """Leave the workflow and its versions (the default: runs elsewhere may use them)."""
    DELETE = "DELETE"
    """Delete the versions, then the workflow."""


class OmicsWorkflow(Construct):
    """A private HealthOmics workflow, for runs to name: from a folder of the app, or an existing one by ID.

    ``from_directory`` zips the folder as a CDK asset and declares a
    ``Custom::OmicsWorkflow``: one workflow ID for the life of the stack, and a
    version per content, named after its digest (``latest_version_name``).
    ``OmicsRun(workflow=...)`` and ``OmicsRunBatch(workflow=...)`` run exactly
    that version, so changing one file of the folder starts the runs again.

    Example::

        from cdk_omics_run import OmicsRun, OmicsWorkflow

        workflow = OmicsWorkflow.from_directory(stack, "CramToBam", "workflows/cram-to-bam")
        OmicsRun(stack, "Sample", workflow=workflow, output_uri="s3://my-bucket/out/",
                 parameters={"input_cram": "s3://my-bucket/NA12878.cram"})
    """

    def __init__(self, scope: Construct, id: str) -> None:
        """An empty workflow construct: use ``from_directory`` or ``from_workflow_id``."""
        super().__init__(scope, id)
        self._workflow_id = ""
        self._version_name: str | None = None
        self._resource: CustomResource | None = None
        self._start_runs: iam.ManagedPolicy | None = None
        self._grants_batches = False
        self.definition: WorkflowFolder | None = None
        """The folder read at synth time (its files, main file and engine); None for ``from_workflow_id``."""
        self.asset: s3_assets.Asset | None = None
        """The zipped folder (None for ``from_workflow_id``)."""
        self.parameter_template: dict[str, dict[str, Any]] | None = None
        """The inputs runs are checked against at synth: given, or derived from the WDL; None when unknown."""
        self.images: tuple[str, ...] = ()
        """The container images the definition names, as far as they can be known at synth."""

    @property
    def workflow_id(self) -> str:
        """The workflow's ID: the resource's physical ID (a token), or the ID given to ``from_workflow_id``."""
        return self._workflow_id

    @property
    def latest_version_name(self) -> str | None:
        """The version runs of this workflow name: the current content's, known at synth time."""
        return self._version_name

    @property
    def resource(self) -> CustomResource | None:
        """The ``Custom::OmicsWorkflow`` (None for ``from_workflow_id``)."""
        return self._resource

    def grants_start_runs(self) -> bool:
        """Whether runs of this workflow get their StartRun grant from :meth:`grant_start_run` (``from_directory``)."""
        return self._resource is not None

    def grant_start_run(self, run_resource: CustomResource, *, batch: bool = False) -> None:
        """Allows the provider StartRun on exactly this workflow and its current version, before ``run_resource``;
        with ``batch``, StartRunBatch on the workflow too.

        The grant lives in a managed policy of the workflow's own: the
        provider's main policy cannot name the workflow's ID, which exists only
        once the provider has created it (a circular dependency). The user
        guide (identity-based policies): "To grant permission for users to
        perform actions on a workflow version, you must add the workflow and
        the specific workflow version to the resource list." The Service
        Authorization Reference lists StartRunBatch on the workflow resource type.
        """
        if self._resource is None:
            raise ArgumentError(f"{self.node.path}: grant_start_run: a workflow from_workflow_id has no resource")
        provider = OmicsRunProvider.of(self)
        workflow_arn = provider.omics_arn(f"workflow/{self.workflow_id}")
        if self._start_runs is None:
            self._start_runs = iam.ManagedPolicy(
                self,
                "StartRuns",
                description=f"StartRun on the current version of {self.node.path}",
                roles=[provider.role],
                statements=[
                    iam.PolicyStatement(
                        sid="StartRunsOfThisWorkflow",
                        actions=["omics:StartRun"],
                        resources=[workflow_arn, f"{workflow_arn}/version/{self._version_name}"],
                        conditions=provider.requested_stack_condition,
                    )
                ],
            )
        if batch and not self._grants_batches:
            self._grants_batches = True
            self._start_runs.add_statements(
                iam.PolicyStatement(
                    sid="StartBatchesOfThisWorkflow",
                    actions=["omics:StartRunBatch"],
                    resources=[workflow_arn],
                    conditions=provider.requested_stack_condition,
                )
            )
        run_resource.node.add_dependency(self._start_runs)

    @classmethod
    def from_workflow_id(
        cls, scope: Construct, id: str, workflow_id: str, *, version_name: str | None = None
    ) -> OmicsWorkflow:
        """A workflow that exists already, so that every construct takes the same type.

        Example::

            workflow = OmicsWorkflow.from_workflow_id(stack, "Existing", "1234567", version_name="2.1.0")
        """
        workflow = cls(scope, id)
        workflow._workflow_id, workflow._version_name = workflow_id, version_name
        return workflow

    @classmethod
    def from_directory(
        cls,
        scope: Construct,
        id: str,
        path: str | Path,
        *,
        engine: WorkflowEngine | str | None = None,
        main: str | None = None,
        name: str | None = None,
        description: str | None = None,
        parameter_template: Mapping[str, Mapping[str, Any]] | None = None,
        storage_type: str | None = None,
        storage_capacity: int | None = None,
        accelerators: str | None = None,
        readme: str | None = None,
        container_registry_map: Mapping[str, Any] | ContainerRegistryMap | None = None,
        tags: Mapping[str, str] | None = None,
        delete_policy: WorkflowDeletePolicy | str = WorkflowDeletePolicy.RETAIN,
        retain_versions: int | None = None,
    ) -> OmicsWorkflow:
        """A workflow made from the folder at ``path``, kept current with it on every deploy.

        ``main``: the main definition file, relative to the folder; by default
        the one HealthOmics would choose (the only definition file nearest the
        root, else ``main.wdl``, ``main.nf`` or ``main.cwl``), and a folder
        where none stands out is an ``ArgumentError`` listing the candidates.
        ``engine``: inferred from the main file's extension when left out.
        ``parameter_template``: ``{"name": {"description": ..., "optional": bool}}``;
        without it HealthOmics derives one from the definition. ``readme``: the
        README's markdown. ``container_registry_map``: HealthOmics' registry and image mappings
        (``{"registryMappings": [{"upstreamRegistryUrl": "quay.io", "ecrRepositoryPrefix": "quay"}]}``,
        as the user guide writes them), or a ``ContainerRegistryMap.pull_through(...)`` of this app, which
        declares the pull through cache rules the map relies on (a plain map's rules are yours to create).
        ``delete_policy``: RETAIN (default) or DELETE.
        ``retain_versions``: keep only this many of the newest versions (default: all).

        Example::

            workflow = OmicsWorkflow.from_directory(stack, "Align", "workflows/align", retain_versions=5)
        """
        workflow = cls(scope, id)
        if isinstance(container_registry_map, ContainerRegistryMap):
            # Created after the rules and templates, so its first run finds them.
            workflow.node.add_dependency(container_registry_map)
            container_registry_map = container_registry_map.mapping
        workflow._from_directory(
            Path(path),
            engine=None if engine is None else _enum_value(workflow, "engine", WorkflowEngine, engine),
            main=main,
            version_settings={
                "Description": description,
                "ParameterTemplate": None if parameter_template is None else dict(parameter_template),
                "StorageType": getattr(storage_type, "value", storage_type),
                "StorageCapacity": storage_capacity,
                "Accelerators": getattr(accelerators, "value", accelerators),
                "ReadmeMarkdown": readme,
                "ContainerRegistryMap": None if container_registry_map is None else dict(container_registry_map),
            },
            name=name,
            tags=tags,
            delete_policy=_enum_value(workflow, "delete_policy", WorkflowDeletePolicy, delete_policy),
            retain_versions=retain_versions,
        )
        return workflow

    def _from_directory(
        self,
        path: Path,
        *,
        engine: str | None,
        main: str | None,
        version_settings: Mapping[str, Any],
        name: str | None,
        tags: Mapping[str, str] | None,
        delete_policy: str,
        retain_versions: int | None,
    ) -> None:
        where = self.node.path
        folder = read_folder(where, path, main=main, engine=engine)
        self.definition = folder
        self._warn_if_large(folder)
        declarations = self._wdl_declarations(folder)
        self.images = declarations.images if declarations is not None else images_by_pattern(folder)
        registry_map = version_settings.get("ContainerRegistryMap")
        warn_unpullable(self, self.images, registry_map)
        if registry_map is not None:
            version_settings = {**version_settings, "ContainerRegistryMap": _pascal_case(registry_map)}
        given_template = version_settings.get("ParameterTemplate")
        if given_template is None and declarations is not None and declarations.parameter_template:
            version_settings = {**version_settings, "ParameterTemplate": declarations.parameter_template}
        self.parameter_template = version_settings.get("ParameterTemplate")
        if self.parameter_template is not None:
            # The property spells a structure's members as CloudFormation does (Description, Optional).
            version_settings = {**version_settings, "ParameterTemplate": _pascal_case_template(self.parameter_template)}
        content = folder.digest()
        # The asset is named by the same digest: CDK need not hash the folder a second time.
        self.asset = s3_assets.Asset(
            self, "Definition", path=str(path), asset_hash=content, asset_hash_type=AssetHashType.CUSTOM
        )
        defining = {
            "Engine": folder.engine,
            "Main": str(folder.main),
            **{k: v for k, v in version_settings.items() if v is not None},
        }
        self._version_name = version_name_for(content, defining)
        properties: dict[str, Any] = {
            "Name": name or _default_name(self),
            "DefinitionUri": self.asset.s3_object_url,
            **defining,
            "VersionName": self._version_name,
            "DeletePolicy": delete_policy,
        }
        if retain_versions is not None:
            properties["RetainVersions"] = retain_versions
        if tags:
            properties["Tags"] = dict(tags)
        _check(where, properties)
        provider = OmicsRunProvider.of(self)
        stack = Stack.of(self)
        provider.allow_manage_workflows(
            f"arn:{stack.partition}:s3:::{self.asset.s3_bucket_name}/{self.asset.s3_object_key}"
        )
        self._resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties=properties,
        )
        self._workflow_id = self._resource.ref

    def _warn_if_large(self, folder: WorkflowFolder) -> None:
        """A warning when the folder's files exceed the zip's quota: its zip is smaller, by how much only
        the zip (made when the asset is published) can tell."""
        if folder.total_bytes <= MAX_DEFINITION_BYTES:
            return
        message = (
            f"the folder's {len(folder.files)} files hold {folder.total_bytes:,} bytes; HealthOmics takes a "
            f"definition zip in S3 of at most {MAX_DEFINITION_BYTES:,} bytes, a quota that cannot be raised: "
            "leave test data and build outputs out of the workflow's folder"
        )
        Annotations.of(self).add_warning_v2("cdk-omics-run:workflowDefinitionSize", message)
        warnings.warn(f"{self.node.path}: {message}", UserWarning, stacklevel=4)

    def _wdl_declarations(self, folder: WorkflowFolder) -> WdlDeclarations | None:
        """A WDL workflow's inputs and images, read with miniwdl; None for other engines, WDL_LENIENT
        (which accepts what a strict parser refuses), or without miniwdl. A definition miniwdl
        refuses is a warning: HealthOmics then derives the parameter template itself."""
        if folder.engine != "WDL":
            return None
        try:
            return read_wdl(folder.root / folder.main)
        except WdlUnreadable as error:
            message = f"miniwdl cannot read {folder.main} ({error}); HealthOmics will derive the parameter template"
            Annotations.of(self).add_warning_v2("cdk-omics-run:workflowNotParsed", message)
            warnings.warn(f"{self.node.path}: {message}", UserWarning, stacklevel=4)
            return None


def workflow_arguments(scope: Construct, workflow: Any, workflow_id: Any, workflow_version_name: Any) -> dict[str, Any]:
    """The ``workflow_id`` and ``workflow_version_name`` a run's ``workflow=`` stands for ({} without one).

    The version is the workflow's current content, so the run's StartRun grant
    names exactly that version, and a new content is a new run.
    """
    if workflow is None:
        return {}
    if not isinstance(workflow, OmicsWorkflow):
        raise ArgumentError(
            f"{scope.node.path}: argument workflow: got {type(workflow).__name__}; allowed: an OmicsWorkflow "
            "(OmicsWorkflow.from_directory or OmicsWorkflow.from_workflow_id)"
        )
    given = [
        name
        for name, value in (("workflow_id", workflow_id), ("workflow_version_name", workflow_version_name))
        if value is not None
    ]
    if given:
        raise ArgumentError(
            f"{scope.node.path}: arguments workflow and {' and '.join(given)}: got both; allowed: workflow alone "
            "(it names the workflow and its version)"
        )
    arguments: dict[str, Any] = {"workflow_id": workflow.workflow_id}
    if workflow.latest_version_name is not None:
        arguments["workflow_version_name"] = workflow.latest_version_name
    return arguments


def version_name_for(content_digest: str, defining: Mapping[str, Any]) -> str:
    """The version name: a digest of the folder's content and of every setting that defines a version,
    cut to the model's version-name limit (64). An unchanged folder keeps its name; any edit changes it."""
    canonical = json.dumps([content_digest, dict(defining)], sort_keys=True, separators=(",", ":"))
    limit = workflow_request().version_name_limit()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:limit]


def _enum_value(scope: Construct, argument: str, enum: type[Enum], value: Any) -> str:
    """An enum argument's value (a member or its text); ArgumentError naming the argument otherwise."""
    try:
        return str(enum(getattr(value, "value", value)).value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in enum)
        raise ArgumentError(f"{scope.node.path}: argument {argument}: got {value!r}; allowed: {allowed}") from None


def _pascal_case(value: Any) -> Any:
    """A structure in the API's member names (``registryMappings``) as the property spells it (``RegistryMappings``)."""
    if isinstance(value, Mapping):
        return {str(key)[:1].upper() + str(key)[1:]: _pascal_case(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pascal_case(item) for item in value]
    return value


def _pascal_case_template(template: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{"x": {"description": ..., "optional": ...}}`` (the parameter template file's form) as the property."""
    return {
        name: {key[:1].upper() + key[1:]: value for key, value in entry.items()} for name, entry in template.items()
    }


def _default_name(scope: Construct) -> str:
    """A readable default name: the construct's path, within the model's 128 characters."""
    return scope.node.path.replace("/", "-")[-128:]


def _check(where: str, properties: Mapping[str, Any]) -> None:
    """The handler's own checks of the properties (botocore's model), at synth; tokens pass unchecked."""
    literal = {k: v for k, v in properties.items() if not is_token(v)}
    literal["DefinitionUri"] = _PLACEHOLDER_URI
    try:
        workflow_request().workflow_settings(literal)
    except ValueError as error:  # the handler's PropertyError
        name = getattr(error, "property_name", "")
        argument = argument_name_of(name.split(".")[0]) if name else "?"
        argument = {"readme_markdown": "readme"}.get(argument, argument)
        raise ArgumentError(f"{where}: argument {argument}: {getattr(error, 'problem', error)}") from None


__all__ = ["RESOURCE_TYPE", "OmicsWorkflow", "WorkflowDeletePolicy", "WorkflowEngine", "workflow_arguments"]
