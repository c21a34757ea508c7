"""Renders benchmark results (the dict benchmark.py writes as JSON) as markdown tables."""

from __future__ import annotations

import math
from typing import Any

import cold_create

NAMES = {"omics-run": "OmicsRun", "aws-custom-resource": "AwsCustomResource"}


def markdown(results: dict[str, Any]) -> str:
    """All tables, in the order benchmarks/README.md presents them."""
    sections = [
        _heading(results),
        _synth_table(results["synth"]),
        _marginal_table(results["synth"]["per_additional_run"]),
        _asset_table(results["assets"]),
        _cold_import_table(results["cold_import"]),
        _cold_create_table(results["cold_create"]),
        _events_table(results),
        _targets_table(results["targets"]),
    ]
    return "\n\n".join(sections)


def agreement(quick: dict[str, Any], full: dict[str, Any]) -> str:
    """The synth CPU ratios of a quick run beside a full run's, for the N both measured."""
    full_points = {point["runs"]: point for point in full["synth"]["points"]}
    lines = [
        f"### Quick against full (full run: `{full['command']}` at {full['measured_at']}, "
        f"git {full['environment'].get('git')})",
        "",
        "| N | Quick CPU ratio (paired min–max) | Full CPU ratio (paired min–max) | Difference | Within the full run's paired spread |",
        "|---:|---|---|---:|---|",
    ]
    for point in quick["synth"]["points"]:
        other = full_points.get(point["runs"])
        if other is None or "cpu_ratio_paired" not in other:
            continue
        ours, theirs = point["cpu_ratio_paired"], other["cpu_ratio_paired"]
        quick_ratio, full_ratio = point["ratio"]["synth_cpu_seconds"], other["ratio"]["synth_cpu_seconds"]
        within = theirs["min"] <= quick_ratio <= theirs["max"]
        lines.append(
            f"| {point['runs']} | {quick_ratio:.3f} ({ours['min']:.2f}–{ours['max']:.2f}) "
            f"| {full_ratio:.3f} ({theirs['min']:.2f}–{theirs['max']:.2f}) | {quick_ratio - full_ratio:+.3f} "
            f"| {'yes' if within else '**no**'} |"
        )
    return "\n".join(lines)


def _heading(results: dict[str, Any]) -> str:
    env = results["environment"]
    settings = results["settings"]
    return (
        f"`{results['command']}` at {results['measured_at']}: Python {env['python']}, node {env['node']}, "
        f"aws-cdk-lib {env['aws-cdk-lib']}, boto3/botocore {env['boto3']}/{env['botocore']}, "
        f"crhelper {env['crhelper']}, git {env.get('git')}, {env['cpus']} CPUs ({env['platform']}), load average (1, 5, 15 min) "
        f"{env.get('load_average_at_start')} at start and {env.get('load_average_at_end')} at end. "
        f"Medians of {settings['synth_repetitions']} synths per point, "
        f"{settings['import_repetitions']} cold imports per probe, {settings['events']} Create events."
    )


