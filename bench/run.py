"""PlantGate benchmarks: generate seeded configs, time each measurement in its own process, print medians.

Why it exists: performance is measured here, never in timed tests. The machine is noisy,
so every measurement is repeated (``--repeat``, default 5) and the table shows the median
with the min-max spread, next to the target. The Aerleon ``aclcheck`` comparison runs in
the same invocation, on the same packets, and its ratio is printed with the verdict
agreement (the tools must agree on every packet, or the comparison means nothing).

    .venv/bin/python bench/run.py            # full sizes (a few minutes)
    .venv/bin/python bench/run.py --quick    # small sizes, under a minute (smoke test)
    .venv/bin/python bench/run.py --profile permitted   # cProfile one measurement
    .venv/bin/python bench/run.py --only nat            # the NAT rows (ASA, FortiGate, PAN-OS)
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

from aerleon_corpus import corpus_change, corpus_config, corpus_packets
from aerleon_corpus import write_packets as write_corpus_packets
from aerleon_side import build_aerleon_policy, make_packets, render_asa
from bench_estate import write_estate
from generate import DEFAULT_OUT, generate, generate_change, generate_nat_change, write_packets
from plant_model import build_policy

BENCH_DIR = Path(__file__).resolve().parent
MB = 1024.0


@dataclass
class Row:
    """One line of the result table; a whole-command row may have a peer and a memory target."""

    label: str
    target_s: float | None
    result: dict[str, Any]
    peer: Row | None = None
    min_ratio: float | None = None
    """The row must be at least this many times faster than its peer."""
    max_tree_mb: float | None = None

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
        missed = self.median > self.target_s
        ratio = self.ratio()
        if self.min_ratio is not None and (ratio is None or ratio < self.min_ratio):
            missed = True
        if self.max_tree_mb is not None and self.result.get("info", {}).get("tree_mb", 0) > self.max_tree_mb:
            missed = True
        return "MISSED" if missed else "ok"

    def ratio(self) -> float | None:
        """How many times faster than the peer (peer median / this median)."""
        if self.peer is None or self.peer.median is None or not self.median:
            return None
        return self.peer.median / self.median

    def peak_mb(self) -> float:
        return max(self.result.get("maxrss_kb", 0), self.result.get("children_maxrss_kb", 0)) / MB


def measure(name: str, params: dict[str, Any], profile: int = 0) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; errors come back as {"error": text}.

    ``peer_parse`` runs ``peer_parse.py`` under the peers' own Python (``params["python"]``).
    """
    if profile:
        params = {**params, "profile": profile}
    if name == "peer_parse":
        if not Path(params["python"]).exists():
            return {"error": f"no peer environment at {params['python']}: see bench/README.md, 'Peers'"}
        argv = [params["python"], str(BENCH_DIR / "peer_parse.py"), json.dumps(params)]
    else:
        argv = [sys.executable, str(BENCH_DIR / "measure.py"), name, json.dumps(params)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
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
    parser.add_argument("--nat-rules", type=int, help="NAT entries of the NAT rows' configs (default 1000)")
    parser.add_argument("--changes", type=int, default=50, help="edits in the candidate configs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where generated files go (gitignored)")
    parser.add_argument("--only", nargs="+", help="run only these measurements (names as in --profile; "
                        "'commands' is every whole-command row, 'nat' every NAT row, 'library' every other row)")
    parser.add_argument("--command-terms", type=int, help="terms of the fw show configs (default 20000)")
    parser.add_argument("--command-analysis-terms", type=int,
                        help="terms of the fw test/diff/prove-closing ASA configs (default 10000)")
    parser.add_argument("--command-packets", type=int, help="packets of the fw test row (default 100000)")
    parser.add_argument("--estate-rules", type=int, help="rules per firewall of the check site (default 5000)")
    parser.add_argument("--peer-python", type=Path, default=DEFAULT_OUT / "peer-venv" / "bin" / "python",
                        help="Python of the virtual environment holding the peers (ciscoconfparse2)")
    parser.add_argument("--profile", metavar="NAME", help="cProfile one measurement, print the top 25 to stderr")
    args = parser.parse_args()
    quick = args.quick
    args.repeat = args.repeat or (3 if quick else 5)
    args.parse_rules = args.parse_rules or (2_000 if quick else 20_000)
    args.analysis_rules = args.analysis_rules or (1_000 if quick else 10_000)
    args.nat_rules = args.nat_rules or (100 if quick else 1_000)
    args.aerleon_rules = args.aerleon_rules or (200 if quick else 1_000)
    args.packets = args.packets or (200 if quick else 1_000)
    args.command_terms = args.command_terms or (1_000 if quick else 20_000)
    args.command_analysis_terms = args.command_analysis_terms or (1_000 if quick else 10_000)
    args.command_packets = args.command_packets or (5_000 if quick else 100_000)
    args.estate_rules = args.estate_rules or (500 if quick else 5_000)
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
          f"Aerleon policy {args.aerleon_rules} rules, {args.packets} packets, {args.changes} edits, "
          f"NAT rows {args.analysis_rules} rules with {args.nat_rules} NAT entries; "
          f"median of {args.repeat} runs (fewer once a measurement has spent {args.budget:g} s), "
          f"each measurement in its own process; files in {args.out}")
    print(f"whole commands: Aerleon renderings of {args.command_terms} terms (show) and {args.command_analysis_terms} "
          f"terms (test, diff, prove-closing), {args.command_packets} packets, a site of 10 firewalls x "
          f"{args.estate_rules} rules; peers from {args.peer_python}")


