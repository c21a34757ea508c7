"""The service role a run gets when none is given: exactly what its declared inputs need.

It is derived from what the construct can see at synth time: ``s3://`` and
``omics://`` URIs in the workflow parameters, the S3 data objects among them
(buckets, assets, locations: see ``data_locations``) with their KMS keys, the
output location, and whether the workflow is private. What it cannot see (inputs listed inside a sample sheet,
index files beside a BAM, a parameters file at ``parameters_uri``) must be
granted with ``OmicsRun.run_role.add_to_policy(...)``. Its statements live in one
customer-managed policy (``run_role.policy``), as cdk-nag's HIPAA and NIST packs ask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_omics_run.acknowledgements import acknowledge_wildcard
from cdk_omics_run.data_locations import S3Data
from cdk_omics_run.managed_role import ManagedPolicyRole
from cdk_omics_run.tokens import is_token

S3_URI = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?")
# omics://<account>.storage.<region>.amazonaws.com/<store>/readSet/<id>/source1
# omics://<account>.storage.<region>.amazonaws.com/<store>/reference/<id>[/index]
OMICS_URI = re.compile(
    r"omics://(\d{12})\.storage\.([a-z0-9-]+)\.amazonaws\.com/(\d+)/(readSet|reference)/(\d+)(?:/.*)?"
)
WORKFLOW_LOG_GROUP = "/aws/omics/WorkflowLog"


@dataclass
class DeclaredInputs:
    """The data locations a run's parameters name."""

    s3_objects: set[tuple[str, str]] = field(default_factory=set)
    s3_prefixes: set[tuple[str, str]] = field(default_factory=set)
    read_sets: set[tuple[str, str, str, str]] = field(default_factory=set)
    references: set[tuple[str, str, str, str]] = field(default_factory=set)
    decrypt_keys: list[kms.IKey] = field(default_factory=list)

    def add(self, locations: Iterable[S3Data]) -> DeclaredInputs:
        """Adds S3 data the construct placed (bucket names may be tokens), and the KMS keys of their buckets."""
        for data in locations:
            (self.s3_prefixes if data.is_folder else self.s3_objects).add((data.bucket_name, data.key))
            key = _encryption_key(data)
            if key is not None and not any(key is known for known in self.decrypt_keys):
                self.decrypt_keys.append(key)
        return self


def _encryption_key(data: S3Data) -> kms.IKey | None:
    return None if data.bucket is None else data.bucket.encryption_key


