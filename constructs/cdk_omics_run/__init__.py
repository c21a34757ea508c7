"""cdk-omics-run: AWS HealthOmics workflow runs as AWS CDK constructs.

Example::

    from cdk_omics_run import OmicsRun

    run = OmicsRun.from_cli_input_json(stack, "CramToBam", "examples/cram-to-bam.json")

The exports load on first use (PEP 562), so that the ``cdk-omics-run`` command
starts without aws-cdk-lib and its jsii runtime, which only the constructs need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cdk_omics_run.version import VERSION

if TYPE_CHECKING:
    from cdk_omics_run.arguments import ArgumentError
    from cdk_omics_run.batch import OmicsRunBatch, OmicsRunBatchArguments, OmicsRunBatchSheetArguments
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
    from cdk_omics_run.workflow import OmicsWorkflow, WorkflowDeletePolicy, WorkflowEngine

__version__ = VERSION

# Each export and the module that defines it.
_EXPORTS = {
    "ArgumentError": "arguments",
    "OmicsRunBatch": "batch",
    "OmicsRunBatchArguments": "batch",
    "OmicsRunBatchSheetArguments": "batch",
    **dict.fromkeys(
        (
            "BatchWaitFor",
            "CacheBehavior",
            "DeletePolicy",
            "LogLevel",
            "NetworkingMode",
            "OutputUriPrefixMode",
            "RetentionMode",
            "ScratchStorageMode",
            "StorageType",
            "WaitFor",
            "WorkflowType",
        ),
        "enums",
    ),
    "OmicsRunProvider": "provider",
    "OmicsRunProviderStack": "provider_stack",
    "ContainerRegistryMap": "registry_map",
    "RESOURCE_TYPE": "run",
    "OmicsRun": "run",
    "OmicsRunArguments": "run",
    "RunSetting": "run_settings",
    "SheetColumn": "sample_sheet",
    "OmicsWorkflow": "workflow",
    "WorkflowDeletePolicy": "workflow",
    "WorkflowEngine": "workflow",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


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
