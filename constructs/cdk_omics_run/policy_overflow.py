"""Grants that grow with the runs of a stack, kept within IAM's size quota of one managed policy.

The provider allows StartRun on every workflow (and version, run group, cache,
configuration) its runs name, and iam:PassRole on every run role: one ARN per
distinct resource. Each run with a generated role adds a role ARN of up to about
100 characters once deployed, so about 50 such runs would fill the provider's
policy ("Customer managed policy size: 6,144 characters", IAM and AWS STS
quotas) and fail the deploy. At synth time, once every run has registered, the
ARNs that do not fit move into overflow policies attached to the same role
(at most ``MAX_OVERFLOW_POLICIES``: a role takes 10 managed policies by
default, and the provider may already use 2). Allowing a resource in one
statement or in another of the role's policies is the same to IAM.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsii
from aws_cdk import IAspect, IListProducer, IResolveContext, Lazy, Stack
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from cdk_omics_run.arguments import ArgumentError
from cdk_omics_run.policy_size import MANAGED_POLICY_CHARACTERS, estimated_characters

# "Managed policies attached to an IAM role: 10" by default (IAM and AWS STS quotas); the
# provider's own policy and, in a VPC, its network policy take two of them.
MAX_OVERFLOW_POLICIES = 8
OVERFLOW_ID_PREFIX = "Overflow"


@dataclass(eq=False)
class GrowingGrant:
    """A statement whose resources are the ARNs runs register; rendered when the template is.

    ``kept``: how many leading ARNs always stay in the role's main policy (the
    wildcards acknowledged there).
    """

    sid: str
    actions: list[str]
    conditions: Mapping[str, Any] | None
    arns: list[str] = field(default_factory=list)
    kept: int = 0

    def add(self, arn: str) -> None:
        if arn not in self.arns:
            self.arns.append(arn)

    def statement(self) -> iam.PolicyStatement:
        """The statement in the main policy: the ARNs that were not moved out."""
        return self._statement(self.sid, Lazy.uncached_list(_Arns(self.arns)))

    def overflow_statement(self, number: int, arns: list[str]) -> iam.PolicyStatement:
        return self._statement(f"{self.sid}{number}", arns)

    def _statement(self, sid: str, resources: list[str]) -> iam.PolicyStatement:
        conditions = dict(self.conditions) if self.conditions else None
        return iam.PolicyStatement(sid=sid, actions=list(self.actions), resources=resources, conditions=conditions)

    @property
    def movable(self) -> int:
        return max(0, len(self.arns) - self.kept)


@jsii.implements(IAspect)
class PolicyOverflow:
    """Moves ARNs of ``grants`` out of ``policy`` into overflow policies beside it, when ``policy`` is too large.

    Added as an aspect of ``policy``: it runs once per synth, after every
    construct of the app has registered its ARNs, and before the template is
    written.

    Example::

        overflow = PolicyOverflow(policy, role)
        Aspects.of(policy).add(overflow)
        passed_roles = overflow.add(GrowingGrant("PassRunRoles", ["iam:PassRole"], None))
        passed_roles.add(role_arn)
    """

    def __init__(self, policy: iam.ManagedPolicy, role: iam.IRole) -> None:
        self._policy = policy
        self._role = role
        self._grants: list[GrowingGrant] = []
        self.overflow_policies: list[iam.ManagedPolicy] = []

    def add(self, grant: GrowingGrant) -> GrowingGrant:
        """Adds ``grant``'s statement to the policy; its ARNs may move out when the policy is too large."""
        self._grants.append(grant)
        self._policy.add_statements(grant.statement())
        return grant

    def visit(self, node: IConstruct) -> None:
        if node.node.path == self._policy.node.path:
            self.spill()

    def spill(self) -> None:
        stack = Stack.of(self._policy)
        while (characters := self._characters(stack)) > MANAGED_POLICY_CHARACTERS:
            grant = max(self._grants, key=lambda candidate: candidate.movable)
            if grant.movable == 0:
                raise ArgumentError(
                    f"{self._policy.node.path}: about {characters} characters once deployed, "
                    f"with no run's ARNs left to move; allowed: {MANAGED_POLICY_CHARACTERS:,} (IAM quota)"
                )
            if len(self.overflow_policies) == MAX_OVERFLOW_POLICIES:
                raise ArgumentError(
                    f"{self._policy.node.path}: the runs of this stack need more than {MAX_OVERFLOW_POLICIES + 1} "
                    f"policies of {MANAGED_POLICY_CHARACTERS:,} characters to name every workflow and run role; "
                    "allowed: 10 managed policies per role (IAM quota). Give runs one role_arn, start cohorts as "
                    "one OmicsRunBatch, or split the runs across stacks"
                )
            self._move(stack, grant, characters - MANAGED_POLICY_CHARACTERS)

    def _characters(self, stack: Stack) -> int:
        return estimated_characters(stack.resolve(self._policy.document.to_json()))

    def _move(self, stack: Stack, grant: GrowingGrant, excess: int) -> None:
        """Moves ARNs from the end of ``grant`` into a new overflow policy, until the main policy fits or it is full."""
        number = len(self.overflow_policies) + 1
        size = _characters_of(stack, grant.overflow_statement(number, ["x", "y"])) - 2 * len('"x"') - len(",")
        # One call into the jsii kernel for all the ARNs, not one each.
        costs = [estimated_characters(arn) + len(",") for arn in stack.resolve(list(grant.arns))]
        moved: list[str] = []
        while grant.movable and excess > 0:
            cost = costs.pop()
            if moved and size + cost > MANAGED_POLICY_CHARACTERS:
                break
            moved.insert(0, grant.arns.pop())
            size += cost
            excess -= cost
        overflow = iam.ManagedPolicy(
            # A child of the main policy, so a child of the role: what depends on the role
            # (the provider's function) waits for it too.
            self._policy,
            f"{OVERFLOW_ID_PREFIX}{number}",
            roles=[self._role],
            description=f"{self._policy.node.path}: the run ARNs past its size quota, part {number}",
            statements=[grant.overflow_statement(number, moved)],
        )
        self.overflow_policies.append(overflow)


def _characters_of(stack: Stack, statement: iam.PolicyStatement) -> int:
    return estimated_characters(stack.resolve(iam.PolicyDocument(statements=[statement]).to_json()))


@jsii.implements(IListProducer)
class _Arns:
    """Renders a grant's ARNs each time the template is, after every run in the stack has registered.

    Uncached, because the overflow aspect may move ARNs out after the
    document was first resolved to measure it.
    """

    def __init__(self, arns: list[str]) -> None:
        self._arns = arns

    def produce(self, context: IResolveContext) -> list[str]:
        return list(self._arns)