def declared_inputs(parameters: Any) -> DeclaredInputs:
    """Finds every ``s3://`` and ``omics://`` URI in a parameters document, however nested.

    >>> sorted(declared_inputs({"bams": ["s3://bkt/x.bam"], "ref": "s3://bkt/ref/"}).s3_prefixes)
    [('bkt', 'ref/')]
    """
    found = DeclaredInputs()
    for text in _strings(parameters):
        s3 = S3_URI.fullmatch(text)
        if s3:
            bucket, key = s3.group(1), s3.group(2) or ""
            (found.s3_prefixes if key == "" or key.endswith("/") else found.s3_objects).add((bucket, key))
            continue
        omics = OMICS_URI.fullmatch(text)
        if omics:
            account, region, store, kind, item = omics.groups()
            (found.read_sets if kind == "readSet" else found.references).add((account, region, store, item))
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str) and not is_token(value):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def generated_run_role(
    scope: Construct,
    *,
    inputs: DeclaredInputs,
    outputs: Sequence[S3Data],
    private_workflow: bool,
    cache_uri: str | None = None,
    batch: bool = False,
) -> ManagedPolicyRole:
    """A role only ``omics.amazonaws.com`` can assume, for this account's runs, holding what the run needs.

    ``inputs``: what the run reads (``declared_inputs`` of its parameters, plus the S3 data objects).
    ``outputs``: where it writes (a batch's per-run locations too); their buckets' KMS keys are granted.
    ``cache_uri``: the S3 location of the run's cache, when known at synth time.
    ``batch``: the role also serves HealthOmics for the account's run batches.
    """
    stack = Stack.of(scope)
    source_arns = [f"arn:{stack.partition}:omics:{stack.region}:{stack.account}:run/*"]
    if batch:
        # HealthOmics reads a batch's settings file with the role while StartRunBatch runs.
        source_arns.append(f"arn:{stack.partition}:omics:{stack.region}:{stack.account}:runBatch/*")
    role = ManagedPolicyRole(
        scope,
        "RunRole",
        description="HealthOmics run role generated by cdk-omics-run from the run's declared inputs",
        policy_description="HealthOmics run role: what the run's declared inputs and outputs need (cdk-omics-run)",
        assumed_by=iam.ServicePrincipal(
            "omics.amazonaws.com",
            conditions={
                # Only HealthOmics runs of this account may use it (confused-deputy guard).
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": source_arns if batch else source_arns[0]},
            },
        ),
    )
    wildcards: dict[str, str] = {}
    _grant_s3_reads(role, inputs, wildcards)
    for key in inputs.decrypt_keys:
        # S3 user guide, "Using server-side encryption with AWS KMS keys": reading an SSE-KMS object
        # needs kms:Decrypt on its key.
        key.grant_decrypt(role)
    for output in collapsed_outputs(outputs):
        _grant_output_write(role, output, wildcards)
    if cache_uri is not None:
        _grant_run_cache(role, cache_uri, wildcards)
    _grant_omics_reads(role, inputs)
    _grant_workflow_logs(role, wildcards)
    if private_workflow:
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PullWorkflowImages",
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                resources=[f"arn:{stack.partition}:ecr:{stack.region}:{stack.account}:repository/*"],
            )
        )
        wildcards["arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*"] = (
            "a private workflow's container images live in ECR repositories its definition names, "
            "which HealthOmics resolves at run time"
        )
    for resource, reason in wildcards.items():
        acknowledge_wildcard(role.policy, resource, reason)
    return role


# How many S3 locations a generated role names per kind before it names their common folders
# instead: a policy document of a role holds at most 6,144 characters (IAM quotas), and a batch
# may declare 100,000 inputs. Each location costs about 60 characters in two statements.
MAX_GRANTED_LOCATIONS = 20


def collapsed_inputs(
    documents: Iterable[Any], locations: Iterable[S3Data] = (), limit: int = MAX_GRANTED_LOCATIONS
) -> DeclaredInputs:
    """The inputs of many parameters documents, each kind merged into at most about ``limit`` grants.

    A cohort's inputs usually share folders (``s3://bucket/crams/S1.cram``,
    ``.../S2.cram``): S3 objects are granted one by one while they are few,
    then by the folders that hold them, the deepest climbing one level at a
    time until at most ``limit`` remain; an object at a bucket's root stays an
    object until only whole buckets would do. Read sets and references
    collapse to their stores (``sequenceStore/1/readSet/*``). ``locations``: S3 data objects the
    documents held (buckets, assets), collapsed with the rest.

    >>> found = collapsed_inputs([{"a": f"s3://bkt/crams/S{i}.cram"} for i in range(30)] + [{"r": "s3://bkt/ref.fa"}])
    >>> sorted(found.s3_prefixes), sorted(found.s3_objects)
    ([('bkt', 'crams/')], [('bkt', 'ref.fa')])
    """
    found = DeclaredInputs().add(locations)
    for document in documents:
        one = declared_inputs(document)
        found.s3_objects |= one.s3_objects
        found.s3_prefixes |= one.s3_prefixes
        found.read_sets |= one.read_sets
        found.references |= one.references
    if len(found.s3_objects) + len(found.s3_prefixes) > limit:
        found.s3_objects, found.s3_prefixes = _collapsed_locations(found.s3_objects, found.s3_prefixes, limit)
    if len(found.read_sets) > limit:
        found.read_sets = {(account, region, store, "*") for account, region, store, _ in found.read_sets}
    if len(found.references) > limit:
        found.references = {(account, region, store, "*") for account, region, store, _ in found.references}
    return found


