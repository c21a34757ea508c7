"""What a newcomer sees of OmicsRun: help(), its signature, every argument's documentation, and its errors."""

from __future__ import annotations

import inspect
import json
import pydoc
import re
import sys
import textwrap
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from conftest import load_module

import cdk_omics_run
from cdk_omics_run import ArgumentError, OmicsRun, OmicsRunArguments, OmicsRunProvider, OmicsRunProviderStack
from cdk_omics_run.argument_docs import ARGUMENT_DOCS
from cdk_omics_run.arguments import argument_name_of, members_by_argument
from cdk_omics_run.run import RESOURCE_SETTING_ARGUMENTS

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERATOR = REPO_ROOT / "scripts" / "generate_argument_docs.py"
GENERATED_MODULE = REPO_ROOT / "constructs" / "cdk_omics_run" / "argument_docs.py"
ROLE = "arn:aws:iam::123456789012:role/omics-run"
REQUEST = {"workflowId": "1234567", "roleArn": ROLE, "outputUri": "s3://bucket/out/"}
# `:param name: text`, the text running on over indented lines.
PARAM_FIELD = re.compile(r"^:param (\w+):(.*(?:\n    .*)*)", re.MULTILINE)


def new_stack() -> cdk.Stack:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    return cdk.Stack(app, "Stack")


def generator() -> ModuleType:
    return load_module(GENERATOR)


def documented_arguments() -> dict[str, str]:
    """The ``:param`` fields of OmicsRun's documentation as help() shows it, whitespace collapsed."""
    doc = inspect.getdoc(OmicsRun) or ""
    return {name: " ".join(text.split()) for name, text in PARAM_FIELD.findall(doc)}


def keyword_arguments(cls: type) -> list[str]:
    return [
        name
        for name, parameter in inspect.signature(cls.__init__).parameters.items()  # type: ignore[misc]
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]


# --- every argument documented


def test_every_start_run_member_has_generated_documentation() -> None:
    members = members_by_argument()
    missing = sorted(set(members) - set(ARGUMENT_DOCS))
    assert not missing, f"no documentation for {missing}: run scripts/generate_argument_docs.py"
    assert set(ARGUMENT_DOCS) == set(members)
    assert all(text.strip() for text in ARGUMENT_DOCS.values())


def test_every_argument_has_a_param_field_in_the_class_documentation() -> None:
    documented = documented_arguments()
    expected = ["scope", "id", *keyword_arguments(OmicsRun)]

    assert list(documented) == expected  # signature order, each once
    assert set(members_by_argument()) | set(RESOURCE_SETTING_ARGUMENTS) <= set(documented)
    assert [name for name, text in documented.items() if not text.strip()] == []


def test_a_member_is_documented_by_botocores_text_then_by_what_the_construct_adds() -> None:
    documented = documented_arguments()

    for name, text in ARGUMENT_DOCS.items():
        assert documented[name].startswith(" ".join(text.split())), name
    assert "aws_omics.CfnWorkflow" in documented["workflow_id"]
    assert "aws_omics.CfnRunGroup" in documented["run_group_id"]
    assert "aws_omics.CfnRunCache" in documented["cache_id"]
    assert "aws_omics.CfnWorkflowVersion" in documented["workflow_version_name"]
    assert "aws_omics.CfnConfiguration" in documented["configuration_name"]
    assert "iam.IRole" in documented["role_arn"]
    assert "JSON string" in documented["parameters"] and "JSON string" in documented["engine_settings"]
    assert documented["log_level"].endswith("A ``LogLevel`` or its string value: OFF, FATAL, ERROR, ALL.")
    assert "An ``OutputUriPrefixMode`` or its string value" in documented["output_uri_prefix_mode"]
    assert "A ``WaitFor`` or its string value: NONE, RUNNING, COMPLETED." in documented["wait_for"]


def test_help_shows_the_signature_the_example_and_every_argument() -> None:
    text = pydoc.plain(pydoc.render_doc(OmicsRun))

    assert "OmicsRun(scope: 'Construct', id: 'str', *, role_arn: 'str | iam.IRole | None' = None," in text
    assert "*args" not in text.split("Method resolution order")[0]
    assert "Example::" in text
    assert ":param workflow_id: The run's workflow ID." in text
    assert ":param wait_poll_interval: " in text


# --- the generated module


def test_the_committed_argument_docs_are_what_the_generator_writes_from_this_botocore() -> None:
    script = generator()

    assert GENERATED_MODULE.read_text(encoding="utf-8") == script.render(), (
        "constructs/cdk_omics_run/argument_docs.py is stale: run scripts/generate_argument_docs.py"
    )
    assert script.main(["--check"]) == 0


def test_the_generator_spells_members_as_the_construct_does() -> None:
    script = generator()

    for argument, member in members_by_argument().items():
        assert script.argument_name_of(member.wire_name) == argument_name_of(member.wire_name) == argument


