"""PlantGate benchmarks: generate seeded configs, time each measurement in its own process, print medians.

Why it exists: performance is measured here, never in timed tests. The machine is noisy,
so every measurement is repeated (``--repeat``, default 5) and the table shows the median
with the min-max spread, next to the target. The Aerleon ``aclcheck`` comparison runs in
the same invocation, on the same packets, and its ratio is printed with the verdict
agreement (the tools must agree on every packet, or the comparison means nothing).

    .venv/bin/python bench/run.py            # full sizes (a few minutes)
    .venv/bin/python bench/run.py --quick    # small sizes, under a minute (smoke test)
    .venv/bin/python bench/run.py --profile permitted   # cProfile one measurement
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aerleon_side import build_aerleon_policy, make_packets, render_asa
from generate import DEFAULT_OUT, generate, generate_change, write_packets
from plant_model import build_policy

BENCH_DIR = Path(__file__).resolve().parent
MB = 1024.0


@dataclass
class Row:
    """One line of the result table."""

    label: str
    target_s: float | None
    result: dict[str, Any]

    @property
    def median(self) -> float | None:
        times = self.result.get("times") or []
        return statistics.median(times) if times else None

    def spread(self) -> str:
        times = self.result.get("times") or []
        return f"{min(times):.3f}-{max(times):.3f}" if times else "-"

    def status(self) -> str:
        if "error" in self.result:
            return "ERROR"
        if self.median is None:
            return "n/a"
        if self.target_s is None:
            return "info"
        return "ok" if self.median < self.target_s else "MISSED"

    def peak_mb(self) -> float:
        return max(self.result.get("maxrss_kb", 0), self.result.get("children_maxrss_kb", 0)) / MB


def measure(name: str, params: dict[str, Any], profile: int = 0) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; errors come back as {"error": text}."""
    if profile:
        params = {**params, "profile": profile}
    done = subprocess.run([sys.executable, str(BENCH_DIR / "measure.py"), name, json.dumps(params)],
                          capture_output=True, text=True, check=False)
    if profile:
        sys.stderr.write(done.stderr)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def git_revision() -> str:
    done = subprocess.run(["git", "-C", str(BENCH_DIR.parent), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "-C", str(BENCH_DIR.parent), "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True, check=False)
    return done.stdout.strip() + (" (src has uncommitted changes)" if dirty.stdout.strip() else "")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and 3 repeats (smoke test)")
    parser.add_argument("--repeat", type=int, help="runs per measurement (default 5, quick 3)")
    parser.add_argument("--parse-rules", type=int, help="rules of the parse configs (default 20000)")
    parser.add_argument("--analysis-rules", type=int, help="rules of the analysed ASA ruleset (default 10000)")
    parser.add_argument("--aerleon-rules", type=int, help="policy rules of the Aerleon comparison (default 1000)")
    parser.add_argument("--packets", type=int, help="packets answered by both tools (default 1000)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds after which a measurement stops repeating (at least 1 run)")
    parser.add_argument("--changes", type=int, default=50, help="edits in the candidate configs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where generated files go (gitignored)")
    parser.add_argument("--only", nargs="+", help="run only these measurements (names as in --profile)")
    parser.add_argument("--profile", metavar="NAME", help="cProfile one measurement, print the top 25 to stderr")
    args = parser.parse_args()
    quick = args.quick
    args.repeat = args.repeat or (3 if quick else 5)
    args.parse_rules = args.parse_rules or (2_000 if quick else 20_000)
    args.analysis_rules = args.analysis_rules or (1_000 if quick else 10_000)
    args.aerleon_rules = args.aerleon_rules or (200 if quick else 1_000)
    args.packets = args.packets or (200 if quick else 1_000)
    if quick and args.budget == 60.0:
        args.budget = 20.0
    return args


def print_header(args: argparse.Namespace) -> None:
    command = " ".join(shlex.quote(a) for a in [os.path.relpath(sys.executable), *sys.argv])
    print(f"# PlantGate benchmark  {dt.datetime.now().isoformat(timespec='seconds')}")
    print(f"command: {command}")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
          f"git {git_revision()}; load average {os.getloadavg()[0]:.1f} (other work on the machine skews timings)")
    print(f"sizes: parse {args.parse_rules} rules, analysis {args.analysis_rules} rules, "
          f"Aerleon policy {args.aerleon_rules} rules, {args.packets} packets, {args.changes} edits; "
          f"median of {args.repeat} runs (fewer once a measurement has spent {args.budget:g} s), "
          f"each measurement in its own process; files in {args.out}")


def prepare(args: argparse.Namespace) -> dict[str, str]:
    """Generate every input file; returns their paths by role."""
    start = time.perf_counter()
    out, files = args.out, {}
    for vendor in ("asa", "fortigate", "panos"):
        files[f"parse_{vendor}"] = str(generate(vendor, args.parse_rules, out, args.seed))
    current, closing, mixed = generate_change(args.analysis_rules, out, args.seed, args.changes)
    files.update(current=str(current), closing=str(closing), mixed=str(mixed))
    model = build_policy(args.aerleon_rules, args.seed + 1)
    policy_dict, definitions = build_aerleon_policy(model)
    aerleon_asa = out / f"aerleon-{args.aerleon_rules}-s{args.seed + 1}.asa"
    aerleon_asa.write_text(render_asa(policy_dict, definitions), encoding="utf-8")
    files["aerleon_asa"] = str(aerleon_asa)
    files["packets"] = str(write_packets(make_packets(model, args.packets), out / f"packets-{args.packets}.csv"))
    print(f"generated inputs in {time.perf_counter() - start:.1f} s")
    return files


def plan(args: argparse.Namespace, files: dict[str, str]) -> list[tuple[str, str, float | None, dict[str, Any]]]:
    """(name, label, target seconds, params) of every measurement, in table order."""
    p, a, r = args.parse_rules, args.analysis_rules, args.repeat
    plantgate = str(Path(sys.executable).with_name("plantgate"))
    test = {"config": files["aerleon_asa"], "packets": files["packets"], "repeat": r}
    return [
        ("parse_asa", f"parse and normalise a {p:,}-rule ASA config", 2.0,
         {"path": files["parse_asa"], "vendor": "asa", "repeat": r}),
        ("parse_fortigate", f"parse a {p:,}-rule FortiGate config", 3.0,
         {"path": files["parse_fortigate"], "vendor": "fortigate", "repeat": r}),
        ("parse_panos", f"parse a {p:,}-rule PAN-OS XML config", 3.0,
         {"path": files["parse_panos"], "vendor": "panos", "repeat": r}),
        ("aclcheck", f"Aerleon aclcheck, {args.packets:,} packets", None,
         {"rules": args.aerleon_rules, "seed": args.seed + 1, "packets": files["packets"], "repeat": r}),
        ("fw_test_cli", f"plantgate fw test --packets, {args.packets:,} packets (CLI, end to end)", None,
         {**test, "plantgate": plantgate}),
        ("fw_test_library", f"plantgate evaluate_batch, {args.packets:,} packets (library)", None, test),
        ("permitted", f"permitted sets for every filter of a {a:,}-rule ruleset", 3.0,
         {"path": files["current"], "repeat": r}),
        ("diff", f"diff of two {a:,}-rule rulesets, after build", 1.0,
         {"old": files["current"], "new": files["mixed"], "repeat": r}),
        ("lint", f"lint of {a:,} rules", 10.0, {"path": files["current"], "repeat": r}),
        ("prove_closing", f"prove-closing end to end, two {a:,}-rule configs (closing change)", 2.0,
         {"current": files["current"], "candidate": files["closing"], "repeat": r}),
        ("prove_refusing", f"prove-closing end to end, two {a:,}-rule configs (opening change)", 2.0,
         {"current": files["current"], "candidate": files["mixed"], "repeat": r}),
    ]


WORKER = {"parse_asa": "parse", "parse_fortigate": "parse", "parse_panos": "parse", "prove_refusing": "prove_closing"}


TABLE_HEAD = ("| measurement | target | median s | min-max s | runs | peak RSS MB | status | notes |\n"
              + "|---" * 8 + "|")


def table_line(row: Row) -> str:
    median = f"{row.median:.3f}" if row.median is not None else "-"
    target = f"< {row.target_s:g} s" if row.target_s is not None else "-"
    notes = row.result.get("error") or ", ".join(f"{k}={v}" for k, v in row.result.get("info", {}).items())
    return (f"| {row.label} | {target} | {median} | {row.spread()} | {len(row.result.get('times') or [])} "
            f"| {row.peak_mb():.0f} | {row.status()} | {notes} |")


def print_table(rows: list[Row]) -> None:
    print("\nResults (medians):")
    print(TABLE_HEAD)
    for row in rows:
        print(table_line(row))
    peak = max(row.peak_mb() for row in rows)
    worst = max(rows, key=Row.peak_mb)
    print(f"| peak memory (max ru_maxrss over the measurements) | < 1 GB | {peak:.0f} MB | - | - | {peak:.0f} | "
          f"{'ok' if peak < 1024 else 'MISSED'} | largest: {worst.label} |")


def print_comparison(rows: dict[str, Row]) -> None:
    """Ratios and verdict agreement of Aerleon aclcheck vs PlantGate on the same packets."""
    aer, cli, lib = rows.get("aclcheck"), rows.get("fw_test_cli"), rows.get("fw_test_library")
    if not (aer and cli and lib) or None in (aer.median, cli.median, lib.median):
        print("\nAerleon comparison incomplete (see the table).")
        return
    assert aer.median is not None and cli.median is not None and lib.median is not None
    verdicts = [r.result["verdicts"] for r in (aer, cli, lib)]
    agree = sum(a == b == c for a, b, c in zip(*verdicts, strict=True))
    permits = sum(verdicts[0])
    load_s = aer.result["info"]["load_s"]
    parse_s = lib.result["info"]["parse_s"]
    print("\nSide by side on the same packets (Aerleon policy -> Aerleon ciscoasa -> PlantGate ASA parser):")
    print(f"  verdicts: {agree}/{len(verdicts[0])} packets agree across aclcheck, fw test CLI and evaluate "
          f"({permits} permitted){'' if agree == len(verdicts[0]) else '  <-- DISAGREEMENT'}")
    print(f"  aclcheck loop {aer.median:.3f} s vs PlantGate evaluate_batch {lib.median:.3f} s: "
          f"PlantGate takes {lib.median / aer.median:.2f}x the time of aclcheck "
          f"(one-packet evaluate loop: {lib.result['info']['loop_s']:.3f} s, same verdicts)")
    print(f"  aclcheck load+loop {load_s + aer.median:.3f} s vs `plantgate fw test --packets` end to end "
          f"{cli.median:.3f} s (incl. interpreter start and parse {parse_s:.3f} s): "
          f"{cli.median / (load_s + aer.median):.2f}x")
    print(f"  note: aclcheck walks {aer.result['info']['terms']} terms; PlantGate walks the "
          f"{lib.result['info']['aces']} ACEs Aerleon rendered from them (groups expanded per address/port).")


def main() -> None:
    args = parse_args()
    print_header(args)
    files = prepare(args)
    rows: dict[str, Row] = {}
    for name, label, target, params in plan(args, files):
        if args.profile and name != args.profile:
            continue
        if args.only and name not in args.only:
            continue
        params = {**params, "budget_s": args.budget}
        result = measure(WORKER.get(name, name), params, profile=25 if args.profile else 0)
        if name == "lint" and "unavailable" in result.get("info", {}):
            label += " (lint not available)"
        rows[name] = Row(label, target, result)
        print("  done: " + table_line(rows[name]), flush=True)
    print_table(list(rows.values()))
    print_comparison(rows)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
