"""An IAM role whose permissions live in one customer-managed policy, never in an inline one.

cdk-nag's HIPAA Security and NIST 800-53 R5 packs (rule IAMNoInlinePolicy)
flag inline policies, which is where ``iam.Role`` puts every statement added
with ``add_to_policy`` and every CDK grant (its ``DefaultPolicy``). This role
sends them all to ``policy``, an ``AWS::IAM::ManagedPolicy`` of the account,
attached to this role only: one policy however many statements are added.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct

POLICY_ID = "Policy"


class ManagedPolicyRole(iam.Role):
    """``iam.Role`` whose statements, its own and those of CDK's grants, go to one customer-managed policy.

    Example::

        role = ManagedPolicyRole(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(statement)  # lands in role.policy
        queue.grant_send_messages(role)  # so does this
    """

    def __init__(self, scope: Construct, id: str, *, policy_description: str | None = None, **role_props: Any) -> None:
        super().__init__(scope, id, **role_props)
        # A child of the role: whatever depends on the role (a function, say) also waits for its policy.
        self.policy = iam.ManagedPolicy(self, POLICY_ID, roles=[self], description=policy_description)
        """The customer-managed policy holding every statement of this role."""

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        """Adds ``statement`` to :attr:`policy` (``add_to_policy`` and CDK's grants call this)."""
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)
