"""Account scale: many runs waiting in several stacks of one account, on a simulated clock, quotas enforced.

The handler's real code runs every wake and every event over HTTP against the
stand-ins (support.account_simulation); hours pass in seconds because the
clock is simulated (support.simulated_time). HealthOmics throttles each
operation past its documented rate (user guide, "HealthOmics API quotas").
"""

from __future__ import annotations

from types import ModuleType

import pytest

from cdk_omics_run.run_event_pattern import run_event_detail
from support.account_simulation import AccountSimulation, planned_runs
from support.cloudformation_stand_in import CloudFormationStandIn
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from support.simulated_queues import SignalRecorder, SimulatedQueues
from support.simulated_time import SimulatedClock

START = 1_800_000_000.0
SAFETY_NET_CAP_SECONDS = 900


def simulate(
    handler_module: ModuleType,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    response_bucket: ResponseBucket,
    monkeypatch: pytest.MonkeyPatch,
    *,
    runs: int,
    stacks: int,
    lost_events: float = 0.0,
    seed: int = 25,
) -> AccountSimulation:
    clock = SimulatedClock(START)
    clock.install(monkeypatch)
    queues = SimulatedQueues(clock).start()
    signals = SignalRecorder(clock, cert_file=response_bucket.cert_file, key_file=response_bucket.key_file).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", queues.endpoint_url)
    plans = planned_runs(runs, stacks, seed=seed, hours=(0.5, 3.0), lost_events=lost_events, failing=0.05,
                         waiting_for_running=0.1)  # fmt: skip
    targets = {stack: {p.wait_for for p in plans if p.stack == stack} for stack in range(stacks)}
    simulation = AccountSimulation(
        handler_module, monkeypatch, omics, cloudformation, clock, queues, signals, response_bucket,
        stacks=stacks,
        # One workflow for every stack: the rule's workflow filter cannot tell the stacks apart.
        event_detail=lambda stack: run_event_detail(targets[stack], ["1234567"]),
        workflow_id=lambda stack: "1234567",
    )  # fmt: skip
    for plan in plans:
        simulation.create(plan)
    simulation.run(until=START + 14 * 3600)
    simulation.collect_signals()
    return simulation


def test_a_thousand_runs_waiting_in_five_stacks_all_end_within_their_deadlines_under_the_documented_quotas(
    handler_module: ModuleType,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    response_bucket: ResponseBucket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    simulation = simulate(
        handler_module, omics, cloudformation, response_bucket, monkeypatch, runs=1000, stacks=5, lost_events=0.02
    )
    outcomes = list(simulation.outcomes.values())

    assert len(outcomes) == 1000
    # The quotas were met, not avoided: the runs' first wakes come together and are throttled.
    assert omics.throttled, "no request was throttled: the simulation did not reach the quotas"
    for outcome in outcomes:
        assert outcome.signals, f"run {outcome.run_id} ({outcome.plan}) was never signalled"
        first_at, first = outcome.signals[0]
        assert first["Status"] == outcome.expected_status, (outcome.plan, first)
        assert first_at <= outcome.created_at + outcome.plan.wait_timeout, (outcome.plan, first)
        # A wait signals once; a copy of a signal, if any, says the same.
        assert {body["Status"] for _, body in outcome.signals} == {first["Status"]}
    delivered = [o.latency for o in outcomes if not o.plan.lose_deciding_event]
    missed = [o.latency for o in outcomes if o.plan.lose_deciding_event]
    assert missed, "no event was lost: the safety net was not exercised"
    # An event ends its wait within seconds, unless its GetRun is throttled past the client's
    # 3 attempts (the quota is shared by 5 providers, each reading every event of the workflow);
    # then, like a lost event, the safety net ends it within its interval.
    delivered.sort()
    assert delivered[len(delivered) * 9 // 10] < 5.0, delivered[-100:]
    assert max(delivered) <= SAFETY_NET_CAP_SECONDS + 5.0, delivered[-10:]
    assert max(missed) <= SAFETY_NET_CAP_SECONDS + 5.0, sorted(missed)
    for provider in simulation.providers:
        assert simulation.queues.messages_left(provider.queue_url) == 0
        assert simulation.queues.dead_letters(provider.queue_url) == []
