"""Every data reader, fed mutated evidence, ends in a result or an InputError with a location.

Issue 17 §8 found tracebacks, hangs and memory blow-ups in the readers. Each reader here gets its
seeds (the project's test data and, when present, files of ../shared/ot-data) mutated by byte
flips, truncation, deep nesting, huge integers and fields, bytes that are not UTF-8, NUL bytes and
rich markup. The suite draws a bounded number of examples (derandomized under the CI profile);
bench/fuzz_readers.py runs the same harness for long, with time and memory limits.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plantgate
from plantgate.errors import InputError
from tests.conftest import shared_path
from tests.fuzz.readers import MUTATIONS, Reader, mutate, readers, seed_bytes

READERS = readers()
EXAMPLES_PER_READER = 12

steps = st.lists(st.tuples(st.integers(0, len(MUTATIONS) - 1), st.integers(0, 1 << 20), st.integers(0, 255)),
                 min_size=1, max_size=3)


def outcome(reader: Reader, data: bytes, folder: Path) -> str:
    """'result' or 'input error'; any other exception fails the caller's test with its input named."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / reader.file_name
    path.write_bytes(data)
    try:
        reader.run(path)
    except InputError as exc:
        assert exc.problems and all(p.location.file for p in exc.problems), exc
        return "input error"
    return "result"


@pytest.mark.parametrize("name", sorted(READERS))
def test_every_seed_reads(name: str, tmp_path: Path) -> None:
    """The unmutated seeds are valid evidence (so a mutation that fails is the mutation's doing)."""
    seeds = seed_bytes(READERS[name])
    assert seeds, f"{name} has no seed"
    for index, data in enumerate(seeds):
        assert outcome(READERS[name], data, tmp_path / str(index)) == "result"


@pytest.mark.parametrize("name", sorted(READERS))
def test_mutated_inputs_end_in_a_result_or_an_input_error(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    reader = READERS[name]
    seeds = seed_bytes(reader)

    @settings(max_examples=EXAMPLES_PER_READER, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(seed=st.integers(0, len(seeds) - 1), plan=steps)
    def run(seed: int, plan: list[tuple[int, int, int]]) -> None:
        outcome(reader, mutate(seeds[seed], plan), tmp_path_factory.mktemp(name))

    run()


@pytest.mark.parametrize("name", ["csaf", "vulnrichment", "kev"])
def test_the_shared_feed_corpus_reads(name: str, tmp_path: Path) -> None:
    folder = shared_path("ot-data", name)
    files = sorted(p for p in folder.iterdir() if p.suffix in (".json", ".csv") and "schema" not in p.name)
    for index, path in enumerate(files):
        assert outcome(READERS[name], path.read_bytes(), tmp_path / str(index)) == "result", path


# ----------------------------------------------------------------------------- the command line

CLI_CASES = {
    "fw test --packets, a 200 KB field": (["fw", "test", "{config}", "--packets", "{file}"],
                                           b"src,dst,proto,sport,dport\n" + b"x" * 200_000 + b",1,tcp,1,2\n"),
    "import csv, not UTF-8": (["import", "csv", "{file}", "--site", "{site}", "--dry-run"],
                              b"type,address,name\nhost,10.0.0.5,Soci\xe9t\xe9\n"),
    "check --flows, NaN timestamp": (["check", "{site}", "--flows", "{file}", "--as-of", "2026-11-26"],
                                     b"src,dst,proto,dport,first_seen\n10.20.0.10,10.1.0.10,tcp,502,nan\n"),
    "validate, markup in a CSAF product name": (["validate", "{site}"], b""),
}


def _cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    source = str(Path(plantgate.__file__).resolve().parents[1])
    probe = "import sys; from plantgate.cli import main; sys.argv = ['plantgate'] + sys.argv[1:]; main()"
    return subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": source, "PATH": "/usr/bin:/bin", "COLUMNS": "200"})


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_commands_on_hostile_files_exit_0_1_or_2_without_a_traceback(case: str, tmp_path: Path) -> None:
    from tests.sites import copy_example

    site = copy_example(tmp_path)
    args, data = CLI_CASES[case]
    file = tmp_path / "evidence.csv"
    file.write_bytes(data)
    if case.startswith("validate"):
        advisory = site / "advisories" / "icsa-24-116-03.json"
        advisory.write_text(advisory.read_text(encoding="utf-8").replace('"name": "', '"name": "[/][bold]', 1),
                            encoding="utf-8")
    config = site / "firewalls" / "fw-it-dmz.asa"
    done = _cli([a.format(config=config, file=file, site=site) for a in args])
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stdout + done.stderr and "Internal error" not in done.stderr
