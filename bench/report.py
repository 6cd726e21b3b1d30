"""The benchmark's outputs: JSON, a short markdown report and a latency-distribution SVG."""

import json
import math
from html import escape
from pathlib import Path
from typing import Any

TARGETS = {
    "1_rest_throughput": ("msg_per_s", ">=", 1000, "msg/s"),
    "2_ws_throughput": ("msg_per_s", ">=", 2000, "msg/s"),
    "3_open_loop_latency": ("latency_ms.p99", "<=", 50, "ms p99"),
    "3_open_loop_latency_ws": ("latency_ms.p99", "<=", 50, "ms p99"),
    "4_group_fan_out": ("latency_ms.p99", "<=", 200, "ms p99"),
    "5_idle_sockets": ("rss_per_connection_kb", "<=", 50, "KB/connection"),
    "6_search_rare_all": ("p95", "<=", 50, "ms p95"),
    "6_search_common_all": ("p95", "<=", 150, "ms p95"),
}

TITLES = {
    "1_rest_throughput": "1:1 via POST /chat/send",
    "2_ws_throughput": "1:1 via /ws message frames",
    "3_open_loop_latency": "open loop, fixed rate, POST /chat/send",
    "3_open_loop_latency_ws": "open loop, fixed rate, /ws frames",
    "4_group_fan_out": "group fan-out (all members)",
    "5_idle_sockets": "idle sockets",
    "6_search": "search over a million messages (details)",
    "6_search_rare_all": "search, rare term, all my conversations, first page",
    "6_search_common_all": "search, common term, all my conversations, first page",
    "7_request_floor": "the request floor: server CPU of a near-empty request against a send",
}

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#17becf", "#9467bd", "#ff7f0e"]


def _get(result: dict, dotted: str) -> Any:
    value: Any = result
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def verdict(name: str, result: dict) -> tuple[Any, str]:
    field, op, limit, _unit = TARGETS[name]
    value = _get(result, field)
    if value is None:
        return value, "n/a"
    met = value >= limit if op == ">=" else value <= limit
    return value, "met" if met else "missed"


def latency_svg(series: dict[str, list[float]], *, width: int = 720, height: int = 360) -> str:
    """Latency CDF per scenario: x = latency (ms, log scale), y = share of messages."""
    series = {name: sorted(v * 1000 for v in values) for name, values in series.items() if values}
    left, right, top, bottom = 60, 20, 20, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    all_values = [v for values in series.values() for v in values]
    low = max(0.1, min(all_values)) if all_values else 0.1
    high = max(all_values) if all_values else 1000
    lo_exp, hi_exp = math.floor(math.log10(low)), math.ceil(math.log10(max(high, low * 10)))

    def x(ms: float) -> float:
        ms = max(ms, 10**lo_exp)
        return left + (math.log10(ms) - lo_exp) / (hi_exp - lo_exp) * plot_w

    def y(share: float) -> float:
        return top + (1 - share) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for exp in range(lo_exp, hi_exp + 1):
        for mult in (1, 2, 5):
            ms = mult * 10**exp
            if ms > 10**hi_exp:
                continue
            px = x(ms)
            parts.append(
                f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{top + plot_h}" '
                f'stroke="{"#ccc" if mult == 1 else "#eee"}"/>'
            )
            if mult == 1 or hi_exp - lo_exp <= 3:
                parts.append(
                    f'<text x="{px:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{ms:g}</text>'
                )
    for share in (0, 0.5, 0.9, 0.99, 1):
        py = y(share)
        parts.append(
            f'<line x1="{left}" y1="{py:.1f}" x2="{left + plot_w}" y2="{py:.1f}" stroke="#eee"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{py + 4:.1f}" text-anchor="end">{share:g}</text>')
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">'
        "send → receive latency, ms (log scale)</text>"
    )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
        'text-anchor="middle">share of messages</text>'
    )
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        step = max(1, len(values) // 400)
        points = [(x(v), y((i + 1) / len(values))) for i, v in enumerate(values)][::step]
        points.append((x(values[-1]), y(1)))
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        ly = top + 14 + index * 16
        parts.append(
            f'<line x1="{left + 10}" y1="{ly - 4}" x2="{left + 30}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(f'<text x="{left + 36}" y="{ly}">{escape(TITLES.get(name, name))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _inline(value: dict[str, Any]) -> str:
    return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())


def markdown(results: dict[str, Any], *, plot_name: str) -> str:
    machine, stack, config = results["machine"], results["stack"], results["config"]
    lines = [
        f"# Benchmark: {results['label']}",
        "",
        f"Run {results['started_at']} with `make bench` ({results['seconds']:.0f} s).",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GiB, "
        f"{machine['kernel']}; Python {machine['python']}; {machine.get('postgres') or 'SQLite'}; "
        f"{machine.get('redis') or 'no Redis'}. Load generator, server, database and Redis on "
        "the same machine, loopback only.",
        "",
        f"Server: {stack['server']}, {stack['workers']} worker(s), {stack['database']}, "
        f"{stack['channel_layer']} channel layer; `IM_THROTTLE=0`.",
        "",
        "| scenario | result | target | |",
        "|---|---|---|---|",
    ]
    scenarios = results["scenarios"]
    for name, (_field, op, limit, unit) in TARGETS.items():
        if name not in scenarios:
            continue
        value, state = verdict(name, scenarios[name])
        lines.append(f"| {TITLES[name]} | {_fmt(value)} {unit} | {op} {limit} | {state} |")
    lines += ["", "## Details", ""]
    for name, result in scenarios.items():
        lines.append(f"**{TITLES.get(name, name)}**")
        lines.append("")
        for key, value in result.items():
            if key.startswith("_"):
                continue
            if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
                lines.append(f"- {key}:")
                lines += [f"  - {k}: {_inline(v)}" for k, v in value.items()]
                continue
            if isinstance(value, dict):
                value = _inline(value)
            lines.append(f"- {key}: {_fmt(value)}")
        lines.append("")
    if plot_name:
        lines += [f"![latency distribution]({plot_name})", ""]
    lines += [
        f"Configuration: `{json.dumps(config, sort_keys=True)}`",
        "",
    ]
    return "\n".join(lines)


def write(results: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    label = results["label"]
    series = {
        name: result.get("_latencies", [])
        for name, result in results["scenarios"].items()
        if result.get("_latencies")
    }
    clean = {
        **results,
        "scenarios": {
            name: {k: v for k, v in result.items() if not k.startswith("_")}
            for name, result in results["scenarios"].items()
        },
    }
    json_path = out_dir / f"{label}.json"
    json_path.write_text(json.dumps(clean, indent=2, ensure_ascii=False) + "\n")
    written = [json_path]
    plot_name = ""
    if series:  # scenario 6 alone has no delivery latencies to plot
        svg_path = out_dir / f"{label}-latency.svg"
        svg_path.write_text(latency_svg(series) + "\n")
        plot_name = svg_path.name
        written.append(svg_path)
    md_path = out_dir / f"{label}.md"
    md_path.write_text(markdown(clean, plot_name=plot_name))
    return [*written, md_path]
