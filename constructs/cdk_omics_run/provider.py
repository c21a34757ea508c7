"""The one Lambda per stack that serves every Custom::OmicsRun in it."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, cast

from aws_cdk import (
    Annotations,
    Aspects,
    AssetHashType,
    Aws,
    BundlingOptions,
    CfnResource,
    Duration,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_omics_run.acknowledgements import acknowledge_wildcard
from cdk_omics_run.adoption import adoption_statements
from cdk_omics_run.arguments import ArgumentError
from cdk_omics_run.bundling import SERVICE_MODELS_DATA_PATH, ProviderAssetBundler
from cdk_omics_run.documentation import show_init_signature
from cdk_omics_run.handler_source import HANDLER_ENTRY_POINT, handler_source_dir
from cdk_omics_run.managed_role import ManagedPolicyRole
from cdk_omics_run.policy_overflow import GrowingGrant, PolicyOverflow
from cdk_omics_run.run_event_pattern import run_event_detail
from cdk_omics_run.version import VERSION
from cdk_omics_run.wake_events import deliver_run_status_changes
from cdk_omics_run.workflow_grants import add_workflow_statements

PROVIDER_ID = "OmicsRunProvider"

# OmicsRunProvider.of's answers, by the scope asked about; entries go with their constructs.
_PROVIDERS_BY_SCOPE: weakref.WeakKeyDictionary[Construct, OmicsRunProvider] = weakref.WeakKeyDictionary()

# The newest Python runtime aws-cdk-lib knows; a test fails when a newer one appears.
PROVIDER_RUNTIME = lambda_.Runtime.PYTHON_3_14

# Enough for the slowest request: a Delete that waits up to a minute for a
# cancelled run to stop, or SDK back-off under throttling. Waits hold no
# invocation (see enable_waiting); crhelper answers FAILED itself shortly
# before this deadline, so nothing hangs.
PROVIDER_TIMEOUT = Duration.minutes(5)
# Lambda's SQS guide: a source queue's visibility timeout of at least six times the function's timeout.
WAIT_QUEUE_VISIBILITY = Duration.minutes(30)
# A wake-up that fails this often goes to the dead-letter queue.
WAIT_MAX_RECEIVES = 5
# Wake-ups are tiny: ten per invocation, and at most two invocations at once for the whole stack
# (the event source mapping's MaximumConcurrency minimum), whatever the number of waiting runs.
# A burst of 1,000 status-change events is 100 invocations, two at a time, each about ten GetRun
# (some 0.5 s): the account's GetRun quota, not the mapping, sets the pace; an event a throttle
# stops comes back 5 to 30 s later, up to 3 times, then is left to its wait's polling (status_events).
WAIT_BATCH_SIZE = 10
WAIT_MAX_CONCURRENCY = 2
# The handler's wait_transport.QUEUE_URL_ENV.
QUEUE_URL_ENV = "OMICS_RUN_WAIT_QUEUE_URL"
# The library version that synthesized the provider, in its environment and description: what an
# operator reads to know which release serves a stack (never in a run tag: those slots are full).
VERSION_ENV = "CDK_OMICS_RUN_VERSION"

LOG_RETENTION = logs.RetentionDays.ONE_YEAR

# No reserved concurrency by default: Lambda lets an account reserve only what leaves 100
# unreserved, so a default reservation would fail to deploy in accounts with a low quota
# (new accounts may have 10). Compliance packs ask for one: configure() takes it. Waits take at
# most WAIT_MAX_CONCURRENCY of it (the event source mapping's MaximumConcurrency); CloudFormation's
# requests, which Lambda queues and retries when throttled, the rest.
DEFAULT_RESERVED_CONCURRENCY: int | None = None
MIN_RESERVED_CONCURRENCY = WAIT_MAX_CONCURRENCY + 1
# How long a failed asynchronous invocation (a CloudFormation request) stays in the dead-letter queue.
DEAD_LETTER_RETENTION = Duration.days(14)
# What the handler reaches from inside a VPC, beside the S3 gateway endpoint (presigned response and
# WaitCondition URLs): HealthOmics under its two host prefixes (botocore's model: StartRun, GetRun,
# CancelRun, DeleteRun on workflows-, TagResource and UntagResource on tags-), and SQS when runs wait.
# By name, read from aws-cdk-lib only when a provider is placed in a VPC: the first read of
# InterfaceVpcEndpointAwsService makes jsii's node process build all of its static members, about
# 16 ms that every synth paid at import.
OMICS_ENDPOINT_SERVICES = {
    "OmicsWorkflowsEndpoint": "OMICS_WORKFLOWS",
    "OmicsTagsEndpoint": "OMICS_TAGS",
}
HTTPS_PORT = 443
# ec2.SubnetSelection's members, as IVpc.select_subnets takes them.
_SUBNET_SELECTION_FIELDS = (
    "availability_zones",
    "one_per_az",
    "subnet_filters",
    "subnet_group_name",
    "subnets",
    "subnet_type",
)

# The tag the handler puts on every run it starts, naming the run's stack (the
# handler's ``bookkeeping.STACK_TAG``). The Service Authorization Reference
# for AWS HealthOmics lists aws:RequestTag/${TagKey} and aws:TagKeys on
# StartRun, and aws:ResourceTag/${TagKey} on the run resource of GetRun,
# CancelRun, DeleteRun, TagResource and UntagResource: IAM itself confines the
# provider to its own stack's runs.
STACK_TAG = "cdk-omics-run:stack"
# The run actions the handler uses after StartRun. ListTagsForResource is not
# among them: it supports only Resource "*", and GetRun returns the tags.
RUN_ACTIONS = ("omics:GetRun", "omics:CancelRun", "omics:DeleteRun", "omics:TagResource", "omics:UntagResource")
# The batch actions the handler uses after StartRunBatch, all on runBatch/* (DeleteRunBatch also on run/*).
BATCH_ACTIONS = (
    "omics:GetBatch",
    "omics:ListRunsInBatch",
    "omics:CancelRunBatch",
    "omics:DeleteRunBatch",
    "omics:DeleteBatch",
    "omics:TagResource",
    "omics:UntagResource",
)


@dataclass(frozen=True)
class ProviderOptions:
    """How a stack's provider is set up: see :meth:`OmicsRunProvider.configure`."""

    encryption_key: kms.IKey | None = None
    vpc: ec2.IVpc | None = None
    vpc_subnets: ec2.SubnetSelection | None = None
    security_groups: tuple[ec2.ISecurityGroup, ...] | None = None
    reserved_concurrent_executions: int | None = DEFAULT_RESERVED_CONCURRENCY
    dead_letter_queue: bool = True
    create_vpc_endpoints: bool = False

    def check(self, path: str) -> None:
        """Raises ArgumentError, naming the construct path, for settings the provider cannot have."""
        concurrency = self.reserved_concurrent_executions
        if concurrency is not None and (
            not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < MIN_RESERVED_CONCURRENCY
        ):
            raise ArgumentError(
                f"{path}: argument reserved_concurrent_executions: got {concurrency!r}; allowed: None (no "
                f"reservation) or an integer of at least {MIN_RESERVED_CONCURRENCY} ({WAIT_MAX_CONCURRENCY} for "
                "the waits' wake-ups and one for CloudFormation's requests)"
            )
        if self.security_groups is not None and not self.security_groups:
            raise ArgumentError(f"{path}: argument security_groups: got none; allowed: one or more, or None")
        if self.vpc is None:
            for name in ("vpc_subnets", "security_groups", "create_vpc_endpoints"):
                if getattr(self, name):
                    raise ArgumentError(f"{path}: argument {name}: given without vpc; allowed only with vpc")

    def differences(self, other: ProviderOptions) -> tuple[str, str]:
        """The settings in which ``self`` and ``other`` differ, each side as ``name=value, ...``."""
        names = [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]

        def shown(options: ProviderOptions) -> str:
            return ", ".join(f"{name}={_shown(getattr(options, name))}" for name in names)

        return shown(self), shown(other)


