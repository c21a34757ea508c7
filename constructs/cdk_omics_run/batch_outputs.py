"""A processed batch's per-run outputs as a sheet (CSV in S3), and the next cohort's settings built from it.

``OmicsRunBatch.outputs_sheet_for(names)`` adds one ``Custom::OmicsRunBatchOutputs`` read after
the batch's wait (PROCESSED): the provider lists the batch's runs and writes a CSV under the
batch's output location, one row per run. ``OmicsRunBatch.from_outputs`` adds one
``Custom::OmicsRunBatchSettings`` that turns the sheet's COMPLETED rows into the downstream
batch's ``s3UriSettings`` file, written at deploy time under the downstream batch's output
location and named by its content (StartRunBatch fails a batch whose file changes after
submission: API reference, BatchRunSettings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import CustomResource, IResolveContext, IStableListProducer, IStableStringProducer, Lazy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_omics_run.acknowledgements import acknowledge_wildcard
from cdk_omics_run.data_locations import S3Data
from cdk_omics_run.run_role import grant_prefix_read

if TYPE_CHECKING:
    from cdk_omics_run.provider import OmicsRunProvider
    from cdk_omics_run.wait import RunWait

OUTPUTS_RESOURCE_TYPE = "Custom::OmicsRunBatchOutputs"
PART_RESOURCE_TYPE = "Custom::OmicsRunBatchOutputsPart"
# ListRunsInBatch answers at most 100 runs a page (API reference); a part reads 40 pages in one
# invocation: 4,000 runs took 27 to 41 s against the local stand-ins (benchmarks/README.md).
PAGES_PER_PART = 40
RUNS_PER_PART = PAGES_PER_PART * 100
MAX_RUNS_PER_BATCH = 100_000
SETTINGS_RESOURCE_TYPE = "Custom::OmicsRunBatchSettings"
# Under the batch's output location, beside the runs' own folders (HealthOmics names those by run ID, digits).
SHEET_FOLDER = "cohort-outputs/"
SETTINGS_FOLDER = "cohort-run-settings/"


class BatchOutputsSheet(Construct):
    """The sheet of one waiting batch: its declared output names grow as they are asked for.

    ``run_count``: how many runs the batch holds, when known at synth (it sets how many parts read them).

    ``outputs``: where the batch's runs write, which the provider reads (the summaries, a
    HeadObject per output); it writes only the sheet's folder under the first of them.
    """

    def __init__(
        self,
        wait: RunWait,
        provider: OmicsRunProvider,
        batch_id: str,
        outputs: Sequence[S3Data],
        run_count: int | None,
        id: str = "Sheet",
    ) -> None:
        super().__init__(wait, id)
        self.names: list[str] = []
        """The output names the sheet has a column for, in the order first declared."""
        self.folder = S3Data(outputs[0].bucket_name, outputs[0].key + SHEET_FOLDER, outputs[0].bucket)
        """Where the provider writes the sheet."""
        self.outputs = list(outputs)
        """Where the batch's runs write (the sheet's URIs point under these)."""
        names = Lazy.list(_Names(self.names))
        # A chain of parts, each one invocation reading up to PAGES_PER_PART pages from where the previous
        # stopped; as many as the batch's runs need (all 100,000 a batch may hold, when its count is unknown).
        self.parts: list[CustomResource] = []
        """The part resources, in the order they read the batch's runs."""
        for index in range(-(-(run_count or MAX_RUNS_PER_BATCH) // RUNS_PER_PART)):
            after = {"After": self.parts[-1].get_att_string("NextToken")} if self.parts else {}
            part = CustomResource(
                self,
                f"Part{index}",
                service_token=provider.service_token,
                resource_type=PART_RESOURCE_TYPE,
                properties={
                    "BatchId": batch_id,
                    "OutputNames": names,
                    "SheetFolder": self.folder.uri,
                    "Part": index,
                    "MaxPages": PAGES_PER_PART,
                    **after,
                },
            )
            part.node.add_dependency(wait.condition)
            self.parts.append(part)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=OUTPUTS_RESOURCE_TYPE,
            properties={
                "BatchId": batch_id,
                "OutputNames": names,
                "SheetFolder": self.folder.uri,
                "Parts": [part.get_att_string("PartUri") for part in self.parts],
                "Remaining": self.parts[-1].get_att_string("NextToken"),
            },
        )
        partition = Stack.of(self).partition
        for output in self.outputs:
            _allow_reads(provider, output, partition, "reads the summaries of a processed batch's runs and heads "
                         "their declared outputs, whose keys HealthOmics names at run time")  # fmt: skip
        _allow_writes(
            provider, self.folder, partition, "writes a processed batch's outputs sheet, named by its content"
        )

    def declare(self, names: Sequence[str]) -> None:
        """Adds a column for each name not declared yet."""
        self.names.extend(name for name in names if name not in self.names)

    @property
    def uri(self) -> str:
        """The sheet's ``s3://`` URI (a token answered once the sheet is written)."""
        return self.resource.get_att_string("SheetUri")


class BatchSettingsFromSheet(Construct):
    """The ``s3UriSettings`` file of a downstream batch, written from an upstream batch's sheet at deploy time."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        provider: OmicsRunProvider,
        sheet: BatchOutputsSheet,
        parameters: Mapping[str, str],
        output: S3Data,
    ) -> None:
        super().__init__(scope, id)
        self.folder = S3Data(output.bucket_name, output.key + SETTINGS_FOLDER, output.bucket)
        """Where the provider writes the settings file (under the downstream batch's output location)."""
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=SETTINGS_RESOURCE_TYPE,
            properties={"SheetUri": sheet.uri, "Parameters": dict(parameters), "SettingsFolder": self.folder.uri},
        )
        partition = Stack.of(self).partition
        # The upstream batch may be in another stack, served by another provider: this one reads the sheet too.
        _allow_reads(provider, sheet.folder, partition, "reads the upstream batch's outputs sheet")
        why = "reads its settings file back before writing it, so that a file named by its content is written once"
        _allow_reads(provider, self.folder, partition, why)
        _allow_writes(provider, self.folder, partition, "writes a batch's settings file, named by its content")

    @property
    def s3_uri(self) -> str:
        """The settings file's ``s3://`` URI."""
        return self.resource.get_att_string("S3UriSettings")

    @property
    def run_count(self) -> str:
        """How many runs the file holds (the upstream runs that COMPLETED)."""
        return self.resource.get_att_string("RunCount")

    @property
    def skipped_runs(self) -> str:
        """How many upstream runs did not complete, and so have no run here."""
        return self.resource.get_att_string("SkippedRuns")

    def grant_read(self, grantee: iam.IGrantable, upstream_outputs: Sequence[S3Data]) -> None:
        """Lets the run role read the settings file (HealthOmics reads it with that role: BatchRunSettings)
        and the upstream runs' outputs its runs are given (under the upstream batch's output locations)."""
        partition = Stack.of(self).partition
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[f"arn:{partition}:s3:::{self.folder.bucket_name}/{self.folder.key}*"],
        )
        for data in [self.folder, *upstream_outputs]:
            key = None if data.bucket is None else data.bucket.encryption_key
            if key is not None:
                key.grant_decrypt(grantee)
        for output in upstream_outputs:
            grant_prefix_read(grantee, output.bucket_name, output.key, partition)
        policy = getattr(grantee, "policy", None)
        if isinstance(policy, iam.ManagedPolicy):
            settings_files = f"arn:<AWS::Partition>:s3:::{self.folder.bucket_name}/{self.folder.key}*"
            acknowledge_wildcard(policy, settings_files, "the settings file is named by its content at deploy time")
            for output in upstream_outputs:
                acknowledge_wildcard(policy, f"arn:<AWS::Partition>:s3:::{output.bucket_name}/{output.key}*",
                                     "the runs read the upstream runs' outputs, whose keys HealthOmics names at "
                                     "run time under the upstream batch's output location")  # fmt: skip


