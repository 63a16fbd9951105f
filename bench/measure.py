"""One benchmark measurement per process: time it several times, report JSON with peak memory.

Why a process per measurement: peak memory (``ru_maxrss``) only ever grows, so it can be
attributed to one measurement only when that measurement has the process to itself; and
a fresh interpreter keeps caches of one measurement from flattering the next.

    .venv/bin/python bench/measure.py NAME '{"path": ..., "repeat": 5}'

prints one JSON line: ``{"times": [...], "info": {...}, "maxrss_kb": N, "children_maxrss_kb": N}``.
Only the work named in each function's docstring is inside the timed region.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plantgate.firewalls.base import parse_config
from plantgate.firewalls.ruleset import Ruleset
from plantgate.netspace import PacketSpace, diff_rulesets, evaluate, is_subset, permitted_sets

Params = dict[str, Any]
Result = dict[str, Any]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _repeat(params: Params, run: Callable[[], tuple[float, Any]]) -> tuple[list[float], Any]:
    """Call ``run`` (returning (seconds, value)) ``repeat`` times, or fewer once ``budget_s`` is spent."""
    times: list[float] = []
    value: Any = None
    spent_from = time.perf_counter()
    for _ in range(params["repeat"]):
        elapsed, value = run()
        times.append(elapsed)
        if time.perf_counter() - spent_from > params.get("budget_s", float("inf")):
            break
    return times, value


def _source_rules(ruleset: Ruleset) -> int:
    """Rules as written (filters that combine others reuse the same Rule objects)."""
    return len({(rule.span.file, rule.span.line) for _, rule in ruleset.all_rules()})


def parse(params: Params) -> Result:
    """Timed: ``parse_config(path, vendor)`` (read, parse, normalise)."""
    times, ruleset = _repeat(params, lambda: _timed(lambda: parse_config(params["path"], params["vendor"])))
    return {"times": times, "info": {"rules": _source_rules(ruleset), "filters": len(ruleset.filters),
                                     "warnings": len(ruleset.warnings), "zones": len(ruleset.zones)}}


def permitted(params: Params) -> Result:
    """Timed: what ``plantgate check`` runs for a firewall, in a fresh PacketSpace each time:
    ``prefold`` (the filters folded on every core), then ``permitted_sets`` of every policy key.

    One serial ``permitted_sets`` run is reported beside it as ``serial_s`` and must give the
    very same sets (packet counts per key); ``workers_mb`` is the largest child's peak RSS.
    """
    from plantgate.netspace.cores import usable_cores
    from plantgate.netspace.prefold import prefold

    ruleset = parse_config(params["path"], "asa")

    def on_every_core() -> dict[Any, Any]:
        space = PacketSpace()
        prefold(space, [ruleset])
        return permitted_sets(space, ruleset)

    times, sets = _repeat(params, lambda: _timed(on_every_core))
    serial_s, serial = _timed(lambda: permitted_sets(PacketSpace(), ruleset))
    if {key: flows.count() for key, flows in sets.items()} != {key: flows.count() for key, flows in serial.items()}:
        raise RuntimeError("the permitted sets folded on every core differ from the serial ones")
    workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return {"times": times, "info": {"rules": _source_rules(ruleset), "keys": len(sets), "workers": usable_cores(),
                                     "serial_s": round(serial_s, 3), "workers_mb": workers_mb}}


def diff(params: Params) -> Result:
    """Timed: ``diff_rulesets`` only; both rulesets' permitted sets are built once first, untimed.

    Building takes far longer than the diff, so all runs share one built space; the first
    run's time (cold CUDD operation cache) is reported apart as ``first_s``.
    """
    old, new = parse_config(params["old"], "asa"), parse_config(params["new"], "asa")
    space = PacketSpace()
    build_s, _ = _timed(lambda: (permitted_sets(space, old), permitted_sets(space, new)))
    times, result = _repeat(params, lambda: _timed(lambda: diff_rulesets(space, old, new)))
    return {"times": times, "info": {"opened": len(result.opened), "closed": len(result.closed),
                                     "first_s": round(times[0], 3), "build_s": round(build_s, 1)}}


def lint(params: Params) -> Result:
    """Timed: what ``plantgate fw lint`` runs, ``lint_ruleset_parallel`` (one worker per core).

    One serial ``lint_ruleset`` run in a fresh PacketSpace is reported beside it as ``serial_s``
    and must find the very same issues. Peak RSS is per process (the workers are children);
    ``workers_mb`` is the largest worker's, so the machine holds at most about
    parent + workers x ``workers_mb``.
    """
    from plantgate.netspace.cores import usable_cores
    from plantgate.netspace.lint import lint_ruleset
    from plantgate.netspace.lint_parallel import lint_ruleset_parallel

    ruleset = parse_config(params["path"], "asa")
    times, findings = _repeat(params, lambda: _timed(lambda: lint_ruleset_parallel(ruleset)))
    serial_s, serial = _timed(lambda: lint_ruleset(PacketSpace(), ruleset))
    if [(i.kind, i.message) for i in serial] != [(i.kind, i.message) for i in findings]:
        raise RuntimeError("the parallel and the serial lint disagree")
    workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return {"times": times, "info": {"findings": len(findings), "workers": usable_cores(),
                                     "serial_s": round(serial_s, 3), "workers_mb": workers_mb}}


def prove_closing(params: Params) -> Result:
    """Timed: parse both ASA configs and ``is_subset(candidate, current)`` in a fresh PacketSpace.

    The median parse share is reported apart as ``parse_s``: the parsers and the proof are
    tuned by different hands, and the end-to-end figure alone does not say whose it is.
    """
    parse_times: list[float] = []

    def run() -> tuple[bool, int]:
        parse_s, (current, candidate) = _timed(
            lambda: (parse_config(params["current"], "asa"), parse_config(params["candidate"], "asa")))
        parse_times.append(parse_s)
        ok, result = is_subset(PacketSpace(), candidate, current)
        return ok, len(result.opened)

    times, outcome = _repeat(params, lambda: _timed(run))
    return {"times": times, "info": {"subset": outcome[0], "opened_keys": outcome[1],
                                     "parse_s": round(statistics.median(parse_times), 3)}}


def _nat_lines(ruleset: Ruleset) -> int:
    """NAT statements as written that translate: a statement may give several NatRules (ASA's
    halves, PAN-OS's implied bi-directional rule), and FortiGate's "no NAT" rules are no statement."""
    return len({(rule.span.file, rule.span.line) for rule in ruleset.nat_rules if not rule.is_identity})


def _nat_checked(ruleset: Ruleset, params: Params) -> dict[str, Any]:
    """NAT facts of a parsed config; raises unless it holds as many NAT statements as were rendered
    and not one NAT line was widened (the renderer writes only what the parsers model)."""
    widened = [w for w in ruleset.warnings if w.widened]
    lines = _nat_lines(ruleset)
    if lines != params["nat"] or widened:
        raise RuntimeError(f"{params['path']}: {lines} NAT statements parsed of {params['nat']} rendered, "
                           f"{len(widened)} widened warnings (first: {widened[:1]})")
    return {"nat_parsed": lines, "nat_rules": len(ruleset.nat_rules),
            "uncertain": sum(rule.uncertain for rule in ruleset.nat_rules)}


def nat_parse(params: Params) -> Result:
    """Timed: ``parse_config(path, vendor)`` of a config with NAT; the NAT statements it holds must
    be as many as were rendered, none widened."""
    times, ruleset = _repeat(params, lambda: _timed(lambda: parse_config(params["path"], params["vendor"])))
    return {"times": times, "info": {"rules": _source_rules(ruleset), **_nat_checked(ruleset, params),
                                     "warnings": len(ruleset.warnings)}}


def nat_permitted(params: Params) -> Result:
    """Timed: in a fresh PacketSpace each time, ``prefold`` (the filters folded on every core, as the
    ``permitted`` row, with the NAT half of the pairs' ends' view worked out meanwhile in this
    process, as ``check`` does) then the permitted flows of every zone pair through NAT as ``check`` computes
    them (``reconcile.nat_view.pair_endpoints``: the source as sent, the destination as delivered).

    The per-NAT-rule parts (``endpoint_flows``) are evidence that ``check`` builds only for the
    pairs a finding or a rule reference names, so they are not part of this row; ``packets`` is
    the number of distinct flows permitted, over every pair, so a wrong (smaller) set shows.
    """
    from plantgate.netspace.cores import usable_cores
    from plantgate.netspace.prefold import prefold
    from plantgate.reconcile.nat_view import pair_endpoints, prepare_nat_offers

    ruleset = parse_config(params["path"], params["vendor"])
    nat = _nat_checked(ruleset, params)

    def on_every_core() -> list[Any]:
        space = PacketSpace()
        pairs = [(ruleset, a, b) for a, b in ruleset.zone_pairs()]
        prefold(space, [ruleset], meanwhile=lambda: prepare_nat_offers(space, pairs))  # as ``check`` does
        return [pair_endpoints(space, *pair) for pair in pairs]

    times, sets = _repeat(params, lambda: _timed(on_every_core))
    return {"times": times, "info": {"rules": _source_rules(ruleset), "nat_rules": nat["nat_rules"],
                                     "pairs": len(ruleset.zone_pairs()),
                                     "packets": f"{sum(flows.count() for flows in sets):.3e}",
                                     "workers": usable_cores()}}


def nat_prove(params: Params) -> Result:
    """Timed: parse both configs (with the same NAT) side by side as the command does
    (``parse_pair``) and ``is_subset(candidate, current)`` in a fresh PacketSpace; the closing
    candidate must be proved (nothing opened, no NAT edit), else an error.

    The median parse share is reported apart as ``parse_s``.
    """
    parse_times: list[float] = []

    from plantgate.firewalls.parse_pair import ConfigSource, parse_pair

    def run() -> tuple[bool, Any]:
        current_source = ConfigSource(Path(params["current"]), params["vendor"])
        candidate_source = ConfigSource(Path(params["candidate"]), params["vendor"])
        parse_s, (current, candidate) = _timed(lambda: parse_pair(current_source, candidate_source))
        parse_times.append(parse_s)
        return is_subset(PacketSpace(), candidate, current)

    times, (proved, result) = _repeat(params, lambda: _timed(run))
    if not proved:
        raise RuntimeError(f"the closing candidate was not proved: {len(result.opened)} keys opened, "
                           f"NAT edits {[str(edit) for edit in result.nat_edits[:3]]}")
    return {"times": times, "info": {"proved": proved, "closed_keys": len(result.closed),
                                     "nat_edits": len(result.nat_edits),
                                     "parse_s": round(statistics.median(parse_times), 3)}}


def fw_test_cli(params: Params) -> Result:
    """Timed: ``plantgate fw test CONFIG --packets CSV --format json`` as a subprocess, end to end."""
    command = [params["plantgate"], "fw", "test", params["config"], "--vendor", "asa",
               "--packets", params["packets"], "--format", "json"]
    times, done = _repeat(params, lambda: _timed(
        lambda: subprocess.run(command, capture_output=True, text=True, check=False)))
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    output = done.stdout
    verdicts = [item["verdict"] == "permit" for item in json.loads(output)]
    return {"times": times, "info": {"packets": len(verdicts)}, "verdicts": verdicts}


def fw_test_library(params: Params) -> Result:
    """Timed: ``evaluate_batch`` over the packets, and the one-packet ``evaluate`` loop beside it.

    Parsing is reported apart as ``parse_s``; ``loop_s`` is the median of the per-packet loop
    (the concrete oracle), which must give the very same verdicts.
    """
    from plantgate.cli_fw import read_packets
    from plantgate.netspace.batch import evaluate_batch

    parse_s, ruleset = _timed(lambda: parse_config(params["config"], "asa"))
    rows = read_packets(Path(params["packets"]))
    times, verdicts = _repeat(params, lambda: _timed(
        lambda: [v.permitted for v in evaluate_batch(ruleset, rows)]))
    loop_times, loop_verdicts = _repeat(params, lambda: _timed(
        lambda: [evaluate(ruleset, flow).permitted for flow, _, _ in rows]))
    if loop_verdicts != verdicts:
        raise RuntimeError("evaluate_batch and the evaluate loop disagree")
    return {"times": times, "info": {"parse_s": round(parse_s, 3), "aces": _source_rules(ruleset),
                                     "loop_s": round(statistics.median(loop_times), 3)},
            "verdicts": verdicts}


def aclcheck(params: Params) -> Result:
    """Timed: one ``AclCheck`` per packet; loading the Aerleon policy is reported apart as ``load_s``."""
    import csv

    from aerleon_side import aclcheck_permits, build_aerleon_policy, load_policy
    from plant_model import build_policy

    policy_dict, definitions = build_aerleon_policy(build_policy(params["rules"], params["seed"]))
    load_s, pol = _timed(lambda: load_policy(policy_dict, definitions))
    with open(params["packets"], newline="", encoding="utf-8") as handle:
        rows: list[dict[str, str | int]] = list(csv.DictReader(handle))
    times, verdicts = _repeat(params, lambda: _timed(lambda: [aclcheck_permits(pol, row) for row in rows]))
    terms = len(policy_dict["filters"][0]["terms"])
    return {"times": times, "info": {"load_s": round(load_s, 3), "terms": terms}, "verdicts": verdicts}


def _tree_pss_kb(root: int) -> int:
    """Proportional set size of ``root`` and all its descendants, summed (shared pages counted once)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total


def _run_command(argv: list[str], out_path: str, cwd: str | None, sample: bool = True) -> tuple[float, int, int]:
    """(seconds, exit code, peak PSS of the process tree in kB, 0 unless ``sample``); stdout to
    ``out_path`` as a redirect does."""
    import threading

    with open(out_path, "wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, cwd=cwd)
        peak = [0]
        done = threading.Event()

        def sampling() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], _tree_pss_kb(process.pid))

        sampler = threading.Thread(target=sampling, daemon=True)
        if sample:
            sampler.start()
        _, err = process.communicate()
        elapsed = time.perf_counter() - start
        done.set()
        if sample:
            sampler.join()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}: {err.decode(errors='replace')[-2000:]}")
    return elapsed, process.returncode, peak[0]