def byte_compile_plantgate() -> None:
    """Byte-compile the plantgate package the commands import, as pip does when it installs one.

    A user's Python writes ``__pycache__`` on a command's first run and reads it on every later
    one. This checkout is an editable install, and machines of this kind set
    PYTHONDONTWRITEBYTECODE: without this, every timed command would compile the whole package
    from source (about 0.25 s), a cost no user pays twice.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("plantgate")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(folder, quiet=1)


def prepare_commands(args: argparse.Namespace) -> dict[str, str]:
    """The whole-command rows' inputs: Aerleon renderings (kept between runs: SRX takes minutes), packets, a site."""
    start = time.perf_counter()
    byte_compile_plantgate()
    out, files = args.out, {}
    for vendor in ("asa", "fortigate", "panos", "srx"):
        files[f"show_{vendor}"] = str(corpus_config(vendor, args.command_terms, out, args.seed))
    current, closing, opening = corpus_change(args.command_analysis_terms, out, args.seed, args.changes)
    files.update(cmd_current=str(current), cmd_closing=str(closing), cmd_opening=str(opening))
    packets = out / f"packets-{args.command_analysis_terms}t-{args.command_packets}.csv"
    files["cmd_packets"] = str(write_corpus_packets(
        corpus_packets(args.command_analysis_terms, args.command_packets, args.seed), packets))
    site = out / f"estate-{args.estate_rules}"
    if not (site / "firewalls.yaml").exists():
        site.mkdir(parents=True, exist_ok=True)
        write_estate(site, args.estate_rules)
    files["estate"] = str(site)
    print(f"whole-command inputs ready in {time.perf_counter() - start:.1f} s")
    return files


def command_plan(args: argparse.Namespace, files: dict[str, str]) -> list[tuple[str, str, float | None,
                                                                                   dict[str, Any]]]:
    """(name, label, target seconds, params) of the whole-command rows and their peers, in table order.

    Params ``argv`` is the command; ``vs`` names the peer row it is compared with, ``min_ratio``
    how many times faster than that peer it must be, ``max_tree_mb`` its memory target.
    """
    pg = str(Path(sys.executable).with_name("plantgate"))
    py, peer_py = sys.executable, str(args.peer_python)
    t, a, r = args.command_terms, args.command_analysis_terms, args.repeat
    cisco_peer = "import sys\nfrom ciscoconfparse2 import CiscoConfParse\nCiscoConfParse(sys.argv[1], syntax='asa')"
    etree_peer = "import sys, xml.etree.ElementTree as ElementTree\nElementTree.parse(sys.argv[1])"

    def cmd(argv: list[str], **extra: Any) -> dict[str, Any]:
        return {"argv": argv, "repeat": r, **extra}

    return [
        ("cmd_help", "`plantgate --help`", 0.3, cmd([pg, "--help"])),
        ("peer_cisco_process", f"peer: ciscoconfparse2 bare parse of the {t:,}-term ASA, whole process", None,
         cmd([peer_py, "-c", cisco_peer, files["show_asa"]])),
        ("cmd_show_asa", f"`fw show` {t:,}-term ASA `--format json`", 1.5,
         cmd([pg, "fw", "show", files["show_asa"], "--format", "json"], vs="peer_cisco_process", min_ratio=2.5)),
        ("peer_cisco_library", f"peer: ciscoconfparse2 parse of the {t:,}-term ASA, in the library", None,
         {"peer": "ciscoconfparse2", "path": files["show_asa"], "repeat": r, "worker": "peer_parse",
          "python": peer_py}),
        ("lib_parse_asa", "the same ASA parse in the library (`parse_config`)", 0.8,
         {"path": files["show_asa"], "vendor": "asa", "repeat": r, "worker": "parse", "vs": "peer_cisco_library"}),
        ("cmd_show_fortigate", f"`fw show` {t:,}-term FortiGate, vendor detected", 2.0,
         cmd([pg, "fw", "show", files["show_fortigate"], "--format", "json"])),
        ("peer_etree_process", f"peer: xml.etree parse of the {t:,}-term PAN-OS XML, whole process", None,
         cmd([py, "-c", etree_peer, files["show_panos"]])),
        ("cmd_show_panos", f"`fw show` {t:,}-term PAN-OS XML, vendor detected", 2.0,
         cmd([pg, "fw", "show", files["show_panos"], "--format", "json"], vs="peer_etree_process")),
        ("cmd_show_srx", f"`fw show` {t:,}-term SRX, vendor detected (no target; detection used to fail)", None,
         cmd([pg, "fw", "show", files["show_srx"], "--format", "json"])),
        ("cmd_fw_test", f"`fw test --packets`, {args.command_packets:,} packets x {a:,}-term ASA", 3.0,
         cmd([pg, "fw", "test", files["cmd_current"], "--packets", files["cmd_packets"], "--format", "json"])),
        ("cmd_fw_diff", f"`fw diff`, two {a:,}-term ASA configs ({args.changes} edits)", 2.0,
         cmd([pg, "fw", "diff", files["cmd_current"], files["cmd_opening"], "--format", "json"])),
        ("cmd_prove_closing", f"`change prove-closing`, {a:,} terms, closing change", 2.0,
         cmd([pg, "change", "prove-closing", files["cmd_current"], files["cmd_closing"], "--format", "json"])),
        ("cmd_prove_opening", f"`change prove-closing`, {a:,} terms, opening change (refused)", 2.0,
         cmd([pg, "change", "prove-closing", files["cmd_current"], files["cmd_opening"], "--format", "json"])),
        ("cmd_check", f"`check` on a site of 10 firewalls x {args.estate_rules:,} rules (all processes <= 1 GB)", 15.0,
         cmd([pg, "check", files["estate"], "--format", "json"], max_tree_mb=1024)),
    ]


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


