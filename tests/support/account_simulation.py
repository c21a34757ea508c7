"""Many waiting runs in one account, on a simulated clock: the handler's real code, the stand-ins' quotas.

One ``AccountSimulation`` is an account with several stacks, each with its own
provider: its role (an access key the HealthOmics stand-in maps to the stack's
tag, as the provider's IAM policy does), its wake queue and its EventBridge
rule. Runs are created through the handler's Create (``WaitFor`` and a
WaitCondition handle), then move through their statuses on the clock. Each
status change is an EventBridge event: every provider whose rule matches gets
it in its queue ``event_delivery_seconds`` later, unless the simulation loses
it (EventBridge delivers at best effort). Each provider's event source mapping
receives up to ``batch_size`` visible messages and invokes the handler's
``wake_up`` with them, one invocation at a time; a record reported failed is
released after the queue's visibility timeout, and dead-lettered after
``max_receives``.

Every AWS call goes over HTTP to a stand-in: HealthOmics (quotas enforced on
the clock), CloudFormation's DescribeStackResource, SQS's SendMessage, and the
handles' PUTs; each attempt advances the clock by ``SimulatedClock.call_seconds``
and botocore's retry back-off advances it by the time it would sleep.

What is not simulated: the two invocations at once that the mapping allows
(invocations here run one after the other, which delays records, never
speeds them), EventBridge's and HealthOmics' own latency beyond
``event_delivery_seconds``, and StartRun's quota (runs are started as the seed
of the simulation, not as what it measures).
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
import pytest
from events import cfn_event, run_status_change

from support.cloudformation_stand_in import CloudFormationStandIn
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from support.simulated_queues import SignalRecorder, SimulatedQueues
from support.simulated_time import SimulatedClock, SimulatedLambdaContext

REGION = "us-east-1"
ACCOUNT = "123456789012"
# The wake queue's settings as the construct declares them (provider.py).
VISIBILITY_TIMEOUT_SECONDS = 1800.0
MAX_RECEIVES = 5
BATCH_SIZE = 10
# HealthOmics user guide, "HealthOmics API quotas": the workflow table's GetRun, CancelRun and
# DeleteRun (10 TPS each); TagResource and UntagResource are listed only in the storage table
# (5 TPS), which the simulation applies to runs too, the lower figure.
DOCUMENTED_TPS: Mapping[str, float] = {
    "GetRun": 10.0,
    "CancelRun": 10.0,
    "DeleteRun": 10.0,
    "TagResource": 5.0,
    "UntagResource": 5.0,
}
# What a run goes through, in order; each is a Run Status Change event.
STATUSES_TO_RUNNING = ("PENDING", "STARTING", "RUNNING")


@dataclass(frozen=True)
class PlannedRun:
    """One run of the simulation: its stack, what its wait waits for, and when (after Create) it changes."""

    stack: int
    name: str
    wait_for: str
    running_after: float
    ends_after: float
    ends: str = "COMPLETED"
    wait_timeout: int = 43_200
    # True: the event of the deciding change is lost, so the wait's polling must end it.
    lose_deciding_event: bool = False


@dataclass
class RunOutcome:
    plan: PlannedRun
    run_id: str
    created_at: float
    handle_path: str
    decided_at: float = 0.0
    signals: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    @property
    def expected_status(self) -> str:
        return "SUCCESS" if self.plan.ends == "COMPLETED" or self.plan.wait_for == "RUNNING" else "FAILURE"

    @property
    def latency(self) -> float:
        return self.signals[0][0] - self.decided_at

    @property
    def waited_hours(self) -> float:
        return (self.signals[0][0] - self.created_at) / 3600


@dataclass
class Provider:
    index: int
    stack_id: str
    access_key: str
    queue_url: str
    clients: dict[str, Any]
    event_detail: dict[str, list[str]]


class AccountSimulation:
    """The account: ``stacks`` stacks, each with a provider; see the module's docstring."""

    def __init__(
        self,
        handler: ModuleType,
        monkeypatch: pytest.MonkeyPatch,
        omics: OmicsStandIn,
        cloudformation: CloudFormationStandIn,
        clock: SimulatedClock,
        queues: SimulatedQueues,
        signals: SignalRecorder,
        responses: ResponseBucket,
        *,
        stacks: int,
        event_detail: Callable[[int], dict[str, list[str]]],
        workflow_id: Callable[[int], str],
        output_uri: Callable[[int], str],
        event_delivery_seconds: float = 1.0,
        quotas: Mapping[str, float] = DOCUMENTED_TPS,
    ) -> None:
        self.handler = handler
        self.monkeypatch = monkeypatch
        self.omics = omics
        self.cloudformation = cloudformation
        self.clock = clock
        self.queues = queues
        self.signals = signals
        self.responses = responses
        self.event_delivery_seconds = event_delivery_seconds
        self.workflow_id = workflow_id
        self.output_uri = output_uri
        self.providers = [self._provider(index, event_detail(index)) for index in range(stacks)]
        omics.enforce_stack_tag_by_caller({p.access_key: p.stack_id for p in self.providers})
        omics.enforce_quotas(clock.now, quotas)
        self.outcomes: dict[str, RunOutcome] = {}
        self.events_sent = 0
        self.events_lost = 0
        self._changes: list[tuple[float, int, str, str]] = []
        self._sequence = itertools.count()

    # ----------------------------------------------------------------- setting up

    def _provider(self, index: int, event_detail: dict[str, list[str]]) -> Provider:
        stack_id = (
            f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Cohort{index}/{index:08d}-0000-4000-8000-000000000000"
        )
        access_key = f"AKIASIMULATEDSTACK{index:02d}"
        session = boto3.session.Session(
            region_name=REGION, aws_access_key_id=access_key, aws_secret_access_key="simulated"
        )
        from omics_run import client

        clients = {
            "omics": client._with_deadline(session.client("omics", config=client.CLIENT_CONFIG)),
            "wake_omics": client._with_deadline(session.client("omics", config=client.WAKE_CLIENT_CONFIG)),
            "cloudformation": client._with_deadline(session.client("cloudformation", config=client.WAKE_CLIENT_CONFIG)),
            "sqs": client._with_deadline(session.client("sqs", config=client.CLIENT_CONFIG)),
        }
        for made in clients.values():
            made.meta.events.register("before-send", self.clock.count_call)
        queue_url = self.queues.create_queue(f"Cohort{index}-Waits")
        return Provider(index, stack_id, access_key, queue_url, clients, event_detail)

    def _acting_as(self, provider: Provider) -> None:
        """The handler's module-level clients and queue become this provider's (one Lambda function each)."""
        import omics_run.wait_transport

        patch = self.monkeypatch
        patch.setenv("OMICS_RUN_WAIT_QUEUE_URL", provider.queue_url)
        patch.setattr(self.handler, "omics_client", lambda: provider.clients["omics"])
        patch.setattr(self.handler, "wake_omics_client", lambda: provider.clients["wake_omics"])
        patch.setattr(self.handler, "wake_cloudformation_client", lambda: provider.clients["cloudformation"])
        patch.setattr(omics_run.wait_transport, "sqs_client", lambda: provider.clients["sqs"])

    def create(self, plan: PlannedRun) -> RunOutcome:
        """CloudFormation creates the run's handle, then the run (the handler's Create), now."""
        provider = self.providers[plan.stack]
        handle_logical_id = f"{plan.name}WaitHandle"
        handle_path = f"handles/{plan.stack}/{plan.name}"
        self.cloudformation.record(
            provider.stack_id, handle_logical_id, self.signals.url(handle_path),
            "AWS::CloudFormation::WaitConditionHandle", "CREATE_COMPLETE",
        )  # fmt: skip
        properties = {
            "WorkflowId": self.workflow_id(plan.stack),
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/omics-run",
            "OutputUri": self.output_uri(plan.stack),
            "Name": plan.name,
            "WaitFor": plan.wait_for,
            "WaitTimeout": plan.wait_timeout,
            "WaitHandle": self.signals.url(handle_path),
            "WaitHandleLogicalId": handle_logical_id,
        }
        # crhelper answers over HTTPS only: the response URL is a presigned URL of moto's S3.
        response_key = f"responses/{uuid.uuid4()}"
        event = cfn_event(
            "Create", properties, response_url=self.responses.presigned_response_url(response_key),
            logical_id=plan.name,
        )  # fmt: skip
        event["StackId"] = provider.stack_id
        self._acting_as(provider)
        created_at = self.clock.now()
        self.handler.handler(event, SimulatedLambdaContext(self.clock))
        answer = self.responses.read_response(response_key)
        if answer is None or answer["Status"] != "SUCCESS":
            raise AssertionError(f"Create of {plan.name} failed: {answer}")
        run_id = answer["PhysicalResourceId"]
        self.cloudformation.record(provider.stack_id, plan.name, run_id, "Custom::OmicsRun", "CREATE_COMPLETE")
        outcome = RunOutcome(plan, run_id, created_at, handle_path)
        self.outcomes[run_id] = outcome
        for offset, status in zip((0.0, plan.running_after / 2, plan.running_after), STATUSES_TO_RUNNING, strict=True):
            self._change_at(created_at + offset, run_id, status)
        if plan.ends_after > plan.running_after:
            self._change_at(created_at + plan.ends_after - 60, run_id, "STOPPING")
        self._change_at(created_at + plan.ends_after, run_id, plan.ends)
        return outcome

    def _change_at(self, when: float, run_id: str, status: str) -> None:
        heapq.heappush(self._changes, (when, next(self._sequence), run_id, status))

    # ----------------------------------------------------------------- running

    def run(self, until: float) -> None:
        """Plays status changes and deliveries in time order until nothing is left to do, or ``until``."""
        while True:
            due = [t for t in (self._changes[0][0] if self._changes else None, self.queues.next_visible()) if t]
            if not due or min(due) > until:
                return
            self.clock.advance_to(min(due))
            now = self.clock.now()
            while self._changes and self._changes[0][0] <= now:
                _, _, run_id, status = heapq.heappop(self._changes)
                self._change(run_id, status)
            for provider in self.providers:
                self._deliver(provider)

    def _change(self, run_id: str, status: str) -> None:
        outcome = self.outcomes[run_id]
        self.omics.set_status(run_id, status, failure_reason="task failed" if status == "FAILED" else None)
        deciding = status == outcome.plan.ends or (status == "RUNNING" and outcome.plan.wait_for == "RUNNING")
        if deciding and not outcome.decided_at:
            outcome.decided_at = self.clock.now()
        if deciding and outcome.plan.lose_deciding_event:
            self.events_lost += 1
            return
        event = run_status_change(self.omics.runs[run_id], ACCOUNT, REGION)
        for provider in self.providers:
            if _matches(provider.event_detail, event["detail"]):
                self.queues.put(provider.queue_url, json.dumps(event), self.event_delivery_seconds)
                self.events_sent += 1

    def _deliver(self, provider: Provider) -> None:
        while True:
            received = self.queues.receive(provider.queue_url, BATCH_SIZE, VISIBILITY_TIMEOUT_SECONDS)
            if not received:
                return
            self._acting_as(provider)
            records = [
                {"messageId": m.message_id, "body": m.body, "eventSource": "aws:sqs", "awsRegion": REGION}
                for m in received
            ]
            answer = self.handler.wake_up({"Records": records}, SimulatedLambdaContext(self.clock))
            failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
            for message in received:
                if message.message_id in failed:
                    self.queues.release(provider.queue_url, message, MAX_RECEIVES)
                else:
                    self.queues.delete(provider.queue_url, message.message_id)

    # ----------------------------------------------------------------- reading the results

    def collect_signals(self) -> None:
        for outcome in self.outcomes.values():
            outcome.signals = [(put.at, put.body) for put in self.signals.puts_to(outcome.handle_path)]

    def calls(self) -> Counter[str]:
        """Every AWS call the providers made for the waits, by operation (throttled attempts included)."""
        counted: Counter[str] = Counter()
        for request in self.omics.requests:
            if request.operation != "StartRun":
                counted[request.operation] += 1
        counted["DescribeStackResource"] = sum(
            1 for call in self.cloudformation.calls if call.get("Action") == "DescribeStackResource"
        )
        counted["SendMessage"] = self.queues.sent - self.events_sent
        return counted