def command(params: Params) -> Result:
    """Timed: one whole command as a user runs it, in a subprocess (interpreter start, imports, work, output).

    Standard output goes to a file, as a shell redirect would send it. ``tree_mb`` is the peak
    of the summed PSS of the process and its children (workers included), sampled every 50 ms.
    Where the row has a memory target (``memory_apart``), the sampling (which reads every process's
    page tables and measurably slows a busy two-core command) gets one run of its own after the
    timed runs, which run without it.
    ``exit`` is the command's exit code (0 or 1; anything else is an error). The output's size
    and a digest are reported, so that runs and revisions can be compared.
    """
    import hashlib

    out_path = str(Path(params["out_dir"]) / f"{params['name']}.out")
    runs = []

    memory_apart = bool(params.get("memory_apart"))

    def once() -> tuple[float, tuple[int, int]]:
        elapsed, code, peak = _run_command(params["argv"], out_path, params.get("cwd"), sample=not memory_apart)
        runs.append(peak)
        return elapsed, (code, peak)

    times, (code, _) = _repeat(params, once)
    if memory_apart:
        runs.append(_run_command(params["argv"], out_path, params.get("cwd"))[2])
    data = Path(out_path).read_bytes()
    return {"times": times, "info": {"exit": code, "tree_mb": round(max(runs) / 1024), "out_kb": len(data) // 1024,
                                     "out_sha": hashlib.sha256(data).hexdigest()[:10]}}


MEASUREMENTS: dict[str, Callable[[Params], Result]] = {
    "parse": parse, "permitted": permitted, "diff": diff, "lint": lint, "prove_closing": prove_closing,
    "fw_test_cli": fw_test_cli, "fw_test_library": fw_test_library, "aclcheck": aclcheck,
    "command": command, "nat_parse": nat_parse, "nat_permitted": nat_permitted, "nat_prove": nat_prove,
}


def main() -> None:
    name, params = sys.argv[1], json.loads(sys.argv[2])
    if params.get("profile"):  # cProfile the whole measurement; the top functions go to stderr
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(MEASUREMENTS[name], params)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(int(params["profile"]))
    else:
        result = MEASUREMENTS[name](params)
    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["children_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(result))


if __name__ == "__main__":
    main()