NAT_VENDORS = (("asa", "ASA"), ("fortigate", "FortiGate"), ("panos", "PAN-OS XML"))


def prepare_nat(args: argparse.Namespace) -> dict[str, str]:
    """The NAT rows' inputs: per vendor a config with NAT and its closing candidate (same NAT)."""
    start = time.perf_counter()
    files = {}
    for vendor, _ in NAT_VENDORS:
        current, closing = generate_nat_change(vendor, args.analysis_rules, args.nat_rules, args.out, args.seed,
                                               args.changes)
        files.update({f"nat_{vendor}": str(current), f"nat_{vendor}_closing": str(closing)})
    print(f"generated NAT inputs in {time.perf_counter() - start:.1f} s")
    return files


def nat_plan(args: argparse.Namespace, files: dict[str, str]) -> list[tuple[str, str, float | None, dict[str, Any]]]:
    """(name, label, target seconds, params) of the NAT rows: parse, permitted sets through NAT, prove-closing."""
    a, n, r = args.analysis_rules, args.nat_rules, args.repeat
    rows: list[tuple[str, str, float | None, dict[str, Any]]] = []
    for vendor, title in NAT_VENDORS:
        base = {"vendor": vendor, "nat": n, "repeat": r}
        rows += [
            (f"nat_parse_{vendor}", f"parse a {a:,}-rule {title} config with {n:,} NAT rules", 3.0,
             {**base, "path": files[f"nat_{vendor}"]}),
            (f"nat_permitted_{vendor}", f"permitted sets through NAT, every zone pair, {a:,}-rule {title} "
             f"with {n:,} NAT rules", 3.0, {**base, "path": files[f"nat_{vendor}"]}),
            (f"nat_prove_{vendor}", f"prove-closing end to end, two {a:,}-rule {title} configs with the same "
             f"{n:,} NAT rules (closing change)", 2.0,
             {**base, "current": files[f"nat_{vendor}"], "candidate": files[f"nat_{vendor}_closing"]}),
        ]
    return rows


WORKER = {"parse_asa": "parse", "parse_fortigate": "parse", "parse_panos": "parse", "prove_refusing": "prove_closing",
          **{f"nat_{step}_{vendor}": f"nat_{step}" for vendor, _ in NAT_VENDORS
             for step in ("parse", "permitted", "prove")}}


TABLE_HEAD = ("| measurement | target | median s | min-max s | runs | peak RSS MB | status | notes |\n"
              + "|---" * 8 + "|")


def table_line(row: Row) -> str:
    median = f"{row.median:.3f}" if row.median is not None else "-"
    target = f"< {row.target_s:g} s" if row.target_s is not None else "-"
    notes = row.result.get("error") or ", ".join(f"{k}={v}" for k, v in row.result.get("info", {}).items())
    return (f"| {row.label} | {target} | {median} | {row.spread()} | {len(row.result.get('times') or [])} "
            f"| {row.peak_mb():.0f} | {row.status()} | {notes} |")


