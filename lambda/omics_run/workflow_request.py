"""Custom::OmicsWorkflow properties -> CreateWorkflow and CreateWorkflowVersion requests. Pure functions.

The properties are the CreateWorkflow request members in PascalCase
(``DefinitionUri``, ``Engine``, ``Main``, ``ParameterTemplate``, ``Name``,
``Tags`` ...), read from botocore's model like a run's, and these of the
resource's own:

- ``VersionName``: the version the current content becomes. The construct
  names it after the content's digest; without it, the provider names it
  after the digest of the version-defining members (``version_name_of``).
- ``DeletePolicy``: ``RETAIN`` (the default: runs elsewhere may use the
  workflow) or ``DELETE`` (its versions, then the workflow).
- ``RetainVersions``: keep this many of the resource's newest versions, and
  delete older ones (default: keep all).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Relative imports, and none of modules that need botocore: the construct library loads this
# module at synth time (``cdk_omics_run.handler_source``), as it loads ``start_run_shape``.
from . import resource_types
from .start_run_shape import (
    Member,
    PropertyError,
    coerce_member,
    input_shape_of,
    quote,
    structure_members,
    unknown_name_problem,
)
from .tag_rules import declared_tags_problem

RESOURCE_TYPE = resource_types.WORKFLOW
DELETE_POLICIES = ("RETAIN", "DELETE")
DEFAULT_DELETE_POLICY = "RETAIN"
# As request_mapping.SERVICE_PROPERTIES: what configures the resource, sent to no API.
CONTROL_PROPERTIES = frozenset({"ServiceToken", "ServiceTimeout", "VersionName", "DeletePolicy", "RetainVersions"})
# Handled by the provider (requestId), or not expressible in a template (a zip's bytes).
NOT_PROPERTIES = frozenset({"requestId", "definitionZip"})
MAX_RETAIN_VERSIONS = 1000


@lru_cache(maxsize=1)
def workflow_members() -> dict[str, Member]:
    """The CreateWorkflow members a template may set, keyed by property name."""
    return structure_members(input_shape_of("CreateWorkflow"), leave_out=NOT_PROPERTIES)


@lru_cache(maxsize=1)
def version_wire_names() -> frozenset[str]:
    """The CreateWorkflowVersion members a version takes from the properties (not its IDs or token)."""
    return frozenset(input_shape_of("CreateWorkflowVersion").members) - {"workflowId", "versionName", "requestId"}


@lru_cache(maxsize=1)
def version_name_limit() -> int:
    """The model's maximum length of a version name (WorkflowVersionName)."""
    return int(input_shape_of("CreateWorkflowVersion").members["versionName"].metadata["max"])


@dataclass(frozen=True)
class WorkflowSettings:
    """What the resource declares: its CreateWorkflow request and how it treats its versions."""

    request: dict[str, Any]
    version_name: str
    delete_policy: str = DEFAULT_DELETE_POLICY
    retain_versions: int | None = None

    @property
    def version_request(self) -> dict[str, Any]:
        """The CreateWorkflowVersion members of the request (without workflowId, versionName and requestId)."""
        return {k: v for k, v in self.request.items() if k in version_wire_names()}


def workflow_settings(properties: Mapping[str, Any]) -> WorkflowSettings:
    """Maps a workflow resource's properties; raises PropertyError naming a bad one, before any API call.

    >>> workflow_settings({"DefinitionUri": "s3://b/k.zip", "Engine": "WDL", "VersionName": "v1"}).request
    {'definitionUri': 's3://b/k.zip', 'engine': 'WDL'}
    """
    members = workflow_members()
    request: dict[str, Any] = {}
    for name, value in properties.items():
        if name in CONTROL_PROPERTIES:
            continue
        member = members.get(name)
        if member is None:
            allowed = "allowed: the CreateWorkflow members in PascalCase"
            raise PropertyError(name, unknown_name_problem("property", name, members, allowed))
        request[member.wire_name] = coerce_member(member, value)
    if not any(request.get(source) for source in ("definitionUri", "definitionRepository")):
        raise PropertyError("DefinitionUri", "missing; allowed: the s3:// URI of the workflow's zip")
    tags_problem = declared_tags_problem(request.get("tags", {}))
    if tags_problem is not None:
        raise PropertyError(*tags_problem)
    policy = properties.get("DeletePolicy", DEFAULT_DELETE_POLICY)
    if policy not in DELETE_POLICIES:
        raise PropertyError("DeletePolicy", f"got {quote(policy)}; allowed: {', '.join(DELETE_POLICIES)}")
    return WorkflowSettings(
        request=request,
        version_name=_version_name(properties, request),
        delete_policy=policy,
        retain_versions=_retain_versions(properties.get("RetainVersions")),
    )


def _retain_versions(value: Any) -> int | None:
    """RetainVersions (CloudFormation sends it as text): None, or an integer from 1 to MAX_RETAIN_VERSIONS."""
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not 1 <= int(text) <= MAX_RETAIN_VERSIONS:
        raise PropertyError(
            "RetainVersions", f"got {quote(value)}; allowed: an integer from 1 to {MAX_RETAIN_VERSIONS} (versions)"
        )
    return int(text)


def _version_name(properties: Mapping[str, Any], request: Mapping[str, Any]) -> str:
    given = properties.get("VersionName")
    if given is None:
        return version_name_of(request)
    member = structure_members(input_shape_of("CreateWorkflowVersion"))["VersionName"]
    name: str = coerce_member(member, given)
    return name


def version_name_of(request: Mapping[str, Any]) -> str:
    """A version name from the digest of the version-defining members, cut to the model's limit.

    Tags and the workflow's name never define a version. The hex digest starts
    with a letter or digit, as WorkflowVersionName's pattern requires.
    """
    defining = {k: v for k, v in request.items() if k in version_wire_names() and k != "tags"}
    canonical = json.dumps(defining, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[: version_name_limit()]
