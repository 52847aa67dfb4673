"""The run's record: machine and version facts, a JSON file, and a Markdown table for the
benchmark pages (docs/benchmarks/)."""

import json
import os
import platform
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

from app.config import Settings
from app.db.migrations import PROJECT_ROOT
from bench.experiments import metrics_cost

# The benchmark sets its own database URL, which may hold a password.
UNRECORDED_SETTINGS = {"DATABASE_URL"}


def git(*args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        # --no-optional-locks: reading the commit must never rewrite the index.
        return subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=PROJECT_ROOT, capture_output=True, text=True
        )
    except OSError:
        return None


def machine(started: datetime) -> dict[str, Any]:
    """Facts that a figure needs beside it to mean anything."""
    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("diff", "--quiet", "HEAD")
    return {
        "date": started.isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "git_commit": commit.stdout.strip() if commit and commit.returncode == 0 else None,
        "git_dirty": None if dirty is None or dirty.returncode > 1 else dirty.returncode == 1,
        "folio_environment": folio_environment(),
    }


def folio_environment() -> dict[str, str]:
    """The Folio settings this run's environment passes to the servers it starts, such as
    `POOL_PRE_PING=false`: a figure measured with a setting changed must say so."""
    names = {name.upper() for name in Settings.model_fields} - UNRECORDED_SETTINGS
    return {name: value for name, value in sorted(os.environ.items()) if name.upper() in names}


def changed_settings(facts: dict[str, Any]) -> str:
    """`, with POOL_PRE_PING=false` for a run whose environment changed settings, else ''."""
    changed = facts.get("folio_environment") or {}
    return ", with " + ", ".join(f"{k}={v}" for k, v in changed.items()) if changed else ""


def ratios(workloads: list[dict[str, Any]], baselines: dict[str, dict[str, Any]]) -> None:
    """Set each workload's `vs_baseline`: its requests/s over its baseline's."""
    for workload in workloads:
        base = baselines.get(workload["baseline"] or "")
        if base is not None and base["load"]["rps"]:
            workload["vs_baseline"] = round(workload["load"]["rps"] / base["load"]["rps"], 3)
        else:
            workload["vs_baseline"] = None


def write_json(results: dict[str, Any], directory: Path, started: datetime) -> Path:
    settings, kind = results["settings"], results["database"]["kind"]
    name = f"{started:%Y-%m-%dT%H%M%S}-scale{settings['scale']}-{kind}-{settings['workers']}w.json"
    return write_file(results, directory / name)


def write_file(results: dict[str, Any], path: Path) -> Path:
    """Write a run's results as indented JSON, making the folder if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def table_head(*columns: str) -> list[str]:
    """A Markdown table's first two lines; every column after the first is right-aligned."""
    return [f"| {' | '.join(columns)} |", "|---|" + "---:|" * (len(columns) - 1)]


def rounds_heading(started: datetime, setup: str, rounds: int) -> str:
    """The line above a table of medians over rounds: when, which commit, how it was run."""
    facts = machine(started)
    return (
        f"{started:%Y-%m-%d %H:%M} UTC, commit {facts['git_commit']}{changed_settings(facts)},"
        f" {setup}, {rounds} round(s); medians of the rounds."
    )