def print_table(rows: list[Row], title: str = "Results (medians):") -> None:
    print(f"\n{title}")
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


def wanted(args: argparse.Namespace, name: str, group: str) -> bool:
    if args.profile:
        return name == args.profile
    return not args.only or name in args.only or group in args.only


def run_commands(args: argparse.Namespace) -> list[Row]:
    """The whole-command rows: each command as a subprocess, its peer beside it, ok/MISSED by its targets."""
    files = prepare_commands(args)
    rows: dict[str, Row] = {}
    plan_rows = command_plan(args, files)
    needed = {name for name, *_ in plan_rows if wanted(args, name, "commands")}
    needed |= {params["vs"] for name, _, _, params in plan_rows if name in needed and "vs" in params}
    out_dir = args.out / "command-output"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, label, target, params in plan_rows:
        if name not in needed:
            continue
        worker = params.get("worker", "command")
        peer = rows.get(params["vs"]) if "vs" in params else None
        run_params = {k: v for k, v in params.items() if k not in ("worker", "vs", "min_ratio", "max_tree_mb")}
        run_params.update(budget_s=args.budget, name=name, out_dir=str(out_dir),
                          memory_apart="max_tree_mb" in params)  # memory sampled in a run of its own
        result = measure(worker, run_params, profile=25 if args.profile else 0)
        rows[name] = Row(label, target, result, peer, params.get("min_ratio"), params.get("max_tree_mb"))
        print("  done: " + command_line(rows[name]), flush=True)
    return list(rows.values())


def run_nat(args: argparse.Namespace) -> list[Row]:
    """The NAT rows, each measurement in its own process, as the library rows."""
    files = prepare_nat(args)
    rows = []
    for name, label, target, params in nat_plan(args, files):
        if not wanted(args, name, "nat"):
            continue
        result = measure(WORKER[name], {**params, "budget_s": args.budget}, profile=25 if args.profile else 0)
        rows.append(Row(label, target, result))
        print("  done: " + table_line(rows[-1]), flush=True)
    return rows


COMMAND_HEAD = ("| whole command | target | median s | min-max s | runs | peer median s | times faster "
                "| all processes MB | status | notes |\n" + "|---" * 10 + "|")


def command_line(row: Row) -> str:
    median = f"{row.median:.3f}" if row.median is not None else "-"
    target = f"<= {row.target_s:g} s" if row.target_s is not None else "-"
    if row.min_ratio is not None:
        target += f", >= {row.min_ratio:g}x peer"
    if row.max_tree_mb is not None:
        target += f", <= {row.max_tree_mb:g} MB"
    peer = f"{row.peer.median:.3f}" if row.peer is not None and row.peer.median is not None else "-"
    ratio = f"{row.ratio():.2f}x" if row.ratio() is not None else "-"
    info = row.result.get("info", {})
    tree = str(info.get("tree_mb", "-"))
    notes = row.result.get("error") or ", ".join(f"{k}={v}" for k, v in info.items() if k != "tree_mb")
    return (f"| {row.label} | {target} | {median} | {row.spread()} | {len(row.result.get('times') or [])} "
            f"| {peer} | {ratio} | {tree} | {row.status()} | {notes} |")


def print_commands(rows: list[Row]) -> None:
    print("\nWhole commands as a user types them (these rows decide ok/MISSED; medians):")
    print(COMMAND_HEAD)
    for row in rows:
        print(command_line(row))


def main() -> None:
    args = parse_args()
    print_header(args)
    command_rows = run_commands(args) if any(
        wanted(args, name, "commands") for name, *_ in command_plan(args, _placeholder_files())) else []
    rows: dict[str, Row] = {}
    if any(wanted(args, name, "library") for name, *_ in plan(args, _placeholder_files())):
        files = prepare(args)
        for name, label, target, params in plan(args, files):
            if not wanted(args, name, "library"):
                continue
            params = {**params, "budget_s": args.budget}
            result = measure(WORKER.get(name, name), params, profile=25 if args.profile else 0)
            if name == "lint" and "unavailable" in result.get("info", {}):
                label += " (lint not available)"
            rows[name] = Row(label, target, result)
            print("  done: " + table_line(rows[name]), flush=True)
    nat_rows = run_nat(args) if any(
        wanted(args, name, "nat") for name, *_ in nat_plan(args, _placeholder_files())) else []
    if command_rows:
        print_commands(command_rows)
    if rows:
        print_table(list(rows.values()))
        print_comparison(rows)
    if nat_rows:
        print_table(nat_rows, "With NAT (issue 20; medians):")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


class _placeholder_files(dict[str, str]):  # noqa: N801 - plans are listed by name before any file exists
    def __missing__(self, key: str) -> str:
        return ""


if __name__ == "__main__":
    main()