def _allow_reads(provider: OmicsRunProvider, data: S3Data, partition: str, why: str) -> None:
    grant_prefix_read(provider.role, data.bucket_name, data.key, partition)
    key = None if data.bucket is None else data.bucket.encryption_key
    if key is not None:
        key.grant_decrypt(provider.role)
    acknowledge_wildcard(
        provider.policy, f"arn:<AWS::Partition>:s3:::{data.bucket_name}/{data.key}*", f"the provider {why}"
    )


def _allow_writes(provider: OmicsRunProvider, folder: S3Data, partition: str, why: str) -> None:
    provider.role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:PutObject"], resources=[f"arn:{partition}:s3:::{folder.bucket_name}/{folder.key}*"]
        )
    )
    key = None if folder.bucket is None else folder.bucket.encryption_key
    if key is not None:
        key.grant_encrypt(provider.role)
    acknowledge_wildcard(
        provider.policy, f"arn:<AWS::Partition>:s3:::{folder.bucket_name}/{folder.key}*", f"the provider {why}"
    )


@jsii.implements(IStableListProducer)
class _Names:
    """The sheet's output names as they stand when the template is written."""

    def __init__(self, names: list[str]) -> None:
        self._names = names

    def produce(self, context: IResolveContext | None = None) -> Any:
        return list(self._names)


@jsii.implements(IStableStringProducer)
class LaterText:
    """A string given once the construct that answers it exists (``Lazy.string(LaterText())``)."""

    def __init__(self) -> None:
        self.value: str | None = None

    def produce(self, context: IResolveContext | None = None) -> str | None:
        return self.value


__all__ = [
    "OUTPUTS_RESOURCE_TYPE",
    "SETTINGS_RESOURCE_TYPE",
    "BatchOutputsSheet",
    "BatchSettingsFromSheet",
    "LaterText",
]
