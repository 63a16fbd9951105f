"""The treaty diff: items matched by identity, edits field by field, parts that did not change left out."""

from __future__ import annotations

import copy
from typing import Any

from plantgate.load import load_site
from plantgate.model.treaty_diff import FieldChange, ItemEdit, PartDiff, treaty_diff
from tests.sites import EXAMPLE


def example() -> dict[str, Any]:
    return load_site(EXAMPLE).treaty.model_dump(mode="json")


def test_a_document_compared_with_itself_changed_nothing() -> None:
    document = example()
    assert not treaty_diff(document, copy.deepcopy(document)).changed
    assert treaty_diff(document, document).parts == ()


def test_conduits_added_removed_and_edited_field_by_field() -> None:
    old = example()
    new = copy.deepcopy(old)
    conduits = {c["id"]: c for c in new["conduits"]}
    removed = conduits.pop("C-06-remote-jump")
    conduits["C-08-time-sync"]["services"] = [{"protocol": "udp", "ports": [123, 124]}]
    conduits["C-08-time-sync"]["review_by"] = None
    added = dict(conduits["C-08-time-sync"], id="C-99-new")
    new["conduits"] = [*conduits.values(), added]
    part = treaty_diff(old, new).part("conduits")
    assert [k for k, _ in part.added] == ["C-99-new"] and part.added[0][1] == added
    assert [k for k, _ in part.removed] == ["C-06-remote-jump"] and part.removed[0][1] == removed
    [edit] = part.edited
    old_sync = next(c for c in old["conduits"] if c["id"] == "C-08-time-sync")
    assert edit == ItemEdit("C-08-time-sync", (
        FieldChange("services", old_sync["services"], [{"protocol": "udp", "ports": [123, 124]}]),
        FieldChange("review_by", "2027-06-30", None)))


def test_other_parts_are_matched_by_their_own_identity() -> None:
    old = example()
    new = copy.deepcopy(old)
    new["zones"][0] = dict(new["zones"][0], name="Renamed")
    new["raci"][0] = dict(new["raci"][0], informed=[])
    new["charter"] = dict(new["charter"], signatures=[])
    new["flows"] = [*old["flows"], "flows/extra.log"]
    diff = treaty_diff(old, new)
    assert [p.name for p in diff.parts] == ["zones", "charter", "raci", "flows"]
    assert diff.part("zones").edited == (ItemEdit(old["zones"][0]["id"], (
        FieldChange("name", old["zones"][0]["name"], "Renamed"),)),)
    assert diff.part("raci").edited[0].key == old["raci"][0]["activity"]
    [charter] = diff.part("charter").edited
    assert charter.key == "charter" and [f.name for f in charter.fields] == ["signatures"]
    assert diff.part("flows") == PartDiff("flows", added=(("flows/extra.log", "flows/extra.log"),))
    assert not diff.part("conduits").changed


def test_a_section_that_appears_or_goes_is_added_or_removed_whole() -> None:
    old = example()
    new = {k: v for k, v in old.items() if k != "soc"}
    assert treaty_diff(old, new).part("soc").removed == (("soc", old["soc"]),)
    assert treaty_diff(new, old).part("soc").added == (("soc", old["soc"]),)