def collapsed_outputs(outputs: Sequence[S3Data], limit: int = MAX_GRANTED_LOCATIONS) -> list[S3Data]:
    """Output locations as at most ``limit`` prefixes (the output URIs of a batch's runs), each with its bucket."""
    buckets = {data.bucket_name: data.bucket for data in outputs}
    prefixes = {(data.bucket_name, data.key) for data in outputs}
    if len(prefixes) > limit:
        _, prefixes = _collapsed_locations(set(), prefixes, limit)
    return [S3Data(name, key, buckets[name]) for name, key in sorted(prefixes)]


Location = tuple[str, str]


def _collapsed_locations(
    objects: set[Location], prefixes: set[Location], limit: int
) -> tuple[set[Location], set[Location]]:
    """(objects, prefixes) covering every given location in about ``limit`` grants, as narrowly as that allows."""
    at_root = {(bucket, key) for bucket, key in objects if "/" not in key}
    folders = {(bucket, _parent(key)) for bucket, key in objects - at_root} | prefixes
    while len(folders) + len(at_root) > limit:
        deepest = max((key.count("/") for _, key in folders), default=0)
        if deepest == 0:
            # Only whole buckets are left to climb to: the root objects join them.
            folders |= {(bucket, "") for bucket, _ in at_root}
            at_root = set()
            break
        folders = {(bucket, _parent(key) if key.count("/") == deepest else key) for bucket, key in folders}
    folders = _without_nested(folders)
    at_root = {(b, k) for b, k in at_root if not any(b == fb and k.startswith(fk) for fb, fk in folders)}
    return at_root, folders


def _parent(key: str) -> str:
    """The folder above: ``a/b/c.cram`` -> ``a/b/``, ``a/b/`` -> ``a/``, ``a/`` -> ``""`` (the bucket)."""
    cut = key.rstrip("/").rfind("/") if key.endswith("/") else key.rfind("/")
    return key[: cut + 1] if cut >= 0 else ""


def _without_nested(folders: set[tuple[str, str]]) -> set[tuple[str, str]]:
    kept: set[tuple[str, str]] = set()
    for bucket, key in sorted(folders, key=lambda item: (item[0], len(item[1]))):
        if not any(b == bucket and key.startswith(k) for b, k in kept):
            kept.add((bucket, key))
    return kept


def s3_prefix_of(uri: str) -> tuple[str, str]:
    """(bucket, key prefix) of an ``s3://`` URI; raises ValueError for anything else."""
    match = S3_URI.fullmatch(uri)
    if not match:
        raise ValueError(uri)
    return match.group(1), match.group(2) or ""


def grant_prefix_read(grantee: iam.IGrantable, bucket: str, prefix: str, partition: str) -> iam.Grant:
    """Read access to every object under ``s3://bucket/prefix``."""
    return iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["s3:GetObject", "s3:ListBucket"],
        resource_arns=[f"arn:{partition}:s3:::{bucket}/{prefix}*", f"arn:{partition}:s3:::{bucket}"],
    )


def _grant_s3_reads(role: iam.Role, inputs: DeclaredInputs, wildcards: dict[str, str]) -> None:
    partition = Stack.of(role).partition
    objects = sorted(inputs.s3_objects)
    prefixes = sorted(inputs.s3_prefixes)
    if objects or prefixes:
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadDeclaredInputs",
                actions=["s3:GetObject"],
                resources=[f"arn:{partition}:s3:::{b}/{k}" for b, k in objects]
                + [f"arn:{partition}:s3:::{b}/{k}*" for b, k in prefixes],
            )
        )
    for bucket, key in prefixes:
        wildcards[f"arn:<AWS::Partition>:s3:::{bucket}/{key}*"] = (
            f"the workflow parameters name inputs under s3://{bucket}/{key} (a prefix, or the folder of many)"
        )
    for bucket in sorted({b for b, _ in objects + prefixes}):
        keys = sorted({k for b, k in objects if b == bucket} | {f"{k}*" for b, k in prefixes if b == bucket})
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[f"arn:{partition}:s3:::{bucket}"],
                conditions={"StringLike": {"s3:prefix": keys}},
            )
        )


