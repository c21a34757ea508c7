"""Every limit the documentation states has an ID and a test that shows it: the README-commands idea applied to claims.

The limits are listed on the site's Limits page (docs/limits.md). A limit
added there without an entry here fails the first test; an entry whose test
is gone or renamed fails the second. Limits with no natural home elsewhere
are shown by the tests at the end of this file.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk.assertions import Template
from documentation_pages import page_text

from cdk_omics_run import OmicsRun

# Limit ID -> the test (file::name) that shows it.
LIMIT_TESTS = {
    "wait-12-hours": "test_run_infrastructure.py::test_invalid_arguments_fail_synth_naming_the_path_the_argument_and_what_is_allowed",
    "new-run-needs-new-wait": "test_provider_runtime_waiting.py::test_a_new_run_under_an_unchanged_wait_handle_fails_naming_it_and_starts_nothing",
    "tokens-drop-nulls": "test_readme_limits.py::test_a_parameters_object_with_tokens_loses_its_nulls_and_one_without_keeps_them",
    "ungranted-deploy-time-values": "test_data_infrastructure.py::test_one_deploy_time_value_warns_and_keeps_the_literal_grants_beside_it",
    "list-output-size": "test_run_outputs.py::test_a_list_output_too_long_for_one_response_fails_naming_the_fix",
    "preview-json-templates": "test_run_preview.py::test_a_template_file_is_previewed_and_literal_problems_are_warned_about_on_stderr",
    "batch-delete-4-minutes": "test_provider_runtime_batches.py::test_delete_leaves_a_batch_that_will_not_settle_and_still_answers_before_its_deadline",
    "batch-outputs-part-time": "test_batch_outputs.py::test_a_part_not_read_within_the_providers_time_fails_saying_how_far_it_got",
    "bootstrap-bucket-key": "test_readme_limits.py::test_a_file_asset_input_is_read_from_the_bootstrap_bucket_with_no_key_granted",
    "workflow-creation-time": "test_provider_runtime_workflows.py::test_a_workflow_still_creating_at_the_time_limit_fails_naming_it",
    "workflow-definition-size": "test_workflow_infrastructure.py::test_a_folder_larger_than_the_definition_quota_is_a_synth_warning",
    "workflow-tags-at-creation": "test_provider_runtime_workflows.py::test_a_new_name_renames_the_workflow_and_new_tags_change_nothing",
    "sample-sheet-text": "test_batch_infrastructure.py::test_a_sample_sheet_of_1000_rows_becomes_1000_typed_settings",
    "status-failed-tasks": "test_status_command.py::test_a_failed_run_details_at_most_ten_failed_tasks_and_counts_them_all",
    "wait-events-account-wide": "test_provider_runtime_waiting.py::test_events_of_runs_outside_the_stack_cost_one_get_run_and_change_nothing",
    "start-run-quota": "test_provider_runtime_sequences.py::test_start_run_throttled_through_every_attempt_fails_the_create_naming_the_throttle",
    "wait-tag-length": "test_provider_runtime_waiting.py::test_a_wait_whose_logical_ids_do_not_fit_a_tag_value_is_ended_by_polling_alone",
    "status-shipped-prices": "test_status_cost.py::test_without_pricing_get_products_the_shipped_dated_table_is_used_and_said",
}


def documented_limits() -> list[str]:
    """The Limits page's bullets, each as one line of text."""
    section = page_text("limits.md").split("# Limits\n", 1)[1].split("\n## ", 1)[0]
    return [" ".join(bullet.split()) for bullet in re.split(r"\n- ", "\n" + section)[1:]]


def test_every_documented_limit_has_an_id_with_a_test() -> None:
    limits = documented_limits()

    ids = [match.group(1) if (match := re.match(r"\*\*\[([a-z0-9-]+)\]\*\* ", limit)) else limit for limit in limits]
    assert len(ids) >= 8
    assert sorted(ids) == sorted(LIMIT_TESTS), (
        "each limit of docs/limits.md needs an ID here, and each ID a limit there"
    )


def test_each_limits_test_exists() -> None:
    for limit, node in LIMIT_TESTS.items():
        file_name, test_name = node.split("::")
        tree = ast.parse((Path(__file__).parent / file_name).read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert test_name in names, f"{limit}: no {test_name} in {file_name}"


def new_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Genomics")


def test_a_parameters_object_with_tokens_loses_its_nulls_and_one_without_keeps_them() -> None:
    stack = new_stack()
    region = cdk.Aws.REGION
    OmicsRun(stack, "Plain", workflow_id="1234567", output_uri="s3://out/", role_arn="arn:aws:iam::123456789012:role/r",
             parameters={"optional": None, "region": "us-east-1"})  # fmt: skip
    OmicsRun(stack, "Tokens", workflow_id="1234567", output_uri="s3://out/", role_arn="arn:aws:iam::123456789012:role/r",
             parameters={"optional": None, "region": region})  # fmt: skip

    runs = Template.from_stack(stack).find_resources("Custom::OmicsRun")
    plain = next(r for k, r in runs.items() if k.startswith("Plain"))["Properties"]["Parameters"]
    tokens = next(r for k, r in runs.items() if k.startswith("Tokens"))["Properties"]["Parameters"]
    assert json.loads(plain) == {"optional": None, "region": "us-east-1"}
    assert '"optional"' not in json.dumps(tokens) and "AWS::Region" in json.dumps(tokens)


def test_a_file_asset_input_is_read_from_the_bootstrap_bucket_with_no_key_granted(tmp_path: Path) -> None:
    stack = new_stack()
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">chr1\nACGT\n")
    run = OmicsRun(stack, "Align", workflow_id="1234567", output_uri="s3://out/",
                   parameters={"reference": s3_assets.Asset(stack, "Reference", path=str(fasta))})  # fmt: skip

    assert run.run_role is not None
    statements = json.dumps(Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy"))
    assert "cdk-hnb659fds-assets-" in statements
    assert "kms:" not in statements