class OmicsRunProvider(Construct):
    """The provider function, its role and its log group. One per stack.

    Use :meth:`of` rather than the constructor, so that every run in a stack
    shares the same function and the template grows by one small resource per
    run. To encrypt it with your KMS key, place it in a VPC, or change its
    concurrency or dead-letter queue, call :meth:`configure` once, before the
    stack's first run.

    Example::

        provider = OmicsRunProvider.of(stack)
        provider.service_token  # the ServiceToken of every OmicsRun in the stack
    """

    @classmethod
    def of(cls, scope: Construct) -> OmicsRunProvider:
        """The stack's provider, created on first use (with the settings of :meth:`configure`'s defaults)."""
        # Every run asks for its stack's provider: the answer is kept per scope, because finding it
        # costs three calls into jsii's node process (Stack.of, node, tryFindChild), a tenth of a
        # run's synth. A construct never changes stacks, and the provider is never removed.
        known = _PROVIDERS_BY_SCOPE.get(scope)
        if known is not None:
            return known
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        provider = existing if isinstance(existing, OmicsRunProvider) else cls(stack, PROVIDER_ID)
        _PROVIDERS_BY_SCOPE[scope] = provider
        return provider

    @classmethod
    def configure(
        cls,
        scope: Construct,
        *,
        encryption_key: kms.IKey | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        reserved_concurrent_executions: int | None = DEFAULT_RESERVED_CONCURRENCY,
        dead_letter_queue: bool = True,
        create_vpc_endpoints: bool = False,
    ) -> OmicsRunProvider:
        """Creates the stack's provider with these settings; call it before the stack's first OmicsRun.

        ``encryption_key`` encrypts the provider's log group, its function's
        environment variables and its queues (the wait queue, its dead-letter
        queue and the dead-letter queue of failed requests) with your KMS key,
        and lets CloudWatch Logs use the key for the account's log groups in
        the region. ``vpc``, ``vpc_subnets`` (CDK's default selection otherwise)
        and ``security_groups`` (one allowing HTTPS out otherwise) place the
        function in your VPC; ``create_vpc_endpoints`` adds the endpoints it
        needs there without NAT (docs/security.md: Compliance).
        ``reserved_concurrent_executions``: none by default; when given, at
        least 3 (waits' wake-ups take at most 2). ``dead_letter_queue``: keep
        CloudFormation requests that failed every attempt for 14 days.

        Calling it again with the same settings returns the same provider;
        other settings, or a provider already created with others (by the
        stack's first run), are an ArgumentError naming both.

        Example::

            OmicsRunProvider.configure(stack, encryption_key=key, vpc=vpc, create_vpc_endpoints=True)
            OmicsRun(stack, "Run", ...)  # served by that provider
        """
        requested = ProviderOptions(
            encryption_key=encryption_key,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=None if security_groups is None else tuple(security_groups),
            reserved_concurrent_executions=reserved_concurrent_executions,
            dead_letter_queue=dead_letter_queue,
            create_vpc_endpoints=create_vpc_endpoints,
        )
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if not isinstance(existing, OmicsRunProvider):
            return cls(stack, PROVIDER_ID, **{f.name: getattr(requested, f.name) for f in fields(requested)})
        if existing.options != requested:
            has, asked = existing.options.differences(requested)
            raise ArgumentError(
                f"{existing.node.path}: OmicsRunProvider.configure: the stack's provider already exists with "
                f"{has}; asked for {asked}. Configure it once, before the stack's first OmicsRun"
            )
        return existing

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        serves_other_stacks: bool = False,
        encryption_key: kms.IKey | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        reserved_concurrent_executions: int | None = DEFAULT_RESERVED_CONCURRENCY,
        dead_letter_queue: bool = True,
        create_vpc_endpoints: bool = False,
    ) -> None:
        """``serves_other_stacks``: the provider of templates written without CDK, whose runs name
        their own stacks; IAM then requires the stack tag's presence rather than this stack's ID.
        The other arguments are those of :meth:`configure`."""
        super().__init__(scope, id)
        self.options = ProviderOptions(
            encryption_key=encryption_key,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=None if security_groups is None else tuple(security_groups),
            reserved_concurrent_executions=reserved_concurrent_executions,
            dead_letter_queue=dead_letter_queue,
            create_vpc_endpoints=create_vpc_endpoints,
        )
        """The settings this provider was created with."""
        self.options.check(self.node.path)
        self._pass_run_roles: GrowingGrant | None = None
        self._service_token: str | None = None
        self.wait_queue: sqs.Queue | None = None
        """The queue of the waits' delayed wake-ups; created when the first run waits."""
        self.run_status_changes: events.Rule | None = None
        # What the waits of this provider wait for, their workflows and output locations (None: some not known).
        self._event_wait_targets: set[str] = set()
        self._event_workflow_ids: list[str] | None = []
        self._event_output_uris: list[str] | None = []
        """The rule that delivers runs' status-change events to ``wait_queue``; created when the first run waits."""
        self.vpc_endpoints: list[ec2.IVpcEndpoint] = []
        """The VPC endpoints created with ``create_vpc_endpoints``; the function depends on each."""

        stack = Stack.of(self)
        # Read once: each Stack attribute is a call into the jsii kernel.
        self._partition, self._region, self._account = stack.partition, stack.region, stack.account
        self._omics_arn_prefix = f"arn:{self._partition}:omics:{self._region}"
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
            encryption_key=encryption_key,
        )
        self.role = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Custom::OmicsRun provider: starts, tags and cleans up HealthOmics runs",
            policy_description="Custom::OmicsRun provider: what its function may do (cdk-omics-run)",
        )
        self.policy: iam.ManagedPolicy = self.role.policy
        """The customer-managed policy holding every statement of :attr:`role` (``role.add_to_policy`` adds here)."""
        # The statements whose resources grow with the runs go through it: past IAM's size quota of
        # the policy, it moves their ARNs into further policies of the role.
        self.policy_overflow = PolicyOverflow(self.policy, self.role)
        """Moves run ARNs past the policy's size quota into further policies (its ``overflow_policies``)."""
        Aspects.of(self.policy).add(self.policy_overflow)
        if encryption_key is not None:
            self._use_key(encryption_key)
        self.dead_letter_queue: sqs.Queue | None = (
            self._queue("DeadLetterQueue", retention_period=DEAD_LETTER_RETENTION) if dead_letter_queue else None
        )
        """Where Lambda puts a CloudFormation request that failed every attempt (None when disabled)."""
        self.security_groups: list[ec2.ISecurityGroup] = []
        """The function's security groups, when it runs in a VPC."""
        if vpc is not None:
            self.security_groups = list(security_groups or [self._default_security_group(vpc)])
            self._allow_network_interfaces(vpc, vpc_subnets)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"Custom::OmicsRun provider (cdk-omics-run {VERSION})",
            runtime=PROVIDER_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER_ENTRY_POINT,
            code=provider_code(),
            timeout=PROVIDER_TIMEOUT,
            memory_size=256,
            role=self.role,
            log_group=self.log_group,
            environment={"AWS_DATA_PATH": SERVICE_MODELS_DATA_PATH, VERSION_ENV: VERSION},
            environment_encryption=encryption_key,
            reserved_concurrent_executions=reserved_concurrent_executions,
            dead_letter_queue=self.dead_letter_queue,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=self.security_groups or None,
        )
        if vpc is not None and create_vpc_endpoints:
            self._create_vpc_endpoints()

        self._run_arn = f"{self._omics_arn_prefix}:{self._account}:run/*"
        self.serves_other_stacks = serves_other_stacks
        if serves_other_stacks:
            requested_stack = {"Null": {f"aws:RequestTag/{STACK_TAG}": "false"}}
            run_of_stack = {"Null": {f"aws:ResourceTag/{STACK_TAG}": "false"}}
        else:
            requested_stack = {"StringEquals": {f"aws:RequestTag/{STACK_TAG}": Aws.STACK_ID}}
            run_of_stack = {"StringEquals": {f"aws:ResourceTag/{STACK_TAG}": Aws.STACK_ID}}
        self._requested_stack, self._of_stack = requested_stack, run_of_stack
        # run/* for the new run and re-runs by run ID; then each workflow, workflow version, run
        # group, run cache and configuration the runs name.
        start_runs = GrowingGrant("StartRuns", ["omics:StartRun"], requested_stack, [self._run_arn], kept=1)
        self._start_batches: GrowingGrant | None = None
        self._lists_runs = False
        self._manages_workflows = False
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}:*"],
            )
        )
        self._start_runs = self.policy_overflow.add(start_runs)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageRuns",
                actions=list(RUN_ACTIONS),
                resources=[self._run_arn],
                conditions=run_of_stack,
            )
        )
        for statement in adoption_statements(self._run_arn, requested_stack):  # runs of earlier releases
            self.role.add_to_policy(statement)
        log_group_resource = cast(CfnResource, self.log_group.node.default_child)
        acknowledge_wildcard(
            self.policy,
            f"<{stack.get_logical_id(log_group_resource)}.Arn>:*",
            "log streams of the provider's own log group, which Lambda names at run time",
        )
        acknowledge_wildcard(
            self.policy,
            "arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:run/*",
            "run IDs are assigned by HealthOmics at deploy time; IAM allows only runs tagged "
            f"{STACK_TAG} with this stack, and the handler acts only on runs whose cdk-omics-run:owner tag "
            "names the resource",
        )

    @property
    def service_token(self) -> str:
        """The ARN every Custom::OmicsRun in the stack uses as its ServiceToken."""
        # The same token every time: read from jsii once, not once per run.
        if self._service_token is None:
            self._service_token = self.function.function_arn
        return self._service_token

    def enable_waiting(self) -> sqs.Queue:
        """Creates, once, what waits need: a queue of delayed wake-ups that invoke the function.

        Each wake makes one GetRun per waiting run, then signals the run's
        WaitCondition handle or sends the next delayed message: no invocation
        is held between wakes. The queue is encrypted (with the provider's
        ``encryption_key``, SSE-SQS without one), refuses non-TLS access, and
        passes a message that keeps failing to a dead-letter queue, where it
        stays 14 days for an operator to inspect. A wake that finds its run
        deleted reads its stack's record of the run's resource
        (DescribeStackResource: on this stack only, unless the provider
        serves other stacks) to tell the stack's own Delete from a deletion
        outside it.
        """
        if self.wait_queue is None:
            dead_letters = self._queue("WaitDeadLetters", retention_period=DEAD_LETTER_RETENTION)
            self.wait_queue = self._queue(
                "Waits",
                visibility_timeout=WAIT_QUEUE_VISIBILITY,
                dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=WAIT_MAX_RECEIVES),
            )
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="ScheduleWakeUps", actions=["sqs:SendMessage"], resources=[self.wait_queue.queue_arn]
                )
            )
            self._allow_describe_stack_resource()
            if self.options.vpc is not None and self.options.create_vpc_endpoints:
                self._add_interface_endpoint("SqsEndpoint", ec2.InterfaceVpcEndpointAwsService.SQS)
                self._add_interface_endpoint(
                    "CloudFormationEndpoint", ec2.InterfaceVpcEndpointAwsService.CLOUDFORMATION
                )
            self.function.add_environment(QUEUE_URL_ENV, self.wait_queue.queue_url)
            # Imported here, by the first run that waits: with the SNS modules it pulls in, it would
            # cost every synth about 20 ms of Python import, for a feature most stacks do not use.
            from aws_cdk import aws_lambda_event_sources as lambda_event_sources

            self.function.add_event_source(
                lambda_event_sources.SqsEventSource(
                    self.wait_queue,
                    batch_size=WAIT_BATCH_SIZE,
                    max_concurrency=WAIT_MAX_CONCURRENCY,
                    report_batch_item_failures=True,
                )
            )
        return self.wait_queue

    def enable_run_status_events(
        self, wait_for: str = "RUNNING", workflow_id: str | None = None, output_uri: str | None = None
    ) -> None:
        """Delivers runs' status-change events to the wake queue, so that a run's wait ends within seconds.

        One EventBridge rule for the runs of this account and region (see
        ``wake_events``); the handler acts only on the runs of this provider's
        stacks (GetRun is confined to them) and finds the WaitCondition
        handle's URL through DescribeStackResource, already granted for waits.
        Polling stays on as the safety net: EventBridge delivers at best effort.

        Each waiting run calls it with what it waits for, its workflow and its
        output location (None when not known): the rule then matches only the
        statuses, workflows and output locations the provider's waits can end
        on (``run_event_pattern``).
        The defaults match every run, for a provider serving other templates.
        """
        self._event_wait_targets.add(wait_for)
        if workflow_id is None:
            self._event_workflow_ids = None
        elif self._event_workflow_ids is not None:
            self._event_workflow_ids.append(workflow_id)
        if output_uri is None:
            self._event_output_uris = None
        elif self._event_output_uris is not None:
            self._event_output_uris.append(output_uri)
        if self.run_status_changes is None:
            queue = self.enable_waiting()
            self.run_status_changes = deliver_run_status_changes(
                self,
                queue,
                self.options.encryption_key,
                detail=lambda: run_event_detail(
                    self._event_wait_targets, self._event_workflow_ids, self._event_output_uris
                ),
            )

    def _allow_describe_stack_resource(self) -> None:
        stack = Stack.of(self)
        if not self.serves_other_stacks:
            resource = stack.stack_id
        else:
            resource = f"arn:{stack.partition}:cloudformation:{stack.region}:{stack.account}:stack/*"
        statement = iam.PolicyStatement(
            sid="ReadWaitingStacks", actions=["cloudformation:DescribeStackResource"], resources=[resource]
        )
        self.role.add_to_policy(statement)
        if self.serves_other_stacks:
            acknowledge_wildcard(
                self.policy,
                "arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/*",
                "the provider serves templates written without CDK: a wait reads the record of its run's "
                "resource in whichever stack it belongs to, known only when that stack deploys",
            )

    def allow_pass_role(self, role_arn: str) -> None:
        """Lets the provider pass ``role_arn`` to HealthOmics; one statement covers every run."""
        if self._pass_run_roles is None:
            passed_to_omics = {"StringEquals": {"iam:PassedToService": "omics.amazonaws.com"}}
            self._pass_run_roles = self.policy_overflow.add(
                GrowingGrant("PassRunRoles", ["iam:PassRole"], passed_to_omics)
            )
        self._pass_run_roles.add(role_arn)

    def allow_start_run_batch(self, *resource_arns: str) -> None:
        """Lets the provider start batches that name these resources, and manage the batches it started.

        The Service Authorization Reference for AWS HealthOmics: StartRunBatch
        takes the resource types run*, runBatch*, runCache, runGroup and
        workflow, and its API operation also authorizes omics:StartRun (the
        batch's runs: granted by :meth:`allow_start_run`) and omics:TagResource.
        GetBatch, ListRunsInBatch, CancelRunBatch and DeleteBatch take runBatch*;
        DeleteRunBatch takes run* and runBatch*; each with aws:ResourceTag.
        """
        if self._start_batches is None:
            batch_arn = self.omics_arn("runBatch/*")
            self._start_batches = self.policy_overflow.add(
                GrowingGrant(
                    "StartBatches", ["omics:StartRunBatch"], self._requested_stack, [batch_arn, self._run_arn], kept=2
                )
            )
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="TagNewBatches",
                    actions=["omics:TagResource"],
                    resources=[batch_arn],
                    conditions=self._requested_stack,
                )
            )
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="ManageBatches", actions=list(BATCH_ACTIONS), resources=[batch_arn], conditions=self._of_stack
                )
            )
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="DeleteBatchRuns",
                    actions=["omics:DeleteRunBatch"],
                    resources=[self._run_arn],
                    conditions=self._of_stack,
                )
            )
            acknowledge_wildcard(
                self.policy,
                "arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:runBatch/*",
                "batch IDs are assigned by HealthOmics at deploy time; IAM allows only batches tagged "
                f"{STACK_TAG} with this stack, and the handler acts only on batches whose cdk-omics-run:owner tag "
                "names the resource",
            )
        for arn in resource_arns:
            self._start_batches.add(arn)

    def allow_list_runs(self) -> None:
        """Lets the provider list runs (ListRuns), to name the first failed runs of a waiting batch."""
        if not self._lists_runs:
            self._lists_runs = True
            self.role.add_to_policy(iam.PolicyStatement(sid="ListRuns", actions=["omics:ListRuns"], resources=["*"]))
            acknowledge_wildcard(
                self.policy,
                "*",
                "omics:ListRuns supports no resource-level permissions (Service Authorization Reference); a "
                "batch's wait lists its FAILED runs to name them in the Reason",
            )

    @property
    def requested_stack_condition(self) -> dict[str, Any]:
        """The condition on a request's tags that confines what the provider creates or starts to its stack."""
        return dict(self._requested_stack)

    def allow_manage_workflows(self, *definition_object_arns: str) -> None:
        """Lets the provider create workflows tagged with its stack and manage their versions
        (``workflow_grants``), and read each workflow definition zip it hands to HealthOmics."""
        if not self._manages_workflows:
            self._manages_workflows = True
            add_workflow_statements(self.role, self.policy, self.omics_arn, self._requested_stack, self._of_stack)
        for arn in definition_object_arns:
            self.role.add_to_principal_policy(
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[arn]),
            )

    def allow_start_run(self, *resource_arns: str) -> None:
        """Lets the provider start runs that name these resources (a workflow, its version, a run
        group, a run cache, a configuration); one statement covers every run in the stack."""
        for arn in resource_arns:
            self._start_runs.add(arn)

    def omics_arn(self, resource: str, account: str | None = None) -> str:
        """The ARN of a HealthOmics resource (``workflow/123``) in this stack's region and account."""
        return f"{self._omics_arn_prefix}:{self._account if account is None else account}:{resource}"

    def _queue(self, id: str, **props: Any) -> sqs.Queue:
        """One of the provider's queues: TLS only, encrypted with ``encryption_key`` (SSE-SQS without one)."""
        key = self.options.encryption_key
        if key is None:
            return sqs.Queue(self, id, enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED, **props)
        return sqs.Queue(
            self, id, enforce_ssl=True, encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, **props
        )

    def _use_key(self, key: kms.IKey) -> None:
        """Lets CloudWatch Logs encrypt the log group with ``key``, and the function use its encrypted queues."""
        # The key policy CloudWatch Logs needs (its guide, "Encrypt log data in CloudWatch Logs using AWS
        # KMS"), for the log groups of this account and region: the log group's own ARN cannot be named,
        # as its name is chosen by CloudFormation once the key exists.
        added = key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{self._region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{self._partition}:logs:{self._region}:"
                        f"{self._account}:log-group:*"
                    }
                },
            )
        )
        if not added.statement_added:
            Annotations.of(self).add_warning_v2(
                "cdk-omics-run:importedEncryptionKey",
                "encryption_key is imported, so its key policy is not changed here: it must let "
                "logs.<region>.amazonaws.com use the key for the provider's log group (docs/security.md: Compliance)",
            )
        # Sending to a KMS-encrypted queue (wake-ups; Lambda's dead-letter queue, under this role) takes
        # GenerateDataKey and Decrypt; receiving (the event source mapping) and reading the encrypted
        # environment variables, Decrypt.
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="UseEncryptionKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
            )
        )

    def _default_security_group(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        """The function's security group when none is given: no inbound, HTTPS out only."""
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Custom::OmicsRun provider: no inbound; HTTPS out to AWS APIs and presigned S3 URLs",
        )
        group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS_PORT), "HTTPS to HealthOmics, SQS and S3 (endpoints or NAT)"
        )
        return group

    def _allow_network_interfaces(self, vpc: ec2.IVpc, vpc_subnets: ec2.SubnetSelection | None) -> None:
        """What Lambda needs of the role to attach the function to the VPC (its guide, "Giving Lambda
        functions access to resources in an Amazon VPC"), in a policy of its own: the role's other
        statements keep no Resource "*"."""
        ec2_arn = f"arn:{self._partition}:ec2:{self._region}:{self._account}"
        interfaces = f"{ec2_arn}:network-interface/*"
        selected = vpc.select_subnets(
            **{name: getattr(vpc_subnets, name) for name in _SUBNET_SELECTION_FIELDS if vpc_subnets is not None}
        )
        subnets = [f"{ec2_arn}:subnet/{subnet_id}" for subnet_id in selected.subnet_ids]
        groups = [f"{ec2_arn}:security-group/{group.security_group_id}" for group in self.security_groups]
        network_policy = iam.ManagedPolicy(
            self.role,
            "NetworkPolicy",
            roles=[self.role],
            description="Custom::OmicsRun provider: the network interfaces Lambda manages in the VPC",
            statements=[
                iam.PolicyStatement(
                    sid="CreateNetworkInterfaces",
                    actions=["ec2:CreateNetworkInterface"],
                    resources=[interfaces, *subnets, *groups],
                ),
                iam.PolicyStatement(
                    sid="ManageNetworkInterfaces",
                    actions=[
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=[interfaces],
                ),
                iam.PolicyStatement(
                    sid="DescribeNetworkInterfaces",
                    actions=["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
                    resources=["*"],
                ),
            ],
        )
        acknowledge_wildcard(
            network_policy,
            "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*",
            "Lambda creates and deletes the function's network interfaces, whose IDs EC2 assigns at run time; "
            "creation is limited to the function's subnets and security groups",
        )
        acknowledge_wildcard(
            network_policy,
            "*",
            "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level permissions "
            "(Service Authorization Reference); Lambda needs them to attach the function to the VPC",
        )

    def _create_vpc_endpoints(self) -> None:
        """The S3 gateway endpoint and the HealthOmics interface endpoints (SQS's comes with waiting)."""
        vpc, subnets = cast(ec2.IVpc, self.options.vpc), self.options.vpc_subnets
        self._endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Custom::OmicsRun provider interface VPC endpoints: HTTPS from its function only",
        )
        for endpoint_id, service_name in OMICS_ENDPOINT_SERVICES.items():
            self._add_interface_endpoint(endpoint_id, getattr(ec2.InterfaceVpcEndpointAwsService, service_name))
        self._depend_on_endpoint(
            ec2.GatewayVpcEndpoint(
                self,
                "S3Endpoint",
                vpc=vpc,
                service=ec2.GatewayVpcEndpointAwsService.S3,
                subnets=None if subnets is None else [subnets],
            )
        )

    def _add_interface_endpoint(self, id: str, service: ec2.IInterfaceVpcEndpointService) -> None:
        endpoint = ec2.InterfaceVpcEndpoint(
            self,
            id,
            vpc=cast(ec2.IVpc, self.options.vpc),
            service=service,
            subnets=self.options.vpc_subnets,
            security_groups=[self._endpoint_security_group],
            open=False,
            private_dns_enabled=True,
        )
        endpoint.connections.allow_default_port_from(self.function, "HTTPS from the Custom::OmicsRun provider")
        self._depend_on_endpoint(endpoint)

    def _depend_on_endpoint(self, endpoint: ec2.IVpcEndpoint) -> None:
        # Runs depend on the function (their ServiceToken): none is requested before its endpoints exist.
        self.vpc_endpoints.append(endpoint)
        self.function.node.add_dependency(endpoint)


def provider_code() -> lambda_.Code:
    """The provider's asset: bundled locally, hashed by what is shipped.

    The hash is computed from the asset's files before bundling (the bundler
    reads them once and writes those very bytes), so CDK names the asset
    without bundling first, and skips bundling when the assembly folder
    already holds an asset of that hash, as ``cdk.out`` does from one
    ``cdk synth`` to the next.
    """
    source = handler_source_dir()
    bundler = ProviderAssetBundler(source)
    return lambda_.Code.from_asset(
        str(source),
        asset_hash=bundler.asset_hash,
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds or raises.
            image=PROVIDER_RUNTIME.bundling_image,
            local=bundler,
        ),
    )


def _shown(value: Any) -> str:
    """A setting as an error message names it: a construct by its path."""
    if isinstance(value, tuple):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    node = getattr(value, "node", None)
    return node.path if node is not None else repr(value)


# jsii's metaclass hides __init__'s arguments from help() and inspect.signature().
show_init_signature(OmicsRunProvider)