def _grant_output_write(role: iam.Role, output: S3Data, wildcards: dict[str, str]) -> None:
    _grant_prefix(
        role, "WriteOutputs", ["s3:PutObject"], output.bucket_name, output.key, wildcards,
        "HealthOmics writes the run's outputs under the output URI, in keys named at run time",
    )  # fmt: skip
    key = _encryption_key(output)
    if key is not None:
        # S3 user guide, "Using server-side encryption with AWS KMS keys": writing an SSE-KMS object
        # needs kms:GenerateDataKey, and a multipart upload kms:Decrypt too.
        key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")


def _grant_run_cache(role: iam.Role, cache_uri: str, wildcards: dict[str, str]) -> None:
    """Reads and writes the run cache's S3 location.

    HealthOmics user guide, "Service roles for AWS HealthOmics": "If you're
    using call caching for the run, add the run cache Amazon S3 location as a
    resource in the s3 permissions" (its example: s3:GetObject, s3:PutObject
    on the objects, s3:ListBucket on the bucket).
    """
    bucket, prefix = s3_prefix_of(cache_uri)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    _grant_prefix(
        role, "UseRunCache", ["s3:GetObject", "s3:PutObject"], bucket, prefix, wildcards,
        "HealthOmics reads and writes the run cache's entries under its S3 location, in keys named at run time",
    )  # fmt: skip


def _grant_prefix(
    role: iam.Role, sid: str, actions: list[str], bucket: str, prefix: str, wildcards: dict[str, str], reason: str
) -> None:
    """``actions`` on the objects under ``s3://bucket/prefix``, and listing limited to those keys."""
    partition = Stack.of(role).partition
    role.add_to_policy(
        iam.PolicyStatement(sid=sid, actions=actions, resources=[f"arn:{partition}:s3:::{bucket}/{prefix}*"])
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[f"arn:{partition}:s3:::{bucket}"],
            conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
        )
    )
    wildcards[f"arn:<AWS::Partition>:s3:::{bucket}/{prefix}*"] = reason


def _grant_omics_reads(role: ManagedPolicyRole, inputs: DeclaredInputs) -> None:
    partition = Stack.of(role).partition
    read_sets = [
        f"arn:{partition}:omics:{region}:{account}:sequenceStore/{store}/readSet/{item}"
        for account, region, store, item in sorted(inputs.read_sets)
    ]
    references = [
        f"arn:{partition}:omics:{region}:{account}:referenceStore/{store}/reference/{item}"
        for account, region, store, item in sorted(inputs.references)
    ]
    for arn in read_sets + references:
        if arn.endswith("/*"):
            _, _, _, region, account, resource = arn.split(":", 5)
            acknowledge_wildcard(
                role.policy,
                f"arn:<AWS::Partition>:omics:{region}:{account}:{resource}",
                "the parameters of a batch's runs name more read sets or references of this store than a "
                "role's policy can list one by one",
            )
    if read_sets:
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadDeclaredReadSets",
                actions=["omics:GetReadSet", "omics:GetReadSetMetadata"],
                resources=read_sets,
            )
        )
    if references:
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadDeclaredReferences",
                actions=["omics:GetReference", "omics:GetReferenceMetadata"],
                resources=references,
            )
        )


def _grant_workflow_logs(role: iam.Role, wildcards: dict[str, str]) -> None:
    stack = Stack.of(role)
    group = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{WORKFLOW_LOG_GROUP}"
    role.add_to_policy(
        iam.PolicyStatement(
            sid="WriteWorkflowLogs",
            actions=["logs:CreateLogGroup", "logs:DescribeLogStreams", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[f"{group}:*", f"{group}:log-stream:*"],
        )
    )
    nag_group = f"arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{WORKFLOW_LOG_GROUP}"
    wildcards[f"{nag_group}:*"] = "HealthOmics writes run logs to its fixed log group /aws/omics/WorkflowLog"
    wildcards[f"{nag_group}:log-stream:*"] = "HealthOmics names one log stream per run and task at run time"


def is_literal_s3_uri(value: Any) -> bool:
    return isinstance(value, str) and not is_token(value) and S3_URI.fullmatch(value) is not None


__all__ = [
    "DeclaredInputs",
    "collapsed_inputs",
    "collapsed_outputs",
    "declared_inputs",
    "generated_run_role",
    "grant_prefix_read",
    "is_literal_s3_uri",
    "s3_prefix_of",
]
