"""Container images from third-party registries: ECR pull through cache, and the map HealthOmics reads it by.

HealthOmics pulls only from Amazon ECR private repositories in the run's region. For the
upstream registries ECR's pull through cache supports, the user guide ("Using third-party
registries supported by pull through cache") asks for three things, which this module declares:

- a pull through cache rule per upstream registry (``AWS::ECR::PullThroughCacheRule``); Docker
  Hub, GitHub, GitLab and Azure need a Secrets Manager secret with the registry's credentials
  (ECR User Guide, "Sync an upstream registry"), whose name starts with ``ecr-pullthroughcache/``;
- a repository creation template per prefix, applied to repositories that pull through cache
  creates, whose repository policy lets ``omics.amazonaws.com`` pull (the user guide's resource
  policy for HealthOmics: ``ecr:BatchGetImage``, ``ecr:GetDownloadUrlForLayer``,
  ``ecr:BatchCheckLayerAvailability``);
- a registry permissions policy letting ``omics.amazonaws.com`` create those repositories and
  import upstream images into them (``ecr:CreateRepository``, ``ecr:BatchImportUpstreamImage``;
  HealthOmics user guide, "Amazon ECR permissions", "Policies for Amazon ECR pull through cache";
  ECR User Guide, "IAM permissions required to sync an upstream registry").

A registry has one permissions policy (``AWS::ECR::RegistryPolicy`` replaces it whole), so the
construct declares it only when asked (``manage_registry_policy=True``); otherwise its statement
is ``registry_policy_statement``, for the account's own policy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_omics_run.arguments import ArgumentError
from cdk_omics_run.tokens import is_token

OMICS_PRINCIPAL = "omics.amazonaws.com"
# The upstream registries HealthOmics supports through pull through cache (user guide), and whether ECR
# needs credentials for each (ECR User Guide, "Sync an upstream registry": Docker Hub, Azure, GitHub and
# GitLab authenticate with a Secrets Manager secret; ECR Public, Kubernetes and Quay do not).
SUPPORTED_REGISTRIES: dict[str, bool] = {
    "public.ecr.aws": False,
    "registry.k8s.io": False,
    "quay.io": False,
    "registry-1.docker.io": True,
    "ghcr.io": True,
    "registry.gitlab.com": True,
}
AZURE_SUFFIX = ".azurecr.io"
# ECR repository names and prefixes (CreatePullThroughCacheRule: ecrRepositoryPrefix, 2 to 30 characters).
_PREFIX_CHARACTERS = set("abcdefghijklmnopqrstuvwxyz0123456789._-/")
PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
IMPORT_ACTIONS = ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"]


class ContainerRegistryMap(Construct):
    """ECR pull through cache for upstream registries, and the container registry map that names it.

    Pass it as an ``OmicsWorkflow``'s ``container_registry_map``: the workflow is then created
    after the rules, its map names them, and images of those registries give no synth warning.

    Example::

        registries = ContainerRegistryMap.pull_through(
            stack, "Registries", {"quay.io": "quay", "public.ecr.aws": "ecr-public"}
        )
        OmicsWorkflow.from_directory(stack, "Align", "workflows/align", container_registry_map=registries)
    """

    mapping: dict[str, Any]
    registry_policy_statement: iam.PolicyStatement

    @classmethod
    def pull_through(
        cls,
        scope: Construct,
        id: str,
        registries: Mapping[str, str],
        *,
        credentials: Mapping[str, str] | None = None,
        manage_registry_policy: bool = False,
    ) -> ContainerRegistryMap:
        """One pull through cache rule and repository creation template per upstream registry.

        ``registries``: upstream registry host to ECR repository prefix, e.g. ``{"quay.io": "quay"}``.
        ``credentials``: registry host to the ARN of its Secrets Manager secret (name starting
        ``ecr-pullthroughcache/``), for registries that authenticate. ``manage_registry_policy``:
        declare the registry's permissions policy (it replaces any the account has); by default
        add ``registry_policy_statement`` to the account's own.
        """
        registry_map = cls(scope, id)
        registry_map._declare(dict(registries), dict(credentials or {}), manage_registry_policy)
        return registry_map

    def _declare(self, registries: dict[str, str], credentials: dict[str, str], manage_registry_policy: bool) -> None:
        where = self.node.path
        if not registries:
            raise ArgumentError(f"{where}: argument registries: empty; allowed: upstream registry host -> ECR prefix")
        for host in credentials:
            if host not in registries:
                raise ArgumentError(f"{where}: argument credentials: {host!r} is not one of the registries")
        stack = Stack.of(self)
        repositories = []
        mappings = []
        for index, (host, prefix) in enumerate(sorted(registries.items())):
            _check_registry(where, host, prefix, credentials.get(host))
            ecr.CfnPullThroughCacheRule(
                self,
                f"Rule{index}",
                ecr_repository_prefix=prefix,
                upstream_registry_url=host,
                credential_arn=credentials.get(host),
            )
            ecr.CfnRepositoryCreationTemplate(
                self,
                f"Template{index}",
                prefix=prefix,
                applied_for=["PULL_THROUGH_CACHE"],
                description=f"Repositories pull through cache creates for {host}: HealthOmics may pull from them",
                repository_policy=json.dumps(_pull_policy()),
            )
            repositories.append(f"arn:{stack.partition}:ecr:{stack.region}:{stack.account}:repository/{prefix}/*")
            mappings.append({"upstreamRegistryUrl": host, "ecrRepositoryPrefix": prefix})
        self.mapping = {"registryMappings": mappings}
        self.registry_policy_statement = iam.PolicyStatement(
            sid="HealthOmicsPullThroughCache",
            principals=[iam.ServicePrincipal(OMICS_PRINCIPAL)],
            actions=IMPORT_ACTIONS,
            resources=repositories,
        )
        if manage_registry_policy:
            document = iam.PolicyDocument(statements=[self.registry_policy_statement])
            ecr.CfnRegistryPolicy(self, "RegistryPolicy", policy_text=document.to_json())


def _pull_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "HealthOmicsWorkflowAccess",
                "Effect": "Allow",
                "Principal": {"Service": OMICS_PRINCIPAL},
                "Action": PULL_ACTIONS,
            }
        ],
    }


def _check_registry(where: str, host: str, prefix: str, credential_arn: str | None) -> None:
    supported = host in SUPPORTED_REGISTRIES or host.endswith(AZURE_SUFFIX)
    if not supported:
        allowed = ", ".join([*SUPPORTED_REGISTRIES, f"<name>{AZURE_SUFFIX}"])
        raise ArgumentError(
            f"{where}: argument registries: {host!r} is not an upstream registry HealthOmics supports through pull "
            f"through cache; allowed: {allowed} (copy other images into ECR)"
        )
    needs_credentials = SUPPORTED_REGISTRIES.get(host, True)
    if needs_credentials and credential_arn is None:
        raise ArgumentError(
            f"{where}: argument credentials: {host} authenticates pull through cache with a Secrets Manager "
            f"secret; give credentials={{{host!r}: secret.secret_arn}} (a secret named ecr-pullthroughcache/...)"
        )
    if not is_token(prefix) and not (2 <= len(prefix) <= 30 and set(prefix) <= _PREFIX_CHARACTERS):
        raise ArgumentError(
            f"{where}: argument registries: prefix {prefix!r} for {host}; allowed: 2 to 30 characters of "
            "lowercase letters, digits, '.', '_', '-' and '/'"
        )


__all__ = ["ContainerRegistryMap"]
