"""The container images a workflow names, and those HealthOmics cannot pull as written.

HealthOmics pulls images only from Amazon ECR private repositories "in the same AWS Region as
the account calling the service", and "doesn't support access to public repositories" (user
guide, "Container images for private workflows"); images of other registries need ECR pull
through cache rules and a container registry map, or HealthOmics' copy of a few registries
("Adding private or third-party containers during workflow creation"). The construct warns at
synth about every image it finds outside private ECR in the stack's region.

WDL images come from miniwdl (``workflow_wdl``) when it is installed. Nextflow's ``container``
directives and CWL's ``DockerRequirement.dockerPull`` are found by pattern, best effort:
images built from variables or parameters cannot be known before a run.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from aws_cdk import Annotations, Stack
from constructs import Construct

from cdk_omics_run.tokens import is_token
from cdk_omics_run.workflow_definition import WorkflowFolder

# <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>
PRIVATE_ECR = re.compile(r"^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/")
_LITERAL = r"""['"]([^'"$]+)['"]"""
PATTERNS = {
    # WDL without miniwdl: runtime { docker: "image" } (or container:), literal strings only.
    "WDL": (re.compile(rf"\b(?:docker|container)\s*:\s*{_LITERAL}"), (".wdl",)),
    # Nextflow: the process directive (container 'image') and config assignments (container = 'image').
    "NEXTFLOW": (re.compile(rf"\bcontainer\s*=?\s*{_LITERAL}"), (".nf", ".config")),
    "CWL": (re.compile(r"""\bdockerPull\s*:\s*['"]?([^\s'"$]+)"""), (".cwl", ".yml", ".yaml", ".json")),
}
WARNING_ID = "cdk-omics-run:workflowImageNotPullable"


def images_by_pattern(folder: WorkflowFolder) -> tuple[str, ...]:
    """The literal images the folder's files name, by the engine's pattern."""
    engine = "WDL" if folder.engine.startswith("WDL") else folder.engine
    pattern, suffixes = PATTERNS[engine]
    found: set[str] = set()
    for relative in folder.files:
        if relative.suffix.lower() in suffixes:
            text = (folder.root / relative).read_text(encoding="utf-8", errors="replace")
            found.update(match.group(1) for match in pattern.finditer(text))
    return tuple(sorted(found))


# Docker Hub's registry, for images named without a registry host (``ubuntu:22.04``, ``biocontainers/x``):
# the user guide's registry mapping example names it so.
DOCKER_HUB = "registry-1.docker.io"


def registry_of(image: str) -> str:
    """The registry host an image reference names (Docker's rule: a first part with a dot or a colon, or localhost)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def unpullable(images: Iterable[str], region: str, registry_map: Mapping[str, Any] | None = None) -> list[str]:
    """The images outside private ECR in ``region`` (any region, when the stack's is known only at deploy)
    that the container registry map does not map (an image mapping's ``sourceImage``, or a registry
    mapping's ``upstreamRegistryUrl``)."""
    mapped_images = {m.get("sourceImage") for m in (registry_map or {}).get("imageMappings", [])}
    mapped_registries = {m.get("upstreamRegistryUrl") for m in (registry_map or {}).get("registryMappings", [])}
    outside = []
    for image in images:
        match = PRIVATE_ECR.match(image)
        if match is not None and (is_token(region) or match.group(1) == region):
            continue
        if image in mapped_images or (match is None and registry_of(image) in mapped_registries):
            continue
        outside.append(image)
    return outside


def warn_unpullable(scope: Construct, images: Iterable[str], registry_map: Mapping[str, Any] | None = None) -> None:
    """A synth warning per image HealthOmics cannot pull as written, nor through the registry map."""
    region = Stack.of(scope).region
    where = "private ECR" if is_token(region) else f"private ECR in {region}"
    for image in unpullable(images, region, registry_map):
        message = (
            f"the workflow names the container image {image!r}, outside {where}: HealthOmics pulls only from "
            "Amazon ECR private repositories in the run's region; push it there, or map its registry with ECR "
            "pull through cache and container_registry_map"
        )
        Annotations.of(scope).add_warning_v2(WARNING_ID, message)
        # CDK prints annotations only through its CLI: `python app.py` users see this one too.
        warnings.warn(f"{scope.node.path}: {message}", UserWarning, stacklevel=4)


__all__ = ["images_by_pattern", "unpullable", "warn_unpullable"]
