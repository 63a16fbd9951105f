"""Feeds for the whole fleet: KEV, CSAF and Vulnrichment fetched once, from a URL or a mirror folder.

A site treaty names its own feed files, but a company wants one KEV catalog for every plant,
updated the day CISA adds an entry, and every affected plant re-judged at once. ``collect``
reads each source (an http(s) URL, a file, or a mirror folder laid out as ``kev/``, ``csaf/``,
``vulnrichment/``), caps every body BEFORE reading it whole, and parses each file with the
same readers as the CLI: a feed that does not parse is refused with its file:line and
nothing is stored. ``FeedPaths`` is what a check run gets of the stored snapshot.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plantgate.errors import InputError
from plantgate.feeds.csaf import load_csaf
from plantgate.feeds.kev import load_kev
from plantgate.feeds.textfile import read_evidence_bytes
from plantgate.feeds.vulnrichment import load_vulnrichment

KINDS = ("kev", "csaf", "vulnrichment")
MAX_FILE_BYTES = 50_000_000
"""Per file: the KEV catalog is ~1.5 MB today, a CSAF advisory rarely over 1 MB."""
MAX_FILES = 100_000
TIMEOUT_SECONDS = 60


@dataclass
class FeedPaths:
    """Feed files on disk, by kind, for one check run (the treaty's own feeds are read beside them)."""

    kev: list[Path] = field(default_factory=list)
    csaf: list[Path] = field(default_factory=list)
    vulnrichment: list[Path] = field(default_factory=list)


@dataclass
class FeedSnapshot:
    """Every file of one feed update (relative path -> bytes) and what it says, for the re-judging."""

    files: dict[str, bytes]
    summary: dict[str, Any]
    sources: list[str]

    @property
    def digest(self) -> str:
        hasher = hashlib.sha256()
        for path in sorted(self.files):
            hasher.update(path.encode() + b"\0" + hashlib.sha256(self.files[path]).digest())
        return hasher.hexdigest()


def _download(url: str, limit: int) -> bytes:
    """The body of ``url``, refused when it declares or turns out longer than ``limit`` bytes."""
    request = urllib.request.Request(url, headers={"User-Agent": "plantgate-feeds"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise InputError.at(url, 0, 0, f"feed is {int(declared):,} bytes, over the {limit:,}-byte limit",
                                    f"a feed of at most {limit:,} bytes")
            body: bytes = response.read(limit + 1)
    except OSError as exc:
        raise InputError.at(url, 0, 0, f"cannot download the feed: {exc}", "a reachable feed URL") from None
    if len(body) > limit:
        raise InputError.at(url, 0, 0, f"feed is over the {limit:,}-byte limit", f"at most {limit:,} bytes")
    return body


def _name_of_url(url: str) -> str:
    name = Path(urllib.parse.urlparse(url).path).name
    return name or "feed"


def _local_files(kind: str, path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError.at(str(path), 0, 0, f"{kind} feed not found", "a URL, a file or a mirror folder")
    if kind == "kev":
        preferred = [path / "known_exploited_vulnerabilities.json", path / "known_exploited_vulnerabilities.csv"]
        found = [p for p in preferred if p.is_file()][:1] or sorted(
            p for p in path.iterdir() if p.suffix.lower() in (".json", ".csv") and "schema" not in p.name)[:1]
        if not found:
            raise InputError.at(str(path), 0, 0, "no KEV catalog in the folder",
                                "known_exploited_vulnerabilities.json or .csv")
        return found
    files = sorted(p for p in path.rglob("*.json") if p.is_file())
    if len(files) > MAX_FILES:
        raise InputError.at(str(path), 0, 0, f"{len(files):,} files, over the {MAX_FILES:,}-file limit",
                            f"at most {MAX_FILES:,} feed files")
    return files


def _read_source(kind: str, source: str) -> dict[str, bytes]:
    """The files of one source, under ``kind/`` (names kept, so evidence names the feed file)."""
    if source.startswith(("http://", "https://")):
        return {f"{kind}/{_name_of_url(source)}": _download(source, MAX_FILE_BYTES)}
    if "://" in source:
        raise InputError.at(source, 0, 0, "unsupported feed location", "an http(s) URL, a file or a folder")
    root = Path(source)
    out: dict[str, bytes] = {}
    for file in _local_files(kind, root):
        relative = file.name if root.is_file() else file.relative_to(root).as_posix()
        out[f"{kind}/{relative}"] = read_evidence_bytes(file, f"{kind} feed file", MAX_FILE_BYTES)
    return out


def collect(sources: dict[str, list[str]]) -> FeedSnapshot:
    """Read every source of every kind (``mirror`` expands to its kev/, csaf/ and vulnrichment/ folders),
    parse it with the feed readers, and return the snapshot; InputError (nothing kept) on any problem."""
    wanted: dict[str, list[str]] = {kind: list(sources.get(kind, [])) for kind in KINDS}
    for mirror in sources.get("mirror", []):
        root = Path(mirror)
        if not root.is_dir():
            raise InputError.at(mirror, 0, 0, "mirror folder not found", "a folder with kev/, csaf/, vulnrichment/")
        for kind in KINDS:
            if (root / kind).exists():
                wanted[kind].append(str(root / kind))
    if not any(wanted.values()):
        raise InputError.at("feeds update", 0, 0, "no feed given", "--kev, --csaf, --vulnrichment or --mirror")
    files: dict[str, bytes] = {}
    for kind in KINDS:
        for source in wanted[kind]:
            files.update(_read_source(kind, source))
    return FeedSnapshot(files, summarise(files), [s for kind in KINDS for s in wanted[kind]])


def summarise(files: dict[str, bytes]) -> dict[str, Any]:
    """Parse the files (refusing the snapshot on the first bad one) and list what they say, by CVE."""
    with tempfile.TemporaryDirectory(prefix="plantgate-feeds-") as scratch:
        paths = write_feed_files(files, Path(scratch))
        kev: set[str] = set()
        for path in paths.kev:
            kev.update(load_kev(path).entries)
        advisories = {a.tracking_id: sorted(set(a.cves)) for path in paths.csaf for a in load_csaf(path)}
        enrichment: dict[str, str] = {}
        for path in paths.vulnrichment:
            for cve, record in load_vulnrichment(path).items():
                enrichment[cve] = hashlib.sha256(json.dumps(
                    [record.exploitation, record.automatable, record.technical_impact, record.in_kev],
                    sort_keys=True).encode()).hexdigest()[:16]
    return {"kev": sorted(kev), "csaf": advisories, "vulnrichment": enrichment}


def changed_cves(old: dict[str, Any] | None, new: dict[str, Any]) -> set[str]:
    """The CVEs whose judgement a move from summary ``old`` to ``new`` can change."""
    old = old or {"kev": [], "csaf": {}, "vulnrichment": {}}
    changed = set(new["kev"]) ^ set(old["kev"])
    for tracking_id, cves in new["csaf"].items():
        if old["csaf"].get(tracking_id) != cves:
            changed.update(cves)
    for tracking_id, cves in old["csaf"].items():
        if tracking_id not in new["csaf"]:
            changed.update(cves)
    for cve in set(new["vulnrichment"]) | set(old["vulnrichment"]):
        if new["vulnrichment"].get(cve) != old["vulnrichment"].get(cve):
            changed.add(cve)
    return changed


def write_feed_files(files: dict[str, bytes], folder: Path) -> FeedPaths:
    """Write a snapshot's files under ``folder`` and say which to read as which feed."""
    paths = FeedPaths()
    for relative, content in sorted(files.items()):
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder.resolve()):
            continue  # never outside the scratch folder, whatever a stored path says
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():  # another process may be writing the same snapshot: rename, never half a file
            staging = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
            staging.write_bytes(content)
            os.replace(staging, target)
        kind = relative.split("/", 1)[0]
        if kind == "kev":
            paths.kev.append(target)
        elif kind in ("csaf", "vulnrichment"):
            getattr(paths, kind).append(target)
    return paths
