"""Account scale: many runs waiting in several stacks of one account, on a simulated clock, quotas enforced.

The handler's real code runs every wake and every event over HTTP against the
stand-ins (support.account_simulation); hours pass in seconds because the
clock is simulated (support.simulated_time). HealthOmics throttles each
operation past its documented rate (user guide, "HealthOmics API quotas").
"""

from __future__ import annotations

from types import ModuleType

import pytest
from support.account_simulation import planned_runs, simulate_account
from support.cloudformation_stand_in import CloudFormationStandIn
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

from omics_run.waiting import DEFAULT_POLL_SECONDS as SAFETY_NET_CAP_SECONDS


def test_a_thousand_runs_waiting_in_five_stacks_all_end_within_their_deadlines_under_the_documented_quotas(
    handler_module: ModuleType,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    response_bucket: ResponseBucket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plans = planned_runs(1000, 5, seed=25, hours=(0.5, 3.0), lost_events=0.02, failing=0.05, waiting_for_running=0.1)
    simulation = simulate_account(
        handler_module, monkeypatch, omics, cloudformation, response_bucket, plans, stacks=5, one_workflow=True
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
