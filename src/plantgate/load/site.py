"""``load_site``: a treaty folder in, a validated Site out, or every problem at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from plantgate.errors import InputError, Location, ProblemCollector
from plantgate.load.paths import allowed_outside
from plantgate.load.reader import KeyPath, SpanIndex, merge_documents
from plantgate.load.references import check_references
from plantgate.load.validate import validate_document
from plantgate.model import Treaty


@dataclass(frozen=True)
class Site:
    """A validated treaty with the folder it came from and where each value was written."""

    treaty: Treaty
    root: Path
    spans: SpanIndex

    @property
    def folder(self) -> Path:
        return self.root if self.root.is_dir() else self.root.parent

    def locate(self, *path: str | int) -> Location:
        return self.spans.locate(tuple(path))

    def resolve(self, relative: str) -> Path:
        """A path written in the treaty, relative to the treaty folder."""
        return (self.folder / relative).resolve()

    def index_of(self, section: str, item_id: str) -> int:
        """Where item ``item_id`` is in ``section`` (KeyError when it is not there).

        Checks ask this for thousands of conduits; a scan each time made them quadratic, so each
        section is indexed once (a loaded treaty is never changed in place)."""
        index = self._item_indexes.get(section)
        if index is None:
            index = {}
            for position, item in enumerate(getattr(self.treaty, section)):
                index.setdefault(item.id, position)
            self._item_indexes[section] = index
        return index[item_id]

    @cached_property
    def _item_indexes(self) -> dict[str, dict[str, int]]:
        return {}

    def locate_item(self, section: str, item_id: str, *rest: str | int) -> Location:
        path: KeyPath = (section, self.index_of(section, item_id), *rest)
        return self.spans.locate(path)


def load_site(path: str | Path, allow_outside: Iterable[Path] | None = None) -> Site:
    """Load and validate a treaty folder (or single file); raise InputError listing every problem.

    Files the treaty names must lie inside its folder; ``allow_outside`` (by default what the CLI's
    ``--allow-outside`` set for this process, and nothing in the web app) names other places allowed."""
    root = Path(path)
    outside = tuple(allow_outside) if allow_outside is not None else allowed_outside()
    problems = ProblemCollector()
    if not root.exists():
        raise InputError.at(str(root), 0, 0, "treaty folder not found", "a folder of treaty YAML files")
    if not (root.is_dir() or root.is_file()):  # a device or a FIFO: reading it would hang or never end
        raise InputError.at(str(root), 0, 0, "treaty path is neither a folder nor a regular file",
                            "a folder of treaty YAML files, or one treaty YAML file")
    document, spans = merge_documents(root, problems)
    treaty, left_out = validate_document(Treaty, document, spans, problems) if document else (None, {})
    if isinstance(treaty, Treaty):
        check_references(treaty, root, spans, problems, left_out, outside)
    problems.raise_if_any()
    assert isinstance(treaty, Treaty)
    return Site(treaty=treaty, root=root, spans=spans)
