"""Run preview: the StartRun request each Custom::OmicsRun of a synthesized app will make,
and the StartRunBatch request of each Custom::OmicsRunBatch.

Usage::

    python -m cdk_omics_run.preview [cdk.out]                 # every run, as a JSON list
    python -m cdk_omics_run.preview cdk.out --run Stack/Path  # one request, --cli-input-json form
    python -m cdk_omics_run.preview cdk.out --run Run         # the same, by construct ID or logical ID

Each request is in the AWS CLI's ``--cli-input-json`` form (camelCase StartRun
or StartRunBatch members, for ``aws omics start-run`` or ``start-run-batch``),
converted the way the provider converts the properties: integers and booleans
get their types back, ``Parameters`` and ``EngineSettings`` are
objects. Values known only at deploy time are placeholders such as
``"<Ref RoleArn>"`` or ``"<Fn::GetAtt Workflow.Id>"``. ``requestId`` is left
out: the provider derives its own, and the CLI generates one.

    aws omics start-run --cli-input-json "$(python -m cdk_omics_run.preview --run OmicsRunExample/Run)"
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk_omics_run.handler_source import start_run_shape

RESOURCE_TYPE = "Custom::OmicsRun"
BATCH_RESOURCE_TYPE = "Custom::OmicsRunBatch"
# Properties CloudFormation itself reads; they reach neither StartRun nor the resource settings.
CLOUDFORMATION_PROPERTIES = frozenset({"ServiceToken", "ServiceTimeout"})
CDK_PATH_METADATA = "aws:cdk:path"
STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
TEMPLATE_SUFFIX = ".template.json"
# An OmicsRun's resource is its CustomResource "Resource", whose CfnResource is "Default".
RESOURCE_PATH_SUFFIX = "/Resource/Default"
# Why a run may not be found by its construct path: CDK's CLI turns path metadata on, a plain
# `python app.py` leaves it off (the context aws:cdk:enable-path-metadata).
NO_PATHS_NOTE = (
    "the templates record no construct paths (the aws:cdk:path metadata that `cdk synth` writes and a plain "
    "`python app.py` leaves out), so no construct ID or path can match; logical IDs still work, such as {example}"
)
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
NESTED_TEMPLATE_SUFFIX = ".nested.template.json"
ASSET_PATH_METADATA = "aws:asset:path"

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass
class RunPreview:
    """One Custom::OmicsRun and the StartRun request it will make."""

    stack: str
    logical_id: str
    path: str | None
    start_run: dict[str, Any]
    resource_settings: dict[str, Any] = field(default_factory=dict)
    condition: str | None = None
    problems: list[str] = field(default_factory=list)
    operation: str = "startRun"
    """``startRun``, or ``startRunBatch`` for a Custom::OmicsRunBatch (then ``start_run`` is that request)."""

    def as_json(self) -> dict[str, Any]:
        """The preview as printed: optional keys only when they say something."""
        document: dict[str, Any] = {"stack": self.stack, "logicalId": self.logical_id}
        if self.path:
            document["path"] = self.path
        if self.condition:
            document["condition"] = self.condition
        document[self.operation] = self.start_run
        if self.resource_settings:
            document["resourceSettings"] = self.resource_settings
        return document

    def matches(self, selector: str) -> bool:
        """Whether ``selector`` names this run in any way: a full name or a short one (see below)."""
        return self.has_full_name(selector) or self.has_short_name(selector)

    def has_full_name(self, selector: str) -> bool:
        """Whether ``selector`` is ``Stack/LogicalId``, or the run's construct path or an ancestor's.

        An ancestor's path names every run under it, so ``OmicsRunExample/Run``
        selects ``OmicsRunExample/Run/Resource/Default``, and ``OmicsRunExample`` every run of the stack.
        """
        if selector == f"{self.stack}/{self.logical_id}":
            return True
        path = self.path or ""
        return bool(path) and (path == selector or path.startswith(selector.rstrip("/") + "/"))

    def has_short_name(self, selector: str) -> bool:
        """Whether ``selector`` is the logical ID, the construct ID, or the last IDs of the construct path.

        ``Align`` and ``Pipeline/Align`` name ``Stack/Pipeline/Align``; ``Ali`` does not.
        """
        if selector == self.logical_id:
            return True
        paths = [path for path in (self.construct_path, self.path) if path]
        return any(path == selector or path.endswith("/" + selector) for path in paths)

    @property
    def construct_path(self) -> str | None:
        """The path of the OmicsRun construct itself (``OmicsRunExample/Run``), when the template records it."""
        if not self.path:
            return None
        return self.path.removesuffix(RESOURCE_PATH_SUFFIX)

    @property
    def name(self) -> str:
        """How the run is listed: its construct path, or ``Stack/LogicalId`` without one."""
        return self.construct_path or f"{self.stack}/{self.logical_id}"


def preview_runs(location: Path) -> list[RunPreview]:
    """The runs of a cloud assembly directory (``cdk.out``) or of one template file, in template order.

    Nested stacks' templates are read too (see :func:`read_assembly`).

    Example::

        [run] = preview_runs(Path("cdk.out"))
        run.start_run["workflowId"]  # "1234567"
    """
    return read_assembly(location).previews


@dataclass
class Assembly:
    """What the preview read: the runs, the templates searched, and the nested stacks it could not read."""

    previews: list[RunPreview] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """One line per nested stack whose template is not in the assembly: its runs are not previewed."""


def read_assembly(location: Path) -> Assembly:
    """The runs of every template at ``location``, nested stacks' (``*.nested.template.json``) included.

    A nested stack's template is found by its ``aws:asset:path`` metadata, or
    through the assets manifest that publishes it under the key its
    ``TemplateURL`` names. One that is found neither way is listed in ``skipped``.
    """
    assembly = Assembly()
    for stack, template, directory in _templates(location):
        _read_template(assembly, stack, template, directory)
    return assembly


def _read_template(assembly: Assembly, stack: str, template: Mapping[str, Any], directory: Path) -> None:
    assembly.templates.append(stack)
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") in (RESOURCE_TYPE, BATCH_RESOURCE_TYPE):
            assembly.previews.append(_preview(stack, logical_id, resource))
        elif resource.get("Type") == NESTED_STACK_TYPE:
            nested = _nested_template_file(resource, directory)
            if nested is None:
                assembly.skipped.append(
                    f"{stack}/{logical_id}: a nested stack whose template is not in the cloud assembly "
                    f"(no {NESTED_TEMPLATE_SUFFIX} file its TemplateURL names); its runs are not previewed"
                )
            else:
                name = nested.name.removesuffix(NESTED_TEMPLATE_SUFFIX)
                _read_template(assembly, name, _read_json(nested), directory)


def _nested_template_file(resource: Mapping[str, Any], directory: Path) -> Path | None:
    """The ``*.nested.template.json`` a nested stack resource deploys, when the assembly holds it."""
    named = (resource.get("Metadata") or {}).get(ASSET_PATH_METADATA)
    if isinstance(named, str) and (directory / named).is_file():
        return directory / named
    url = json.dumps((resource.get("Properties") or {}).get("TemplateURL"))
    for object_key, path in _nested_templates_by_object_key(directory).items():
        if object_key in url and path.is_file():
            return path
    return None


def _nested_templates_by_object_key(directory: Path) -> dict[str, Path]:
    """The nested templates the assembly's assets manifests publish, by the S3 key they are published under."""
    found: dict[str, Path] = {}
    for manifest in sorted(directory.glob("*.assets.json")):
        for asset in _read_json(manifest).get("files", {}).values():
            source = str(asset.get("source", {}).get("path", ""))
            if source.endswith(NESTED_TEMPLATE_SUFFIX):
                for destination in asset.get("destinations", {}).values():
                    found[str(destination.get("objectKey"))] = directory / source
    return found


