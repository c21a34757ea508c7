"""The custom resource types the provider serves: what the handler dispatches on before it loads a type's module.

A run's Create loads only the run's modules; a batch's, a workflow's and the
cohort files' modules load with their first request (a cold start costs
their import only when it serves them).
"""

from __future__ import annotations

RUN = "Custom::OmicsRun"
BATCH = "Custom::OmicsRunBatch"
BATCH_OUTPUTS = "Custom::OmicsRunBatchOutputs"
BATCH_OUTPUTS_PART = "Custom::OmicsRunBatchOutputsPart"
BATCH_SETTINGS = "Custom::OmicsRunBatchSettings"
RESULT = "Custom::OmicsRunResult"
WORKFLOW = "Custom::OmicsWorkflow"
BATCH_FILES = (BATCH_OUTPUTS_PART, BATCH_OUTPUTS, BATCH_SETTINGS)
