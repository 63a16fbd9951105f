"""Whole commands, an older revision against this tree, alternated in one run: medians, ratios, same output.

Why it exists: the machine is shared and its speed swings, so a figure from one run cannot be
set against a figure from another. Here each command runs with the "before" source tree first
on the path (``--before``, e.g. a ``git archive`` of main's commit unpacked somewhere), then
with this checkout's tree (``--after``; a worktree is timed, not the tree the virtual
environment installed), round after round, and the table gives each side's median, their ratio, and
whether the two printed the very same JSON document.

    git archive 03737e6 src | tar -x -C /tmp/before
    .venv/bin/python bench/before_after.py --before /tmp/before/src --rounds 3
    .venv/bin/python bench/before_after.py --before /tmp/before/src --rounds 1 check

The inputs are the whole-command rows' files in ``bench/out`` (``run.py --only commands`` writes them).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def rows(terms: int, analysis_terms: int, packets: int, estate_rules: int) -> dict[str, list[str]]:
    asa = str(OUT / f"aerleon-asa-{analysis_terms}t-s1.asa")
    return {
        "help": ["--help"],
        "show_asa": ["fw", "show", str(OUT / f"aerleon-asa-{terms}t-s1.asa"), "--format", "json"],
        "show_fortigate": ["fw", "show", str(OUT / f"aerleon-fortigate-{terms}t-s1.fgacl"), "--format", "json"],
        "show_panos": ["fw", "show", str(OUT / f"aerleon-panos-{terms}t-s1.xml"), "--format", "json"],
        "fw_test": ["fw", "test", asa, "--packets", str(OUT / f"packets-{analysis_terms}t-{packets}.csv"),
                    "--format", "json"],
        "fw_diff": ["fw", "diff", asa, asa.replace(".asa", "-opening50.asa"), "--format", "json"],
        "prove_closing": ["change", "prove-closing", asa, asa.replace(".asa", "-closing50.asa"), "--format", "json"],
        "prove_opening": ["change", "prove-closing", asa, asa.replace(".asa", "-opening50.asa"), "--format", "json"],
        "check": ["check", str(OUT / f"estate-{estate_rules}"), "--format", "json"],
    }


def same_output(before: bytes, after: bytes, name: str) -> bool:
    if name == "help":
        return before == after
    try:
        return bool(json.loads(before) == json.loads(after))
    except ValueError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the src folder of the older revision")
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parent.parent / "src",
                        help="the src folder of the newer revision (default: this checkout's, so a git "
                             "worktree is timed and not the tree the virtual environment installed)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--terms", type=int, default=20_000)
    parser.add_argument("--analysis-terms", type=int, default=10_000)
    parser.add_argument("--packets", type=int, default=100_000)
    parser.add_argument("--estate-rules", type=int, default=5_000)
    parser.add_argument("names", nargs="*", help="commands to compare (default: all but check)")
    args = parser.parse_args()
    table = rows(args.terms, args.analysis_terms, args.packets, args.estate_rules)
    names = args.names or [name for name in table if name != "check"]
    environments = {"before": {**os.environ, "PYTHONPATH": str(args.before)},
                    "after": {**os.environ, "PYTHONPATH": str(args.after)}}
    times: dict[str, dict[str, list[float]]] = {name: {"before": [], "after": []} for name in names}
    same: dict[str, bool] = {}
    for round_number in range(1, args.rounds + 1):
        for name in names:
            printed = {}
            for side, environment in environments.items():
                # `python -m plantgate.cli` runs each tree's own entry point, as its `plantgate` command does
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "plantgate.cli", *table[name]], capture_output=True,
                                      env=environment, check=False)
                times[name][side].append(time.perf_counter() - start)
                if done.returncode not in (0, 1):
                    print(f"{name} {side}: exit {done.returncode}: {done.stderr.decode(errors='replace')[-500:]}")
                printed[side] = done.stdout
            same[name] = same.get(name, True) and same_output(printed["before"], printed["after"], name)
            print(f"round {round_number} {name}: before {times[name]['before'][-1]:.2f} s, after "
                  f"{times[name]['after'][-1]:.2f} s, same output {same[name]}, load {os.getloadavg()[0]:.1f}",
                  flush=True)
    print("\n| command | before median s | after median s | after/before | same output |\n|---|---|---|---|---|")
    for name in names:
        before, after = statistics.median(times[name]["before"]), statistics.median(times[name]["after"])
        print(f"| {name} | {before:.2f} | {after:.2f} | {after / before:.2f} | {same[name]} |")


if __name__ == "__main__":
    main()