def _matches(detail_pattern: Mapping[str, Sequence[Any]], detail: Mapping[str, Any]) -> bool:
    """EventBridge's matching of a ``detail`` pattern: every key holds one of its values, or a ``prefix`` of one."""
    return all(
        any(_matches_value(value, detail.get(key)) for value in values) for key, values in detail_pattern.items()
    )


def _matches_value(pattern: Any, value: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, str) and value.startswith(pattern["prefix"])
    return bool(pattern == value)


def planned_runs(
    count: int, stacks: int, *, seed: int, hours: tuple[float, float], lost_events: float, failing: float,
    waiting_for_running: float,
) -> list[PlannedRun]:  # fmt: skip
    """``count`` runs spread over ``stacks``, with durations, endings and lost events drawn from ``seed``."""
    chance = random.Random(seed)
    plans = []
    for index in range(count):
        duration = chance.uniform(*hours) * 3600
        plans.append(
            PlannedRun(
                stack=index % stacks,
                name=f"Sample{index:04d}",
                wait_for="RUNNING" if chance.random() < waiting_for_running else "COMPLETED",
                running_after=chance.uniform(120, 600),
                ends_after=duration,
                ends="FAILED" if chance.random() < failing else "COMPLETED",
                wait_timeout=min(43_200, int(duration) + 7_200),
                lose_deciding_event=chance.random() < lost_events,
            )
        )
    return plans


