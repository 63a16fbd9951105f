"""Which vendor wrote a config file, judged from a bounded sample of it.

Why it exists: every vendor's ``detect`` looks for its distinctive statements (``ASA Version``,
``config firewall policy``, ``from-zone ... to-zone``, ``<rulebase>``), and running all six
over a whole 18 MB file took 2.5 s, while looking only at a file's first 200,000 characters
failed on SRX configs whose address book fills them. A config's distinctive statements are
spread through it, so the detectors read a sample of fixed size instead: the head, the tail
and evenly spaced windows between them, each cut at line ends. The cost does not grow with
the file.

A sample must be decisive (some vendor at ``DECISIVE`` or more) to decide. Otherwise, or for
a file no larger than the sample, the detectors read the whole text, exactly as before: a
valid file is never refused for its size, and a file that needs the whole text to be told
apart is judged on all of it. A property test holds the sampled answer to the whole-text
answer on every config of the test data and the shared corpus, at many sample sizes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from plantgate.errors import InputError

THRESHOLD = 0.3
"""Below this confidence no vendor is named."""

DECISIVE = 0.8
"""A sample alone decides only at this confidence or more."""


@dataclass(frozen=True)
class SampleSize:
    """How much of a file the detectors read: head and tail, and ``windows`` slices between."""

    head: int = 64 * 1024
    tail: int = 32 * 1024
    windows: int = 24
    window: int = 4 * 1024

    @property
    def total(self) -> int:
        return self.head + self.tail + self.windows * self.window


DEFAULT_SAMPLE = SampleSize()


def config_sample(text: str, size: SampleSize = DEFAULT_SAMPLE) -> str:
    """Head, evenly spaced windows and tail of ``text``, whole lines only; ``text`` itself when small.

    The head is kept verbatim from the first character (detectors look at how a file starts).
    Every other slice starts after a line end and stops at one, so each line in the sample is
    a whole line of the file; the slices are joined with newlines.
    """
    if len(text) <= size.total:
        return text
    head_end = text.rfind("\n", 0, size.head) + 1 or size.head
    tail_start = text.find("\n", len(text) - size.tail) + 1 or len(text)
    parts = [text[:head_end]]
    span = tail_start - head_end
    for index in range(size.windows):
        start = head_end + span * (index + 1) // (size.windows + 1)
        start = text.find("\n", start, tail_start) + 1
        if start <= 0:
            continue
        end = text.rfind("\n", start, min(start + size.window, tail_start))
        if end > start:
            parts.append(text[start:end + 1])
    parts.append(text[tail_start:])
    return "\n".join(parts)


def vendor_scores(text: str, vendors: list[str]) -> dict[str, float]:
    """Each vendor's confidence that ``text`` is its config (the detectors import no parser)."""
    from plantgate.firewalls.base import DETECTORS

    scores = {}
    for vendor in vendors:
        module, function = DETECTORS[vendor]
        scores[vendor] = getattr(importlib.import_module(module), function)(text)
    return scores


def _best(scores: dict[str, float]) -> tuple[str, float]:
    best, best_score = "", 0.0
    for vendor, score in scores.items():  # the first of equal scores wins, in registry order
        if score > best_score:
            best, best_score = vendor, score
    return best, best_score


def detect_vendor(text: str, file: str, size: SampleSize = DEFAULT_SAMPLE) -> str:
    """The vendor whose parser is most confident; a clear error when none is."""
    from plantgate.firewalls.base import available_vendors

    vendors = available_vendors()
    sample = config_sample(text, size)
    best, best_score = _best(vendor_scores(sample, vendors))
    if best_score < DECISIVE and sample is not text:
        best, best_score = _best(vendor_scores(text, vendors))
    if best_score < THRESHOLD:
        raise InputError.at(
            file, 1, 1, "cannot tell which firewall vendor wrote this file",
            "a supported config (" + ", ".join(vendors) + ") or --vendor",
        )
    return best