def _synth_table(synth: dict[str, Any]) -> str:
    lines = [
        "### Stacks of N runs",
        "",
        "| N | Variant | Synth CPU (s) | Synth wall (s) | Constructs (s) | app.synth() (s) | Template bytes "
        "| Resources | Lambda functions | IAM policies | Largest role inline policy (chars; quota 10,240) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for point in synth["points"]:
        for variant in NAMES:
            v = point[variant]
            lines.append(
                f"| {point['runs']} | {NAMES[variant]} | {v['synth_cpu_seconds']:.2f} "
                f"({v['synth_cpu_seconds_min']:.2f}–{v['synth_cpu_seconds_max']:.2f}) "
                f"| {v['synth_wall_seconds']:.2f} ({v['synth_wall_seconds_min']:.2f}–{v['synth_wall_seconds_max']:.2f}) "
                f"| {v['construct_seconds']:.2f} | {v['app_synth_seconds']:.2f} "
                f"| {v['template_bytes']:,} | {v['resources']} | {v['lambda_functions']} | {v['iam_policies']} "
                f"| {v['largest_role_inline_policy_chars']:,} |"
            )
        r = point["ratio"]
        paired = point["cpu_ratio_paired"]
        lines.append(
            f"| {point['runs']} | *ratio* | *{r['synth_cpu_seconds']:.3f}* (paired {_num(paired['min'])}–"
            f"{_num(paired['max'])}) | *{_num(r['synth_wall_seconds'])}* "
            f"| *{_num(r['construct_seconds'])}* | *{_num(r['app_synth_seconds'])}* | *{_num(r['template_bytes'])}* "
            f"| *{_num(r['resources'])}* | *{_num(r['lambda_functions'])}* | *{_num(r['iam_policies'])}* | |"
        )
    lines.append("")
    lines.append(
        "Synth CPU, the judged figure: user+system time of a fresh `python stack_app.py` process and its jsii "
        "node process, median (min–max). Synth wall: the same process's wall time, as `cdk synth` runs an app. "
        "Constructs / app.synth(): medians measured inside the app. Ratio: OmicsRun / AwsCustomResource, of the "
        "medians; *paired*: the lowest and highest ratio of one repetition's two synths, made one after the other."
    )
    return "\n".join(lines)


def _marginal_table(marginal: dict[str, Any]) -> str:
    lines = [
        f"### Per additional run (N = {marginal['from_runs']} → {marginal['to_runs']})",
        "",
        "| Variant | Template bytes | Resources | IAM policies | Lambda functions | Synth wall (ms) | Synth CPU (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for variant, name in NAMES.items():
        m = marginal[variant]
        lines.append(
            f"| {name} | {m['template_bytes']:,.0f} | {m['resources']:.2f} | {m['iam_policies']:.2f} "
            f"| {m['lambda_functions']:.2f} | {m['synth_wall_seconds'] * 1000:.1f} | {m['synth_cpu_seconds'] * 1000:.1f} |"
        )
    return "\n".join(lines)


def _asset_table(assets: dict[str, Any]) -> str:
    lines = [
        "### Provider asset",
        "",
        "| Asset | Files | Bytes | Zipped bytes |",
        "|---|---:|---:|---:|",
    ]
    for variant, name in NAMES.items():
        a = assets[variant]
        lines.append(f"| **{name}** (whole asset) | {a['files']} | {a['bytes']:,} | {a['zipped_bytes']:,} |")
        if variant == "omics-run":
            for entry, e in a["by_entry"].items():
                lines.append(f"| &nbsp;&nbsp;{entry} | {e['files']} | {e['bytes']:,} | {e['zipped_bytes']:,} |")
    lines.append("")
    lines.append(
        "Zipped: Python's zipfile, deflate level 9. AwsCustomResource's asset is aws-cdk-lib's "
        "prebuilt Node.js handler."
    )
    return "\n".join(lines)


def _cold_import_table(cold: dict[str, Any]) -> str:
    baseline = cold["probes"]["import boto3; boto3.client('omics')"]["median_ms"]
    lines = [
        "### Cold import (fresh interpreter each time)",
        "",
        "| Probe | Median (ms) | Min (ms) | Process wall (ms) | vs boto3 + omics client |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, probe in cold["probes"].items():
        lines.append(
            f"| {name} | {probe['median_ms']:.1f} | {probe['min_ms']:.1f} | {probe['median_process_wall_ms']:.1f} "
            f"| {_num(probe['median_ms'] / baseline)} |"
        )
    lines.append("")
    lines.append(
        "Median/Min: `time.perf_counter()` inside the process, from before the first import to after the client "
        "exists (interpreter start-up excluded). Process wall: the whole `python -c` process."
    )
    for name, breakdown in cold["importtime_breakdown"].items():
        largest = list(breakdown["imports_by_package_ms"].items())[:6]
        listed = ", ".join(f"{package} {ms:.0f}" for package, ms in largest)
        lines.append(
            f"\n`-X importtime`, {name}: {breakdown['total_ms']:.0f} ms, of which imports "
            f"{breakdown['imports_ms']:.0f} ms (largest, self time by package, ms: {listed}) and code run outside "
            f"imports (client creation) {breakdown['not_imports_ms']:.0f} ms."
        )
    return "\n".join(lines)


def _cold_create_table(cold: dict[str, Any]) -> str:
    probes = cold["probes"]
    floor = probes.get(cold_create.FLOOR)
    peer = probes.get(cold_create.PEER)
    lines = [
        "### Cold Create, in total (fresh process each time: import, client, first StartRun)",
        "",
        "| Probe | Median (ms) | Min–max (ms) | Process wall (ms) | vs Python floor | vs Node.js peer |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, probe in probes.items():
        lines.append(
            f"| {name} | {probe['median_ms']:.1f} | {probe['min_ms']:.1f}–{probe['max_ms']:.1f} "
            f"| {probe['median_process_wall_ms']:.1f} "
            f"| {_num(probe['median_ms'] / floor['median_ms']) if floor else '–'} "
            f"| {_num(probe['median_ms'] / peer['median_ms']) if peer else '–'} |"
        )
    lines.append("")
    peer_note = (
        f"{cold['node_sdk']} {cold['node_sdk_version']}"
        if cold["node_sdk_version"]
        else f"not measured: {cold['node_sdk']} is not installed (`npm ci`)"
    )
    lines.append(
        f"Median of {cold['repetitions']} fresh processes per probe, interleaved, after one unmeasured each; "
        "timed inside the process from before the first import or `require` to after StartRun returned "
        "(the whole Create: after crhelper's answer was sent). Against the test suite's HealthOmics stand-in "
        f"over loopback HTTP; the answer is a PUT to moto over HTTPS. Peer: {peer_note}. The stand-in received "
        f"{cold['stand_in_requests_by_operation']}; answers: {cold['answers']}. "
        f"Handler's modules + client + StartRun against the floor: {_num(cold['handler_to_floor_ratio'])} "
        f"(process wall {_num(cold['handler_to_floor_process_ratio'])}); against the peer: "
        f"{_num(cold['handler_to_peer_ratio'])} (process wall {_num(cold['handler_to_peer_process_ratio'])})."
    )
    return "\n".join(lines)


def _events_table(results: dict[str, Any]) -> str:
    events = results["events"]
    lines = [
        f"### Per Create event, warm ({events['events']} events after {events['warmup_events']} unmeasured)",
        "",
        "| Part | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    parts = (
        ("handler(event, context), whole", "handler"),
        ("&nbsp;&nbsp;AWS API calls (StartRun to the stand-in)", "api_call_time"),
        ("&nbsp;&nbsp;crhelper's answer: PUT to the presigned URL (moto, HTTPS)", "response_put_time"),
        ("&nbsp;&nbsp;the rest: mapping, validation, crhelper, logging", "handler_own_time"),
    )
    for label, key in parts:
        s = events[key]
        lines.append(f"| {label} | {s['p50_ms']:.2f} | {s['p90_ms']:.2f} | {s['p99_ms']:.2f} | {s['max_ms']:.2f} |")
    calls = events["api_calls_per_create"]
    lines.append("")
    lines.append(
        f"AWS API calls per Create: {calls['min']}–{calls['max']} (by operation: {events['api_calls_by_operation']}); "
        f"the stand-in received {events['stand_in_requests_by_operation']} with "
        f"{events['distinct_start_run_request_ids']} distinct requestIds; answers: {events['responses_by_status']}."
    )
    return "\n".join(lines)


def _targets_table(targets: list[dict[str, Any]]) -> str:
    lines = ["### Targets", "", "| Target | Measured | Met |", "|---|---|---|"]
    for target in targets:
        lines.append(f"| {target['target']} | {target['measured']} | {'yes' if target['met'] else '**no**'} |")
    return "\n".join(lines)


def _num(value: float) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"
