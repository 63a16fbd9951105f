"""Vendor detection from a bounded sample gives the answers of whole-text detection, on every file we have.

The oracle is the detection as it was (``detect_reference``: every detector over the whole
text). The sampled detection must agree with it on every config in the test data, the
bundled example and the shared third-party corpus, whatever the sample size; on files larger
than the sample it must also recognise what the old detection missed (an SRX config whose
address book fills the first 200,000 characters).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.errors import InputError
from plantgate.firewalls.base import DETECTORS, VENDOR_MODULES, parser_for, read_config_text
from plantgate.firewalls.detect import DEFAULT_SAMPLE, SampleSize, config_sample, detect_vendor
from tests.conftest import PROJECT, SHARED
from tests.firewalls import detect_reference

TEST_FILES = sorted(p for p in (PROJECT / "tests").glob("*/data/**/*") if p.is_file())
EXAMPLE_FILES = sorted(p for p in (PROJECT / "src" / "plantgate" / "examples").rglob("*") if p.is_file())
SHARED_FILES = sorted(p for p in (SHARED / "firewall-configs").rglob("*") if p.is_file())
ALL_FILES = TEST_FILES + EXAMPLE_FILES + SHARED_FILES
SAMPLES = st.builds(SampleSize, head=st.integers(1, 3000), tail=st.integers(1, 3000),
                    windows=st.integers(0, 12), window=st.integers(1, 2000))


def sampled(text: str, size: SampleSize = DEFAULT_SAMPLE) -> str | None:
    try:
        return detect_vendor(text, "f", size)
    except InputError:
        return None


def test_the_corpus_is_there() -> None:
    assert len(TEST_FILES) > 20 and EXAMPLE_FILES
    if not SHARED_FILES:
        pytest.skip("the shared third-party corpus is absent")


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_sampled_detection_equals_whole_text_detection(path: Path) -> None:
    text = read_config_text(path)
    assert sampled(text) == detect_reference.detect_vendor(text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(SAMPLES)
def test_any_sample_size_gives_the_same_answers(size: SampleSize) -> None:
    """Tiny samples exercise both ways out: a decisive sample, and the whole text when it is not."""
    for path in ALL_FILES:
        text = read_config_text(path)
        assert sampled(text, size) == detect_reference.detect_vendor(text), path


def test_each_parsers_detect_is_its_detector() -> None:
    import importlib

    assert set(DETECTORS) == set(VENDOR_MODULES)
    for path in TEST_FILES[:12]:
        text = read_config_text(path)
        for vendor, (module, function) in DETECTORS.items():
            assert parser_for(vendor).detect(text) == getattr(importlib.import_module(module), function)(text)


@given(st.text(alphabet="ab \n", max_size=3000), SAMPLES)
def test_sample_is_head_then_whole_lines(text: str, size: SampleSize) -> None:
    sample = config_sample(text, size)
    if sample is text:
        assert len(text) <= size.total
        return
    lines = set(text.split("\n"))
    head = text[:text.rfind("\n", 0, size.head) + 1 or size.head]
    assert sample.startswith(head)
    assert all(line in lines for line in sample[len(head):].split("\n")[1:-1])
    assert len(sample) <= size.total + size.windows + 2


def _srx_with_a_large_address_book(entries: int) -> str:
    book = "".join(f"            address HOST_{n} 10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}/32;\n"
                   for n in range(entries))
    policies = "".join(
        f"            policy p{n} {{\n                match {{\n                    source-address HOST_{n};\n"
        f"                    destination-address any;\n                    application junos-https;\n"
        f"                }}\n                then {{\n                    permit;\n                }}\n"
        f"            }}\n" for n in range(entries // 20))
    return ("security {\n    address-book {\n        global {\n" + book + "        }\n    }\n"
            "    policies {\n        from-zone corp to-zone ot {\n" + policies + "        }\n    }\n}\n")


def test_large_srx_is_recognised_where_the_old_detection_failed() -> None:
    text = _srx_with_a_large_address_book(20_000)
    assert len(text) > 4 * DEFAULT_SAMPLE.total and text.index("policies {") > 200_000
    assert detect_reference.detect_vendor(text) is None  # the old 200,000-character head saw only addresses
    assert detect_vendor(text, "big.srx") == "srx"
    ruleset = parser_for("srx").parse(text, "big.srx")
    assert ruleset.rule_count() == 1000


def test_detectors_read_only_the_sample_of_a_large_decisive_file(monkeypatch: pytest.MonkeyPatch) -> None:
    real = DETECTORS["srx"]
    monkeypatch.setitem(DETECTORS, "srx", ("tests.firewalls.test_detect", "_recording_srx"))
    _RECORD.clear()
    text = _srx_with_a_large_address_book(20_000)
    assert detect_vendor(text, "big.srx") == "srx"
    seen = list(_RECORD)
    assert seen and max(seen) <= DEFAULT_SAMPLE.total + DEFAULT_SAMPLE.windows + 2
    assert real[0].endswith("srx.detect")


_RECORD: list[int] = []


def _recording_srx(text: str) -> float:
    from plantgate.firewalls.srx.detect import confidence

    _RECORD.append(len(text))
    return confidence(text)
