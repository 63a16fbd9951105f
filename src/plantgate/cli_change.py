"""``plantgate change``: change records with an OT veto, and the proof that emergency changes only close.

Exit codes: ``check`` 0 when the change may proceed, 1 when it is refused; ``prove-closing``
0 proved, 1 the candidate opens something; ``verify`` 0 deployed equals approved, 1 not;
2 bad input for all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from plantgate.cli_fw import (
    INDENT_OPTION,
    VENDOR_OPTION,
    change_json,
    load_two_rulesets,
    nat_edit_json,
    permitter_json,
    translation_json,
)
from plantgate.errors import InputError
from plantgate.firewalls.parse_pair import ConfigSource, parse_pair
from plantgate.netspace import RulesetDiff, default_space, diff_rulesets, is_subset
from plantgate.outputs.json_stream import write_json
from plantgate.terminal import make_console, styled

console = make_console()

if TYPE_CHECKING:  # the treaty and change-record stack is imported by the commands that read a treaty
    from plantgate.decisions.change_impact import ChangeImpact, ZoneChange
    from plantgate.load import Site
    from plantgate.model.changes import ChangeRecord
FORMAT_OPTION = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                             show_default=True)


@click.group()
def change() -> None:
    """Firewall change control: impact and refusal of a change record, close-only proofs, verification."""


def _site_and_record(record_path: Path, site_dir: Path | None) -> tuple[Site, ChangeRecord]:
    """Change records live in SITE/changes/; load the site and pick the record written in that file."""
    from plantgate.load import load_site

    folder = site_dir or record_path.resolve().parent.parent
    if site_dir is None and record_path.resolve().parent.name != "changes":
        raise InputError.at(str(record_path), 0, 0, "cannot tell which treaty this change record belongs to",
                            "a record under SITE/changes/, or --site SITE")
    site = load_site(folder)
    target = record_path.resolve()
    for index, record in enumerate(site.treaty.changes):
        if Path(site.locate("changes", index).file).resolve() == target:
            return site, record
    raise InputError.at(str(record_path), 0, 0, f"not a change record of the treaty in {folder}",
                        f"a YAML file under {folder / 'changes'}")


def _zone_change_json(item: ZoneChange) -> dict[str, Any]:
    return {"from_zone": item.from_zone, "to_zone": item.to_zone, "witness": item.witness.to_dict(),
            "rules": [permitter_json(p) for p in item.rules], "conduits": item.conduits}


def impact_json(impact: ChangeImpact) -> dict[str, Any]:
    return {
        "change": impact.record.id,
        "accepted": impact.accepted,
        "refusals": impact.refusals,
        "notes": impact.notes,
        "emergency": impact.record.emergency,
        "candidate_sha256": impact.candidate_sha256,
        "opened": [_zone_change_json(z) for z in impact.opened],
        "closed": [_zone_change_json(z) for z in impact.closed],
        "opened_outside_zone_pairs": [change_json(c) for c in impact.config_opened],
        "closed_outside_zone_pairs": [change_json(c) for c in impact.config_closed],
        "conduits_affected": impact.conduits_affected,
        "losing_access": impact.losing_access,
        "inside_register": not impact.outside_register,
        "outside_register": [_zone_change_json(z) for z in impact.outside_register],
    }


@change.command("check")
@click.argument("record", type=click.Path(path_type=Path))
@click.option("--site", "site_dir", type=click.Path(path_type=Path), default=None,
              help="Treaty folder (default: the folder above changes/).")
@FORMAT_OPTION
def check_change(record: Path, site_dir: Path | None, output_format: str) -> None:
    """Validate a change record and prove its impact; exit 1 when it must be refused.

    Shows flows opened and closed per zone pair with witnesses, the conduits affected, who
    loses access, and whether the candidate stays inside the register with the change's own
    register edit applied. Refuses: no conduit, no reason or no OT approver named; an opening
    change without OT approval; an emergency change that opens anything; flows no conduit
    covers; self-approval; a veto.
    """
    site, change_record = _site_and_record(record, site_dir)
    from plantgate.decisions.change_impact import assess_change

    impact = assess_change(site, change_record, default_space())
    if output_format == "json":
        click.echo(json.dumps(impact_json(impact), indent=2))
    else:
        _print_impact(impact)
    if not impact.accepted:
        sys.exit(1)


def _print_impact(impact: ChangeImpact) -> None:
    record = impact.record
    kind = "EMERGENCY change" if record.emergency else "Change"
    console.print(styled((f"{kind} {record.id}", "bold"), f": {record.title} (state {record.state.value})"))
    for label, items in (("opens", impact.opened), ("closes", impact.closed)):
        for item in items:
            console.print(f"  {label} {item.from_zone} -> {item.to_zone}: e.g. {item.witness}", highlight=False)
            for permitter in item.rules:
                data = permitter_json(permitter)
                if data.get("line"):
                    console.print(f"      line {data['line']}: {data['text']}", highlight=False)
    for label, changes in (("opens", impact.config_opened), ("closes", impact.config_closed)):
        for change_item in changes:
            console.print(f"  {label} on {change_item.key} (outside the treaty zone pairs this firewall is placed "
                          f"on): e.g. {change_item.witness}", highlight=False)
    if not (impact.opened or impact.closed or impact.config_opened or impact.config_closed):
        console.print("  no flow changes: the candidate permits exactly what the current config permits")
    console.print(f"  conduits affected: {', '.join(impact.conduits_affected) or 'none'}", highlight=False)
    console.print(f"  losing access: {', '.join(impact.losing_access) or 'nobody'}", highlight=False)
    console.print(f"  inside the register after its edit: {'yes' if not impact.outside_register else 'NO'}")
    for note in impact.notes:
        console.print(styled("  ", ("note", "yellow"), f" {note}"))
    if impact.accepted:
        console.print(styled(("ACCEPTED", "green"), ": the change may proceed."))
    for refusal in impact.refusals:
        console.print(styled(("REFUSED", "bold red"), f": {refusal}"))


@change.command("prove-closing")
@click.argument("current", type=click.Path(path_type=Path))
@click.argument("candidate", type=click.Path(path_type=Path))
@VENDOR_OPTION
@click.option("--candidate-vendor", default=None, help="Parser for CANDIDATE when its vendor differs.")
@FORMAT_OPTION
@INDENT_OPTION
def prove_closing(current: Path, candidate: Path, vendor: str | None, candidate_vendor: str | None,
                  output_format: str, indent: bool | None) -> None:
    """Prove CANDIDATE permits a subset of CURRENT, for every zone pair or filter.

    Exit 0 with what was closed; exit 1 with the witness flow it opens and the candidate
    rules that permit it; exit 2 on bad input. Works across vendors.
    """
    before, after = load_two_rulesets(current, vendor, candidate, candidate_vendor or vendor)
    proved, diff = is_subset(default_space(), after, before)
    if output_format == "json":
        write_json({"proved": proved, "opened": [change_json(c) for c in diff.opened],
                    "closed": [change_json(c) for c in diff.closed],
                    "nat_edits": [nat_edit_json(e) for e in diff.nat_edits],
                    "translations": [translation_json(t) for t in diff.translations]}, indent=indent)
    else:
        _print_proof(proved, diff)
    if not proved:
        sys.exit(1)


def _print_proof(proved: bool, diff: RulesetDiff) -> None:
    opened, closed = diff.opened, diff.closed
    if proved:
        console.print(styled(("PROVED", "green"), ": the candidate permits nothing the current config does not."))
    for edit in diff.nat_edits:
        console.print(styled(("NOT PROVED", "bold red"), f": the candidate edits address translation, which can open "
                             f"what the filters do not show: {edit}"), highlight=False)
    for translation in diff.translations:
        console.print(styled(("OPENS", "bold red"), f" through address translation {translation}"), highlight=False)
    for item in opened:
        console.print(styled(("OPENS", "bold red"), f" {item.key}: {item.witness}"))
        for permitter in item.rules:
            data = permitter_json(permitter)
            text = f"line {data['line']}: {data['text']}" if data.get("line") else f"default {data.get('default')}"
            console.print(f"    {text}", highlight=False)
    for item in closed:
        console.print(f"closes {item.key}: e.g. {item.witness}", highlight=False)
    if proved and not closed:
        console.print("The candidate permits exactly what the current config permits.")


@change.command("verify")
@click.argument("record", type=click.Path(path_type=Path))
@click.option("--deployed", type=click.Path(path_type=Path), required=True,
              help="The config as deployed on the firewall after implementation.")
@click.option("--site", "site_dir", type=click.Path(path_type=Path), default=None)
@FORMAT_OPTION
def verify(record: Path, deployed: Path, site_dir: Path | None, output_format: str) -> None:
    """Compare the deployed config with the approved candidate; any semantic difference is a finding (exit 1)."""
    site, change_record = _site_and_record(record, site_dir)
    entry = next(f for f in site.treaty.firewalls if f.id == change_record.firewall)
    candidate = site.resolve(change_record.candidate_config)
    approved, actual = parse_pair(ConfigSource(candidate, entry.vendor, entry.context),
                                  ConfigSource(deployed, entry.vendor, entry.context))
    diff = diff_rulesets(default_space(), approved, actual)
    if output_format == "json":
        click.echo(json.dumps({"change": change_record.id, "matches_approved": diff.unchanged,
                               "extra": [change_json(c) for c in diff.opened],
                               "missing": [change_json(c) for c in diff.closed],
                               "nat_edits": [nat_edit_json(e) for e in diff.nat_edits],
                               "translations": [translation_json(t) for t in diff.translations]}, indent=2))
    elif diff.unchanged:
        console.print(styled(("VERIFIED", "green"), f": the deployed config permits exactly what {change_record.id} "
                             "approved."))
    else:
        console.print(styled(("MISMATCH", "bold red"), f": the deployed config differs from what {change_record.id} "
                             "approved."))
        for label, items in (("permits beyond approval", diff.opened), ("misses approved", diff.closed)):
            for item in items:
                console.print(f"  {label} {item.key}: e.g. {item.witness}", highlight=False)
        for edit in diff.nat_edits:
            console.print(f"  address translation {edit}", highlight=False)
        for translation in diff.translations:
            console.print(f"  translates differently {translation}", highlight=False)
    if not diff.unchanged:
        sys.exit(1)