def test_the_generator_keeps_plain_text_of_one_or_two_sentences() -> None:
    script = generator()
    wire_names = {"workflowId", "parametersUri", "name"}

    html = (
        "<p>The run's <code>workflowId</code>. Use <code>parametersUri</code> &amp; "
        '<a href="https://example.com/x">the <i>guide</i></a> for\n  more.</p> <p>A third sentence.</p>'
    )
    assert script.summary(html, wire_names) == (
        "The run's ``workflow_id``. Use ``parameters_uri`` & the guide for more."
    )
    long_first = "<p>" + "A first sentence that says a great deal about the member, " * 2 + "then ends.</p> <p>Two.</p>"
    assert script.summary(long_first, wire_names).endswith("then ends.")
    assert script.summary("<p>The default is <code>false</code>.</p>", wire_names) == "The default is ``False``."
    assert script.summary("<p>Given in the parametersUri field.</p>", wire_names) == (
        "Given in the ``parameters_uri`` field."
    )


def test_the_generated_module_wraps_long_texts_without_changing_them() -> None:
    script = generator()
    docs = {"short": "One sentence.", "long": " ".join(["word"] * 60)}

    namespace: dict[str, Any] = {}
    rendered = script.render(docs)
    exec(compile(rendered, "argument_docs.py", "exec"), namespace)

    assert namespace["ARGUMENT_DOCS"] == docs
    assert max(len(line) for line in rendered.splitlines()) <= script.LINE_LENGTH


# --- signatures


@pytest.mark.parametrize("cls", [OmicsRun, OmicsRunProvider, OmicsRunProviderStack])
def test_the_signature_shows_the_real_arguments_not_the_jsii_metaclass(cls: type) -> None:
    parameters = inspect.signature(cls).parameters

    assert list(parameters)[:2] == ["scope", "id"]
    keywords = [name for name, parameter in parameters.items() if parameter.kind is inspect.Parameter.KEYWORD_ONLY]
    assert keywords == keyword_arguments(cls)
    assert inspect.signature(cls).return_annotation is inspect.Signature.empty
    assert f"{cls.__name__}(scope: 'Construct', id: 'str', *, " in pydoc.plain(pydoc.render_doc(cls))


def test_the_signature_of_omics_run_lists_every_keyword() -> None:
    parameters = inspect.signature(OmicsRun).parameters

    assert set(members_by_argument()) | set(RESOURCE_SETTING_ARGUMENTS) | {"workflow"} == set(
        keyword_arguments(OmicsRun)
    )
    assert parameters["output_uri"].default is inspect.Parameter.empty
    assert parameters["workflow_id"].default is None


def test_a_subclass_shows_its_own_signature() -> None:
    class NightlyRun(OmicsRun):
        def __init__(self, scope: cdk.Stack, id: str, *, night: int) -> None:
            super().__init__(scope, id, workflow_id="1", role_arn=ROLE, output_uri=f"s3://bucket/{night}/")

    assert list(inspect.signature(NightlyRun).parameters) == ["scope", "id", "night"]
    assert list(inspect.signature(OmicsRun).parameters)[2] == "role_arn"


# --- the construct ID is `id`


def test_the_construct_id_is_passed_as_id_and_is_no_run_argument() -> None:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Stack")
    run = OmicsRun(stack, id="Run", workflow_id="1234567", role_arn=ROLE, output_uri="s3://bucket/out/")
    OmicsRun.from_cli_input_json(stack, id="Other", request=REQUEST)
    provider = OmicsRunProvider(cdk.Stack(app, "Elsewhere"), id="Provider")
    provider_stack = OmicsRunProviderStack(app, id="ProviderStack", run_role_arns=[ROLE])

    assert (run.node.id, provider.node.id, provider_stack.node.id) == ("Run", "Provider", "ProviderStack")
    properties = [r["Properties"] for r in Template.from_stack(stack).find_resources("Custom::OmicsRun").values()]
    assert len(properties) == 2 and not any("Id" in p or "Scope" in p for p in properties)
    for cls in (OmicsRun, OmicsRunProvider, OmicsRunProviderStack):
        assert "id_" not in inspect.signature(cls.__init__).parameters
    assert list(inspect.signature(OmicsRun.from_cli_input_json).parameters)[:3] == ["scope", "id", "request"]


# --- from_cli_input_json: typed overrides, every unknown name at once