class SelectionError(LookupError):
    """A ``--run`` selector that names no run, or more than one; the message lists the runs to choose from."""


def select_run(previews: Sequence[RunPreview], selector: str) -> RunPreview:
    """The one run that ``selector`` names.

    Full names come first: the construct path (or an ancestor's, such as the
    stack's) or ``Stack/LogicalId``. Only when no run has ``selector`` as a
    full name is it taken as a short one: a logical ID, a construct ID, or the
    last IDs of a construct path (``Run``, ``Pipeline/Align``). A leading ``/``,
    as CDK's annotations print paths, is ignored.

    Raises SelectionError listing the candidates when several runs match,
    or every run when none does.
    """
    wanted = selector.strip("/") or selector
    chosen = [preview for preview in previews if preview.has_full_name(wanted)]
    if not chosen:
        chosen = [preview for preview in previews if preview.has_short_name(wanted)]
    if len(chosen) == 1:
        return chosen[0]
    if chosen:
        raise SelectionError(f"--run {selector} matches {len(chosen)} runs; name one of them:\n{_listing(chosen)}")
    if not previews:
        raise SelectionError(f"--run {selector}: there is no {RESOURCE_TYPE} or {BATCH_RESOURCE_TYPE} to select")
    if not any(preview.path for preview in previews):
        raise SelectionError(
            f"--run {selector} matches no run; {NO_PATHS_NOTE.format(example=_example(previews[0]))}; "
            f"the runs are:\n{_listing(previews)}"
        )
    raise SelectionError(f"--run {selector} matches no run; the runs are:\n{_listing(previews)}")