def cell(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def latency(load: dict[str, Any], key: str, kind: str = "latency_ms") -> Any:
    summary = load.get(kind)
    return None if summary is None else summary[key]


def table(results: dict[str, Any]) -> str:
    """The Markdown summary: one row per workload, baselines first."""
    facts, settings, database = results["machine"], results["settings"], results["database"]
    kind = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[database["kind"]]
    lines = [
        f"Folio on {kind} {database['version']}, {settings['workers']} worker(s);"
        f" baseline on SQLite {facts['sqlite']}, as many workers.",
        f"{facts['date']}: {facts['cpu_count']} cores, Python {facts['python']},"
        f" commit {facts['git_commit']}{' (uncommitted changes)' if facts['git_dirty'] else ''}"
        f"{changed_settings(facts)}.",
        f"{results['dataset']['books']:,} books, {results['dataset']['authors']:,} authors;"
        f" {settings['connections']} connections"
        f" (16 for creates), {settings['duration']:g} s per workload,"
        f" load tool {settings['tool']}.",
        "",
        "| workload | req/s | vs baseline | p50 ms | p99 ms | non-2xx | SQL/req | RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [*results["baselines"].values(), *results["workloads"]]
    for row in rows:
        load = row["load"]
        ratio = row.get("vs_baseline")
        lines.append(
            "| "
            + " | ".join(
                [
                    row["name"],
                    cell(load["rps"]),
                    "–" if ratio is None else f"{ratio:.2f}×",
                    cell(latency(load, "p50")),
                    cell(latency(load, "p99")),
                    cell(load["non_2xx"]),
                    cell(row.get("sql_per_request")),
                    cell(row.get("rss_mib_after")),
                ]
            )
            + " |"
        )
    lines.extend(notes(results))
    for row in results["workloads"]:
        if row.get("open_loop"):
            lines.extend(open_loop_table(row, results["workloads"]))
    if results.get("compare"):
        lines.extend(compare_table(results["compare"], results["settings"]))
    return "\n".join(lines)


def open_loop_table(row: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The open-loop mix's reads and writes apart, with the rate it was sent at."""
    load = row["load"]
    closed = next((r for r in rows if f"half of {r['name']}" == row.get("rate_from")), None)
    source = (
        f"half the closed loop's {cell(closed['load']['rps'])}"
        if closed is not None
        else "set by --open-rate"
    )
    lines = [
        "",
        f"{row['name']}: {cell(load['rate'])} requests/s scheduled ({source}),"
        f" {load['arrivals'].capitalize()} arrivals; latency from each request's scheduled"
        " send time to its answer.",
        "",
        *table_head(row["name"], "answered", "p50 ms", "p99 ms"),
    ]
    for kind, count in (("read", load["reads"]), ("write", load["writes"])):
        summary = load[f"{kind}_latency_ms"] or {}
        p50, p99 = cell(summary.get("p50")), cell(summary.get("p99"))
        lines.append(f"| {kind}s | {cell(count)} | {p50} | {p99} |")
    lag = load["send_lag_ms"] or {}
    lines += [
        "",
        f"- Scheduled {cell(load['scheduled'])} ({cell(load['sent_rps'])}/s), answered"
        f" {cell(load['requests'])}; unanswered {cell(load['unanswered'])}, non-2xx"
        f" {cell(load['non_2xx'])}; sent late by p99 {cell(lag.get('p99'), 2)} ms;"
        f" {cell(load['connections_opened'])} connections opened.",
    ]
    return lines


# The other apps of `--compare`, as the table names them.
OTHER_APPS = {
    "plain": "the plain SQLModel app (`bench/plain_app.py`)",
    "alchemy": "advanced-alchemy's repository services (`bench/alchemy_app.py`)",
}


def compare_table(compared: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """Folio beside the other app: medians of the rounds, and the median Folio/other ratio."""
    rounds, other = len(compared["rounds"]), compared["against"]
    lines = [
        "",
        f"Folio beside {OTHER_APPS[other]} on the same database: uvicorn ({compared['http']}),"
        f" {compared['workers']} worker(s) each, Folio with AUTH_MODE=open and no rate limit;"
        f" {rounds} rounds of {settings['duration']:g} s per workload and side, the side going"
        " first taking turns; medians of the rounds.",
        "",
        *table_head(
            "workload",
            "Folio req/s",
            f"{other} req/s",
            f"Folio/{other}",
            "Folio p50 ms",
            f"{other} p50 ms",
            "Folio p99 ms",
            f"{other} p99 ms",
            "Folio SQL/req",
            f"{other} SQL/req",
        ),
    ]
    sql = compared.get("sql") or {}
    for name, figures in compared["workloads"].items():
        folio, theirs, ratio = figures["folio"], figures[other], figures["ratio"]
        counted = [sql.get(side, {}).get(name, {}).get("per_request") for side in ("folio", other)]
        cells = [
            name,
            cell(folio["rps"]),
            cell(theirs["rps"]),
            "–" if ratio is None else f"{ratio:.2f}×",
            cell(folio["p50_ms"]),
            cell(theirs["p50_ms"]),
            cell(folio["p99_ms"]),
            cell(theirs["p99_ms"]),
            *(cell(count) for count in counted),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for name, figures in compared["workloads"].items():
        folio, theirs = figures["folio"], figures[other]
        each = ", ".join(f"{ratio:.2f}×" for ratio in figures["ratios"])
        lines.append(
            f"- {name}: Folio/{other} by round {each}; server CPU per answer"
            f" {cell(folio['server_cpu_ms'], 2)} ms against {cell(theirs['server_cpu_ms'], 2)} ms;"
            f" non-2xx {folio['non_2xx']} against {theirs['non_2xx']}."
        )
    checked, found = compared["parity"]["checked"], compared["parity"]["differences"]
    same = [f"{kind} ({checked[kind]})" for kind, places in found.items() if not places]
    differ = [f"{kind} at {', '.join(places[:3])}" for kind, places in found.items() if places]
    lines.append(
        f"- Answers equal field by field: {', '.join(same) or 'none'}"
        + (f"; DIFFERENT: {'; '.join(differ)}." if differ else ".")
    )
    return lines


def notes(results: dict[str, Any]) -> list[str]:
    out = [""]
    for row in results["workloads"]:
        load = row["load"]
        if row.get("open_loop"):
            continue  # a table of its own, below
        if 0 < row["write_share"] < 1 and load.get("read_latency_ms"):
            reads, writes = load["read_latency_ms"], load["write_latency_ms"] or {}
            spread = reads["p99"] / reads["p50"] if reads["p50"] else None
            out.append(
                f"- {row['name']}: reads p50 {cell(reads['p50'])} ms, p99 {cell(reads['p99'])} ms"
                f" (p99/p50 {cell(spread, 2)}); writes p50 {cell(writes.get('p50'))} ms,"
                f" p99 {cell(writes.get('p99'))} ms, {cell(load['writes_per_s'])} writes/s."
            )
        elif row["write_share"] >= 1:
            out.append(f"- {row['name']}: {cell(load['writes_per_s'])} books created/s.")
    rss = results.get("rss_mib_at_start")
    if rss is not None:
        out.append(f"- Folio's resident memory at start: {cell(rss)} MiB.")
    if soaked := results.get("soak"):
        first, last = soaked["readings"]
        growth = "unknown" if soaked["growth"] is None else f"{soaked['growth']:+.1%}"
        out.append(
            f"- Memory over {soaked['requests']:,} requests of the {soaked['workload']} load:"
            f" {cell(first['rss_mib'])} MiB after {first['requests']:,},"
            f" {cell(last['rss_mib'])} MiB at the end ({growth});"
            f" non-2xx {soaked['non_2xx']}."
        )
    for priced in results.get("metrics_cost") or []:
        out.append(metrics_cost.describe(priced))
        if priced.get("in_process"):
            out.append(metrics_cost.describe_in_process(priced["workload"], priced["in_process"]))
    same = [kind for kind, equal in results["parity"].items() if equal]
    differ = [kind for kind, equal in results["parity"].items() if not equal]
    out.append(
        f"- Baseline answers equal Folio's: {', '.join(same) or 'none'}"
        + (f"; DIFFERENT: {', '.join(differ)}." if differ else ".")
    )
    busy = [
        row["name"] for row in results["workloads"] if (row["load"]["client_cpu_share"] or 0) > 0.8
    ]
    if busy:
        out.append(f"- The load tool used over 80% of a core during: {', '.join(busy)}.")
    return out