SIMULATION_START = 1_800_000_000.0


def simulate_account(
    handler: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    responses: ResponseBucket,
    plans: Sequence[PlannedRun],
    *,
    stacks: int,
    one_workflow: bool,
    one_output_location: bool = True,
) -> AccountSimulation:
    """Creates the planned runs (at the clock's start, one after the other) and plays the account until all end.

    ``one_workflow`` and ``one_output_location``: every stack runs the same
    workflow, and writes under the same output location, so that no rule can
    tell the stacks apart (the worst case); otherwise each stack has its own.
    """
    from cdk_omics_run.run_event_pattern import run_event_detail

    # The handler draws its jitter from the random module: seeded, a simulation gives the same numbers each time.
    random.seed(len(plans))
    clock = SimulatedClock(SIMULATION_START)
    clock.install(monkeypatch)
    queues = SimulatedQueues(clock).start()
    signals = SignalRecorder(clock, cert_file=responses.cert_file, key_file=responses.key_file).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", queues.endpoint_url)

    def workflow_id(stack: int) -> str:
        return "1234567" if one_workflow else str(2_000_000 + stack)

    def output_uri(stack: int) -> str:
        return "s3://cohorts/out/" if one_output_location else f"s3://cohorts/stack-{stack}/"

    targets = {stack: {p.wait_for for p in plans if p.stack == stack} for stack in range(stacks)}
    simulation = AccountSimulation(
        handler, monkeypatch, omics, cloudformation, clock, queues, signals, responses, stacks=stacks,
        # The rule each provider's construct writes (run_event_pattern), for its stack's waits.
        # (the construct passes a literal output URI without its last "/": run._output_location).
        event_detail=lambda stack: run_event_detail(
            targets[stack], [workflow_id(stack)], [output_uri(stack).rstrip("/")]
        ),
        workflow_id=workflow_id,
        output_uri=output_uri,
    )  # fmt: skip
    for plan in plans:
        simulation.create(plan)
    simulation.run(until=SIMULATION_START + 14 * 3600)
    simulation.collect_signals()
    return simulation