def _example(preview: RunPreview) -> str:
    return f"--run {preview.logical_id} or --run {preview.stack}/{preview.logical_id}"


def _listing(previews: Sequence[RunPreview]) -> str:
    """One line per run: the name to select it by, and its logical ID when the name does not show it."""
    lines = []
    for preview in previews:
        logical = f" (logical ID {preview.logical_id})" if preview.construct_path else ""
        lines.append(f"  {preview.name}{logical}")
    return "\n".join(lines)


def start_run_input(properties: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Splits a resource's properties into the StartRun request and the resource settings.

    Returns ``(request, settings, problems)``: ``request`` in ``--cli-input-json``
    form, its members in the service model's order, ``settings`` the other
    properties (``DeletePolicy``, ``RerunToken``...) with placeholders, and
    ``problems`` the literal values the provider would reject.

    >>> request, settings, problems = start_run_input({"RoleArn": {"Ref": "Role"}, "OutputUri": "s3://b/o/",
    ...                                                 "WorkflowId": "1", "Priority": "2", "DeletePolicy": "LEAVE"})
    >>> request
    {'workflowId': '1', 'roleArn': '<Ref Role>', 'priority': 2, 'outputUri': 's3://b/o/'}
    >>> settings, problems
    ({'DeletePolicy': 'LEAVE'}, [])
    """
    members = start_run_shape().start_run_members()
    request, settings, problems = _request_input(properties, {None: members}, "StartRun")
    # In the service model's order, whatever order the template has: previews diff cleanly.
    ordered = {m.wire_name: request[m.wire_name] for m in members.values() if m.wire_name in request}
    return ordered, settings, problems


def start_run_batch_input(properties: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """As :func:`start_run_input`, for a Custom::OmicsRunBatch: the StartRunBatch request, nested as the CLI takes it.

    >>> request, settings, _ = start_run_batch_input({"WorkflowId": "1", "RoleArn": "arn:aws:iam::1:role/r",
    ...     "BatchName": "b", "InlineSettings": [{"RunSettingId": "s1", "Priority": "2"}], "RunCount": 1})
    >>> request
    {'batchName': 'b', 'defaultRunSetting': {'workflowId': '1', 'roleArn': 'arn:aws:iam::1:role/r'}, \
'batchRunSettings': {'inlineSettings': [{'runSettingId': 's1', 'priority': 2}]}}
    >>> settings
    {'RunCount': 1}
    """
    shape = start_run_shape()
    groups = {
        "defaultRunSetting": shape.default_run_setting_members(),
        "batchRunSettings": shape.batch_run_settings_members(),
        None: shape.batch_members(),
    }
    flat, settings, problems = _request_input(properties, groups, "StartRunBatch")
    request = {m.wire_name: flat[m.wire_name] for m in shape.batch_members().values() if m.wire_name in flat}
    for group in ("defaultRunSetting", "batchRunSettings"):
        request[group] = {m.wire_name: flat[m.wire_name] for m in groups[group].values() if m.wire_name in flat}
    return request, settings, problems


def _request_input(
    properties: Mapping[str, Any], groups: Mapping[str | None, Mapping[str, Any]], operation: str
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The members the properties set (by wire name), the other properties, and the literal values refused."""
    shape = start_run_shape()
    request: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in properties.items():
        if name in CLOUDFORMATION_PROPERTIES:
            continue
        member = next((members[name] for members in groups.values() if name in members), None)
        if member is None:
            settings[name] = render(value)
            continue
        rendered = render(value)
        try:
            request[member.wire_name] = shape.coerce_member(member, rendered)
        except shape.PropertyError as error:
            # A placeholder rarely fits the member's rules (a pattern, a
            # number); only literal values can be judged before deploying.
            request[member.wire_name] = rendered
            if not has_intrinsic(value):
                problems.append(f"property {error.property_name}: {error.problem}")
    for members in groups.values():
        for member in members.values():
            if member.required and member.wire_name not in request:
                problems.append(f"property {member.property_name}: missing; it is required by {operation}")
    return request, dict(sorted(settings.items())), problems


def has_intrinsic(value: Any) -> bool:
    """Whether ``value`` holds a CloudFormation function or Ref anywhere."""
    if isinstance(value, Mapping):
        return _intrinsic_name(value) is not None or any(has_intrinsic(item) for item in value.values())
    if isinstance(value, list):
        return any(has_intrinsic(item) for item in value)
    return False


def render(value: Any) -> Any:
    """``value`` with every CloudFormation function replaced by a readable placeholder.

    Joins and substitutions keep their literal text around the placeholders,
    so a JSON document built with tokens still parses.

    >>> render({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::bucket"]]})
    'arn:<Ref AWS::Partition>:s3:::bucket'
    >>> render({"Fn::GetAtt": ["Workflow", "Id"]})
    '<Fn::GetAtt Workflow.Id>'
    """
    if isinstance(value, list):
        return [render(item) for item in value]
    if not isinstance(value, Mapping):
        return value
    function = _intrinsic_name(value)
    if function is None:
        return {key: render(item) for key, item in value.items()}
    argument = value[function]
    if function == "Ref":
        return f"<Ref {_text(render(argument))}>"
    if function == "Fn::GetAtt":
        parts = argument.split(".", 1) if isinstance(argument, str) else [_text(render(p)) for p in argument]
        return f"<Fn::GetAtt {'.'.join(parts)}>"
    if function == "Fn::ImportValue":
        return f"<Fn::ImportValue {_text(render(argument))}>"
    if function == "Fn::Join" and _is_join(argument):
        separator, parts = argument
        return separator.join(_text(render(part)) for part in parts)
    if function == "Fn::Sub":
        return _render_sub(argument)
    return f"<{function} {json.dumps(render(argument), separators=(',', ':'), ensure_ascii=False)}>"


def _intrinsic_name(value: Mapping[str, Any]) -> str | None:
    if len(value) != 1:
        return None
    [key] = value
    return key if key == "Ref" or key.startswith("Fn::") else None


def _is_join(argument: Any) -> bool:
    return (
        isinstance(argument, list)
        and len(argument) == 2
        and isinstance(argument[0], str)
        and isinstance(argument[1], list)
    )


def _render_sub(argument: Any) -> str:
    variables: Mapping[str, Any]
    if isinstance(argument, str):
        text, variables = argument, {}
    elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        text, variables = argument[0], argument[1] if isinstance(argument[1], Mapping) else {}
    else:
        return f"<Fn::Sub {json.dumps(render(argument), separators=(',', ':'))}>"

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"  # ${!Literal} is the escape for a literal ${Literal}
        if name in variables:
            return _text(render(variables[name]))
        if "." in name:
            return f"<Fn::GetAtt {name}>"
        return f"<Ref {name}>"

    return _SUB_VARIABLE.sub(substitute, text)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _preview(stack: str, logical_id: str, resource: Mapping[str, Any]) -> RunPreview:
    batch = resource.get("Type") == BATCH_RESOURCE_TYPE
    request, settings, problems = (start_run_batch_input if batch else start_run_input)(resource.get("Properties", {}))
    return RunPreview(
        operation="startRunBatch" if batch else "startRun",
        stack=stack,
        logical_id=logical_id,
        path=(resource.get("Metadata") or {}).get(CDK_PATH_METADATA),
        start_run=request,
        resource_settings=settings,
        condition=resource.get("Condition"),
        problems=problems,
    )


def _templates(location: Path) -> Iterator[tuple[str, dict[str, Any], Path]]:
    """(stack name, template, its folder) of a template file, or of every stack in a cloud assembly and its stages."""
    if location.is_file():
        name = location.name.removesuffix(TEMPLATE_SUFFIX).removesuffix(".json")
        yield name, _read_json(location), location.parent
        return
    manifest_path = location / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{location} is not a cloud assembly (no manifest.json): run `cdk synth` first")
    for artifact_id, artifact in _read_json(manifest_path).get("artifacts", {}).items():
        properties = artifact.get("properties", {})
        if artifact.get("type") == STACK_ARTIFACT:
            stack = properties.get("stackName", artifact_id)
            yield stack, _read_json(location / properties["templateFile"]), location
        elif artifact.get("type") == NESTED_ASSEMBLY_ARTIFACT:
            # A Stage writes its stacks into a cloud assembly of its own.
            yield from _templates(location / properties["directoryName"])


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: prints the previews, or one request with ``--run``."""
    parser = argparse.ArgumentParser(
        prog="python -m cdk_omics_run.preview",
        description="Lists each Custom::OmicsRun of a synthesized app and the StartRun request it will make "
        "(StartRunBatch for a Custom::OmicsRunBatch), in the AWS CLI's --cli-input-json form. Deploy-time "
        "values are shown as <placeholders>.",
    )
    parser.add_argument(
        "location", nargs="?", type=Path, default=Path("cdk.out"),
        help="a cloud assembly directory (default: cdk.out) or a template JSON file",
    )  # fmt: skip
    parser.add_argument(
        "--run", metavar="SELECTOR",
        help="print only this run's request: its construct path (or an ancestor's), Stack/LogicalId, logical ID, "
        "or construct ID (Run) when no other run has it",
    )  # fmt: skip
    arguments = parser.parse_args(argv)
    try:
        assembly = read_assembly(arguments.location)
    except (OSError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    previews = assembly.previews
    for skipped in assembly.skipped:
        print(f"warning: {skipped}", file=sys.stderr)
    if not previews and arguments.run is None:
        searched = ", ".join(assembly.templates) or "none"
        parser.exit(1, f"error: no {RESOURCE_TYPE} or {BATCH_RESOURCE_TYPE} in the templates searched: {searched}\n")
    for preview in previews:
        for problem in preview.problems:
            # On stderr, so the JSON on stdout stays pipeable.
            print(
                f"warning: {preview.stack}/{preview.logical_id}: {problem}; the provider will reject it",
                file=sys.stderr,
            )
    if arguments.run is None:
        document: Any = [preview.as_json() for preview in previews]
    else:
        try:
            document = select_run(previews, arguments.run).start_run
        except SelectionError as error:
            parser.exit(2, f"error: {error}\n")
    print(json.dumps(document, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