def test_the_overrides_type_has_every_keyword_argument_with_its_type() -> None:
    init = inspect.signature(OmicsRun.__init__).parameters
    annotations = {
        name: getattr(annotation, "__forward_arg__", annotation)
        for name, annotation in OmicsRunArguments.__annotations__.items()
    }

    assert annotations == {name: init[name].annotation for name in keyword_arguments(OmicsRun)}
    assert OmicsRunArguments.__required_keys__ == frozenset()  # every override is optional
    overrides = inspect.signature(OmicsRun.from_cli_input_json).parameters["overrides"]
    assert (overrides.kind, overrides.annotation) == (inspect.Parameter.VAR_KEYWORD, "Unpack[OmicsRunArguments]")
    assert "OmicsRunArguments" in cdk_omics_run.__all__


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.Unpack is new in Python 3.11")
def test_the_overrides_annotation_resolves_at_run_time() -> None:
    hints = typing.get_type_hints(OmicsRun.from_cli_input_json)

    assert typing.get_origin(hints["overrides"]) is typing.Unpack
    assert typing.get_type_hints(OmicsRunArguments)["priority"] == int | None


def test_an_unknown_override_is_refused_naming_it_and_what_was_meant() -> None:
    with pytest.raises(ArgumentError) as caught:
        OmicsRun.from_cli_input_json(new_stack(), "Run", REQUEST, priorty=5)  # type: ignore[call-arg]
    message = str(caught.value)

    assert message.startswith("Stack/Run: unknown argument priorty of from_cli_input_json; allowed: cache_behavior, ")
    assert message.endswith("; did you mean priority?")
    assert "wait_for" in message  # the resource's own arguments are overrides too


def test_every_unknown_override_is_named_at_once() -> None:
    with pytest.raises(ArgumentError) as caught:
        OmicsRun.from_cli_input_json(new_stack(), "Run", REQUEST, naem="x", wait_four="RUNNING", zzqqxx=1)  # type: ignore[call-arg]

    assert str(caught.value).startswith("Stack/Run: unknown arguments naem, wait_four, zzqqxx of from_cli_input_json; ")
    assert str(caught.value).endswith("; did you mean name for naem, wait_for for wait_four?")


def test_every_unknown_key_of_the_request_is_named_at_once_each_with_what_was_meant() -> None:
    request = {**REQUEST, "priorty": 1, "WorkflowID": "2", "outputUriPrefix": "NONE", "qqzzxx": True, "requestId": "r"}
    with pytest.raises(ArgumentError) as caught:
        OmicsRun.from_cli_input_json(new_stack(), "Run", request)
    message = str(caught.value)

    assert message.startswith(
        "Stack/Run: unknown keys priorty, WorkflowID, outputUriPrefix, qqzzxx in the StartRun request; "
        "allowed: cacheBehavior, "
    )
    assert "requestId" in message.split("allowed: ")[1]
    assert message.endswith(
        "; did you mean priority for priorty, workflowId for WorkflowID, outputUriPrefixMode for outputUriPrefix?"
    )


def test_a_request_file_with_unknown_keys_names_them_all(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps({**REQUEST, "logLevl": "ALL", "storage_type": "DYNAMIC"}), encoding="utf-8")
    with pytest.raises(ArgumentError) as caught:
        OmicsRun.from_cli_input_json(new_stack(), "Run", path)

    assert "unknown keys logLevl, storage_type in the StartRun request" in str(caught.value)
    assert str(caught.value).endswith("; did you mean logLevel for logLevl, storageType for storage_type?")


def test_known_keys_and_overrides_still_build_the_run() -> None:
    stack = new_stack()
    OmicsRun.from_cli_input_json(stack, "Run", {**REQUEST, "requestId": "ignored"}, name="nightly", priority=3)

    [properties] = [r["Properties"] for r in Template.from_stack(stack).find_resources("Custom::OmicsRun").values()]
    assert (properties["WorkflowId"], properties["Name"], properties["Priority"]) == ("1234567", "nightly", 3)
    assert "RequestId" not in properties


# --- the class documentation's example


def test_the_class_example_is_self_contained_and_synthesizes(tmp_path: Path) -> None:
    doc = inspect.getdoc(OmicsRun) or ""
    example = textwrap.dedent(doc.split("Example::\n", 1)[1].split("\n:param ", 1)[0])
    assert "file://" not in example and ".json" not in example
    assert example.count("App()") == 1
    namespace: dict[str, Any] = {}

    exec(compile(example.replace("App()", f"App(outdir={str(tmp_path)!r})"), "example", "exec"), namespace)

    template = Template.from_stack(namespace["stack"])
    [run] = template.find_resources("Custom::OmicsRun").values()
    parameters = json.loads(run["Properties"]["Parameters"])
    assert parameters == {"sample_name": "NA12878", "input_cram": "s3://my-bucket/NA12878.cram"}
    assert "RunId" in template.find_outputs("*")
    # No role_arn: the generated run role reads the input the parameters name.
    policies = json.dumps(template.find_resources("AWS::IAM::ManagedPolicy"))
    assert "my-bucket/NA12878.cram" in policies
