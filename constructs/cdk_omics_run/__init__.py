"""cdk-omics-run: AWS HealthOmics workflow runs as AWS CDK constructs.

Example::

    from cdk_omics_run import OmicsRun

    run = OmicsRun.from_cli_input_json(stack, "CramToBam", "examples/cram-to-bam.json")
"""

from __future__ import annotations

from cdk_omics_run.arguments import ArgumentError
from cdk_omics_run.batch import OmicsRunBatch, OmicsRunBatchArguments, OmicsRunBatchSheetArguments
from cdk_omics_run.documentation import show_init_signature
from cdk_omics_run.enums import (
    BatchWaitFor,
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
from cdk_omics_run.provider import OmicsRunProvider
from cdk_omics_run.provider_stack import OmicsRunProviderStack
from cdk_omics_run.registry_map import ContainerRegistryMap
from cdk_omics_run.run import RESOURCE_TYPE, OmicsRun, OmicsRunArguments
from cdk_omics_run.run_settings import RunSetting
from cdk_omics_run.sample_sheet import SheetColumn
from cdk_omics_run.version import VERSION
from cdk_omics_run.workflow import OmicsWorkflow, WorkflowDeletePolicy, WorkflowEngine

__version__ = VERSION

# jsii's metaclass hides __init__'s arguments from help() and inspect.signature(); OmicsRun shows its own.
show_init_signature(OmicsRunProvider)
show_init_signature(OmicsRunProviderStack)

__all__ = [
    "RESOURCE_TYPE",
    "ArgumentError",
    "BatchWaitFor",
    "CacheBehavior",
    "ContainerRegistryMap",
    "DeletePolicy",
    "LogLevel",
    "NetworkingMode",
    "OmicsRun",
    "OmicsRunArguments",
    "OmicsRunBatch",
    "OmicsRunBatchArguments",
    "OmicsRunBatchSheetArguments",
    "OmicsRunProvider",
    "OmicsRunProviderStack",
    "OmicsWorkflow",
    "OutputUriPrefixMode",
    "RetentionMode",
    "RunSetting",
    "ScratchStorageMode",
    "SheetColumn",
    "StorageType",
    "WaitFor",
    "WorkflowDeletePolicy",
    "WorkflowEngine",
    "WorkflowType",
]
