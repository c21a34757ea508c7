"""The attributes an OmicsRun and an OmicsRunBatch share: those of their custom resource, or of its wait's result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import CustomResource

if TYPE_CHECKING:
    from cdk_omics_run.wait import RunWait


class ResourceAttributes:
    """``attr_arn``, ``attr_id``, ``attr_uuid``, ``attr_status`` and ``resource`` of a run or batch construct.

    A waiting construct's attributes come from the resource read after its
    WaitCondition, so whatever uses them starts only once the wait has succeeded.
    """

    _resource: CustomResource
    wait: RunWait | None

    @property
    def attr_arn(self) -> str:
        """The run's (or batch's) ARN."""
        return self._attributes.get_att_string("Arn")

    @property
    def attr_id(self) -> str:
        """The run's (or batch's) ID, which is also the resource's physical ID."""
        return self._attributes.get_att_string("Id")

    @property
    def attr_uuid(self) -> str:
        """The run's (or batch's) universally unique identifier."""
        return self._attributes.get_att_string("Uuid")

    @property
    def attr_status(self) -> str:
        """The run's (or batch's) status when the resource last answered CloudFormation (or after its wait)."""
        return self._attributes.get_att_string("Status")

    @property
    def resource(self) -> CustomResource:
        """The underlying custom resource (``Custom::OmicsRun`` or ``Custom::OmicsRunBatch``)."""
        return self._resource

    @property
    def _attributes(self) -> CustomResource:
        return self.wait.result if self.wait is not None else self._resource
