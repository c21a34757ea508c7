"""The one Lambda per stack that serves every Custom::OmicsRun in it."""
from __future__ import annotations


import jsii
from aws_cdk import (
    AssetHashType,
    Aws,
    BundlingOptions,
    Duration,
    IStableListProducer,
    Lazy,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as lambda_event_sources
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_omics_run.acknowledgements import acknowledge_wildcard
from cdk_omics_run.bundling import SERVICE_MODELS_DATA_PATH, ProviderAssetBundler
from cdk_omics_run.handler_source import HANDLER_ENTRY_POINT, handler_source_dir

PROVIDER_ID = "OmicsRunProvider"

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
WAIT_BATCH_SIZE = 10
WAIT_MAX_CONCURRENCY = 2
# The handler's wait_transport.QUEUE_URL_ENV.
QUEUE_URL_ENV = "OMICS_RUN_WAIT_QUEUE_URL"

LOG_RETENTION = logs.RetentionDays.ONE_YEAR

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


class OmicsRunProvider(Construct):
    """The provider function, its role and its log group. One per stack.

    Use :meth:`of` rather than the constructor, so that every run in a stack
    shares the same function and the template grows by one small resource per
    run.

    Example::

        provider = OmicsRunProvider.of(stack)
        provider.service_token  # the ServiceToken of every OmicsRun in the stack
    """

    @classmethod
    def of(cls, scope: Construct) -> OmicsRunProvider:
        """The stack's provider, created on first use."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if isinstance(existing, OmicsRunProvider):
            return existing
        return cls(stack, PROVIDER_ID)

    def __init__(self, scope: Construct, id_: str, *, serves_other_stacks: bool = False) -> None:
        """``serves_other_stacks``: the provider of templates written without CDK, whose runs name
        their own stacks; IAM then requires the stack tag's presence rather than this stack's ID."""
        super().__init__(scope, id_)
        self._run_role_arns: list[str] = []
        self.wait_queue: sqs.Queue | None = None
        """The queue of the waits' delayed wake-ups; created when the first run waits."""

        stack = Stack.of(self)
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Custom::OmicsRun provider: starts, tags and cleans up HealthOmics runs",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description="Custom::OmicsRun provider (cdk-omics-run)",
            runtime=PROVIDER_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER_ENTRY_POINT,
            code=provider_code(),
            timeout=PROVIDER_TIMEOUT,
            memory_size=256,
            role=self.role,
            log_group=self.log_group,
            environment={"AWS_DATA_PATH": SERVICE_MODELS_DATA_PATH},
        )

        # Read once: each Stack attribute is a call into the jsii kernel.
        self._omics_arn_prefix = f"arn:{stack.partition}:omics:{stack.region}"
        self._account = stack.account
        self._run_arn = f"{self._omics_arn_prefix}:{self._account}:run/*"
        self._start_run_arns: list[str] = [self._run_arn]
        if serves_other_stacks:
            requested_stack = {"Null": {f"aws:RequestTag/{STACK_TAG}": "false"}}
            run_of_stack = {"Null": {f"aws:ResourceTag/{STACK_TAG}": "false"}}
        else:
            requested_stack = {"StringEquals": {f"aws:RequestTag/{STACK_TAG}": Aws.STACK_ID}}
            run_of_stack = {"StringEquals": {f"aws:ResourceTag/{STACK_TAG}": Aws.STACK_ID}}
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}:*"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="StartRuns",
                actions=["omics:StartRun"],
                # run/* for the new run and re-runs by run ID; then each workflow, workflow
                # version, run group, run cache and configuration the runs name.
                resources=Lazy.list(_Arns(self._start_run_arns)),
                conditions=requested_stack,
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ManageRuns",
                actions=list(RUN_ACTIONS),
                resources=[self._run_arn],
                conditions=run_of_stack,
            )
        )
        policy = self.role.node.find_child("DefaultPolicy")
        acknowledge_wildcard(
            policy,
            f"<{stack.get_logical_id(self.log_group.node.default_child)}.Arn>:*",
            "log streams of the provider's own log group, which Lambda names at run time",
        )
        acknowledge_wildcard(
            policy,
            "arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:run/*",
            "run IDs are assigned by HealthOmics at deploy time; IAM allows only runs tagged "
            f"{STACK_TAG} with this stack, and the handler acts only on runs whose cdk-omics-run:owner tag "
            "names the resource",
        )

    @property
    def service_token(self) -> str:
        """The ARN every Custom::OmicsRun in the stack uses as its ServiceToken."""
        return self.function.function_arn

    def enable_waiting(self) -> sqs.Queue:
        """Creates, once, what waits need: a queue of delayed wake-ups that invoke the function.

        Each wake makes one GetRun per waiting run, then signals the run's
        WaitCondition handle or sends the next delayed message: no invocation
        is held between wakes. The queue is encrypted (SSE-SQS), refuses
        non-TLS access, and passes a message that keeps failing to a
        dead-letter queue, where it stays 14 days for an operator to inspect.
        """
        if self.wait_queue is None:
            dead_letters = sqs.Queue(
                self,
                "WaitDeadLetters",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            self.wait_queue = sqs.Queue(
                self,
                "Waits",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                visibility_timeout=WAIT_QUEUE_VISIBILITY,
                dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=WAIT_MAX_RECEIVES),
            )
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="ScheduleWakeUps", actions=["sqs:SendMessage"], resources=[self.wait_queue.queue_arn]
                )
            )
            self.function.add_environment(QUEUE_URL_ENV, self.wait_queue.queue_url)
            self.function.add_event_source(
                lambda_event_sources.SqsEventSource(
                    self.wait_queue,
                    batch_size=WAIT_BATCH_SIZE,
                    max_concurrency=WAIT_MAX_CONCURRENCY,
                    report_batch_item_failures=True,
                )
            )
        return self.wait_queue

    def allow_pass_role(self, role_arn: str) -> None:
        """Lets the provider pass ``role_arn`` to HealthOmics; one statement covers every run."""
        if not self._run_role_arns:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="PassRunRoles",
                    actions=["iam:PassRole"],
                    resources=Lazy.list(_Arns(self._run_role_arns)),
                    conditions={"StringEquals": {"iam:PassedToService": "omics.amazonaws.com"}},
                )
            )
        _add_once(self._run_role_arns, role_arn)

    def allow_start_run(self, *resource_arns: str) -> None:
        """Lets the provider start runs that name these resources (a workflow, its version, a run
        group, a run cache, a configuration); one statement covers every run in the stack."""
        for arn in resource_arns:
            _add_once(self._start_run_arns, arn)

    def omics_arn(self, resource: str, account: str | None = None) -> str:
        """The ARN of a HealthOmics resource (``workflow/123``) in this stack's region and account."""
        return f"{self._omics_arn_prefix}:{self._account if account is None else account}:{resource}"


def provider_code() -> lambda_.Code:
    """The provider's asset: bundled locally, hashed by what is shipped."""
    source = handler_source_dir()
    return lambda_.Code.from_asset(
        str(source),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds or raises.
            image=PROVIDER_RUNTIME.bundling_image,
            local=ProviderAssetBundler(source),
        ),
    )


def _add_once(arns: list[str], arn: str) -> None:
    if arn not in arns:
        arns.append(arn)


@jsii.implements(IStableListProducer)
class _Arns:
    """Renders a list of ARNs at synth time, after every run in the stack has registered."""

    def __init__(self, arns: list[str]) -> None:
        self._arns = arns

    def produce(self) -> list[str]:
        return list(self._arns)
