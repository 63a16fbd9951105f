"""The side-by-side config diff: hunks with context, bounded in rows and line length, quick on a 5 MB config."""

from __future__ import annotations

import random
import time

from plantgate.web.config_diff import CONTEXT, MAX_LINE, MAX_ROWS, config_diff


def config(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_a_changed_line_comes_with_its_context_on_both_sides() -> None:
    old = [f"rule {i}" for i in range(100)]
    new = [*old[:50], "rule 50 widened", *old[51:], "rule 100"]
    diff = config_diff(config(old), config(new))
    assert diff.changed_lines == 3 and diff.rows_left_out == 0
    first, second = diff.hunks
    changed = [r for r in first if r.kind != "same"]
    assert [(r.kind, r.old_number, r.old_text, r.new_number, r.new_text) for r in changed] == [
        ("changed", 51, "rule 50", 51, "rule 50 widened")]
    assert len(first) == 2 * CONTEXT + 1 and first[0].old_number == 51 - CONTEXT
    assert [(r.kind, r.old_number, r.new_number) for r in second if r.kind != "same"] == [("added", None, 101)]


def test_a_rewritten_config_is_cut_to_the_row_budget_and_says_how_much_is_left_out() -> None:
    old = [f"old {i}" for i in range(3000)]
    new = [f"new {i}" for i in range(3000)]
    diff = config_diff(config(old), config(new))
    assert sum(len(h) for h in diff.hunks) == MAX_ROWS and diff.rows_left_out == 3000 - MAX_ROWS
    assert diff.changed_lines == 6000


def test_long_lines_are_cut_and_line_endings_alone_are_no_change() -> None:
    long = "x" * (MAX_LINE * 3)
    diff = config_diff(config(["a"]), config(["a", long]))
    assert [len(r.new_text) for r in diff.hunks[0] if r.kind == "added"] == [MAX_LINE]
    assert config_diff(b"a\nb\n", b"a\r\nb\r\n").identical
    assert config_diff(b"same\n", b"same\n").hunks == []


def test_a_5_mb_config_with_a_few_edits_is_diffed_in_well_under_the_time_a_page_may_take() -> None:
    rng = random.Random(7)
    old = [f"-A FORWARD -s 10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24 -d 172.16.{i % 255}.{i % 200}/32 "
           f"-p tcp --dport {rng.randint(1, 65535)} -j ACCEPT" for i in range(60_000)] + ["COMMIT", "#"] * 3000
    rng.shuffle(old)
    new = list(old)
    for position in rng.sample(range(len(new)), 20):
        new[position] += " -m comment --comment edited"
    assert len(config(old)) > 4_500_000
    started = time.perf_counter()
    diff = config_diff(config(old), config(new))
    assert time.perf_counter() - started < 10  # ~0.5 s here: far from what a page view may take
    assert diff.changed_lines == 40 and len(diff.hunks) <= 20
