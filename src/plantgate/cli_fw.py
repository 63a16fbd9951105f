"""``plantgate fw``: query one firewall config directly (show, test, diff, lint).

Thin shell over ``plantgate.firewalls`` and ``plantgate.netspace``; the vendor is detected
from the content unless ``--vendor`` says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from plantgate.firewalls.base import VENDOR_MODULES, parse_config
from plantgate.firewalls.nat import Translation
from plantgate.firewalls.ruleset import Rule, Ruleset
from plantgate.outputs.json_stream import write_json
from plantgate.terminal import make_console, styled

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from plantgate.firewalls.nat_edits import NatEdit
    from plantgate.netspace import Change, Flow, Permitter, Verdict
    from plantgate.netspace.batch import PacketBatch
    from plantgate.netspace.diff import TranslationChange
    from plantgate.netspace.evaluate_nat import TranslatedVerdict


def _console() -> Console:
    """The terminal output of the text formats (no markup: names from the config are printed as written)."""
    return make_console()

VENDOR_OPTION = click.option("--vendor", type=click.Choice(sorted(VENDOR_MODULES)), default=None,
                             help="Parser to use; detected from the content when omitted.")
CONTEXT_OPTION = click.option("--context", default="", help="VDOM, vsys or device group, where the config has several.")
FORMAT_OPTION = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                             show_default=True)
INDENT_OPTION = click.option("--indent/--no-indent", "indent", default=None,
                             help="Indent JSON for reading (default: indented on a terminal, compact otherwise).")


def load_ruleset(path: Path, vendor: str | None, context: str = "") -> Ruleset:
    from plantgate.progress import steps

    with steps() as step:
        step(f"Parsing {path.name}")
        return parse_config(path, vendor, context)


def load_two_rulesets(first: Path, first_vendor: str | None, second: Path,
                      second_vendor: str | None) -> tuple[Ruleset, Ruleset]:
    """The two configs a comparison reads, parsed side by side where they are large (``parse_pair``)."""
    from plantgate.firewalls.parse_pair import ConfigSource, parse_pair
    from plantgate.progress import steps

    with steps() as step:
        step(f"Parsing {first.name} and {second.name}")
        return parse_pair(ConfigSource(first, first_vendor), ConfigSource(second, second_vendor))


def rule_json(rule: Rule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {"id": rule.rule_id, "line": rule.span.line, "text": rule.span.text}


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {"verdict": "permit" if verdict.permitted else "deny", "filter": verdict.filter,
            "rule": rule_json(verdict.rule)}


def translated_json(result: TranslatedVerdict) -> dict[str, Any]:
    """A verdict with the packet before and after each NAT stage, and the NAT rule (file:line) that did it."""
    stages = []
    for stage, rewrite in result.rewrites:
        rule = rewrite.rule
        stages.append({
            "stage": stage.value,
            "rule": None if rule is None else {"id": rule.rule_id, "kind": rule.kind, "file": rule.span.file,
                                               "line": rule.span.line, "text": rule.span.text},
            "before": rewrite.before.to_dict(),
            "after": rewrite.after.to_dict(),
            "exact": rewrite.exact,
            "notes": list(rewrite.notes),
        })
    return verdict_json(result.verdict) | {"nat": stages, "nat_alternatives": result.alternatives}


def translated_lines(result: TranslatedVerdict) -> list[str]:
    """Text lines for each NAT stage a packet met: before => after, by which rule at file:line."""
    lines = []
    for stage, rewrite in result.rewrites:
        where = "before filter" if stage.value == "before-filter" else "after filter"
        rule = rewrite.rule
        if rule is None:
            lines.append(f"  NAT {where}: no rule matched; {rewrite.before} unchanged")
            continue
        by = f"by NAT rule {rule.rule_id} ({rule.kind}, {rule.span})"
        if rule.is_identity:
            lines.append(f"  NAT {where}: exempted {by}; {rewrite.before} unchanged")
            continue
        lines.append(f"  NAT {where}: {rewrite.before} => {rewrite.after} {by}")
        if not rewrite.exact:
            lines.append("    one of several possible packets: " + "; ".join(rewrite.notes))
    if result.alternatives:
        lines.append("  a NAT rule here may or may not apply (uncertain match or zones not given): "
                     "the outcome shown is the most permissive one")
    return lines


def _translation_text(translation: Translation) -> str:
    if translation.is_identity:
        return "-"
    parts = []
    if translation.addresses is not None:
        mapping = translation.addresses
        parts.append(str(mapping.pool) if mapping.pool is not None else f"prefix {mapping.prefix}")
    if translation.ports is not None:
        low, high = translation.ports.to
        ports = str(low) if low == high else f"{low}-{high}"
        shift = translation.ports.shift
        parts.append(f"port {ports}" + (f" (shift {shift:+d})" if shift is not None else ""))
    return " ".join(parts)


def _nat_table(ruleset: Ruleset) -> Table:
    """The NAT rules of ``fw show``, in stage order, with what each rewrites ("?" marks a widened one)."""
    from rich.table import Table

    table = Table(title="NAT rules (first match per stage)", expand=True, show_lines=False)
    for column in ("#", "rule", "stage", "kind", "zones", "source", "destination", "service", "source to",
                   "destination to", "line"):
        table.add_column(column, overflow="fold")
    for rule in ruleset.nat_rules:
        zones = f"{','.join(rule.from_zones) or 'any'} > {','.join(rule.to_zones) or 'any'}"
        kind = rule.kind + (" ?" if rule.uncertain or rule.widened else "")
        table.add_row(str(rule.position), rule.rule_id, rule.stage.value, kind, zones, str(rule.sources),
                      str(rule.destinations), ",".join(str(s) for s in rule.services),
                      _translation_text(rule.source), _translation_text(rule.destination), str(rule.span.line))
    return table


@click.group()
def fw() -> None:
    """Query one firewall config: show its rules, test packets, diff two configs, lint."""


@fw.command()
@click.argument("config", type=click.Path(path_type=Path))
@VENDOR_OPTION
@CONTEXT_OPTION
@FORMAT_OPTION
@INDENT_OPTION
def show(config: Path, vendor: str | None, context: str, output_format: str, indent: bool | None) -> None:
    """Show the normalised rules of CONFIG as a table (or JSON), with their lines."""
    from plantgate.firewalls.dump import ruleset_to_dict

    ruleset = load_ruleset(config, vendor, context)
    if output_format == "json":
        write_json(ruleset_to_dict(ruleset, with_text=True), indent=indent)
        return
    from rich.table import Table

    console = _console()
    console.print(styled((ruleset.name, "bold"), f" ({ruleset.vendor}): {ruleset.rule_count()} rules in "
                         f"{len(ruleset.filters)} filters; zones: {', '.join(ruleset.zones) or '-'}"))
    for flt in ruleset.filters.values():
        table = Table(title=f"{flt.name} (default {flt.default_action.value})", expand=True, show_lines=False)
        for column in ("#", "rule", "action", "zones", "source", "destination", "service", "line"):
            table.add_column(column, overflow="fold")
        for rule in flt.rules:
            zones = f"{','.join(rule.from_zones) or 'any'} > {','.join(rule.to_zones) or 'any'}"
            action = rule.action.value + ("" if rule.enabled else " (disabled)") + (" ?" if rule.uncertain else "")
            services = ("not " if rule.service_negate else "") + ",".join(str(s) for s in rule.services)
            cells = (str(rule.position), rule.rule_id, action, zones,
                     ("not " if rule.source_negate else "") + str(rule.sources),
                     ("not " if rule.destination_negate else "") + str(rule.destinations),
                     services, str(rule.span.line))
            table.add_row(*cells)
        console.print(table)
    if ruleset.nat_rules:
        console.print(_nat_table(ruleset))
    for warning in ruleset.warnings:
        console.print(styled(("warning", "yellow"), f" {warning}"))


@fw.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--src", help="Source address.")
@click.option("--dst", help="Destination address.")
@click.option("--proto", default="tcp", show_default=True, help="tcp, udp, icmp, icmpv6, sctp or a number.")
@click.option("--sport", type=click.IntRange(0, 65535), default=None, help="Source port (default 0).")
@click.option("--dport", type=click.IntRange(0, 65535), default=None, help="Destination port.")
@click.option("--icmp-type", type=click.IntRange(0, 255), default=None)
@click.option("--icmp-code", type=click.IntRange(0, 255), default=None)
@click.option("--from-zone", default=None, help="The config's own ingress interface or zone name.")
@click.option("--to-zone", default=None, help="The config's own egress interface or zone name.")
@click.option("--filter", "filter_name", default=None, help="Test one filter (ACL, chain); optional when only one.")
@click.option("--packets", type=click.Path(path_type=Path), default=None,
              help="CSV with header src,dst,proto,sport,dport[,from_zone,to_zone]: one verdict per row.")
@VENDOR_OPTION
@CONTEXT_OPTION
@FORMAT_OPTION
@INDENT_OPTION
def test(config: Path, src: str | None, dst: str | None, proto: str, sport: int | None, dport: int | None,
         icmp_type: int | None, icmp_code: int | None, from_zone: str | None, to_zone: str | None,
         filter_name: str | None, packets: Path | None, vendor: str | None, context: str,
         output_format: str, indent: bool | None) -> None:
    """Say whether CONFIG permits a packet (or every packet of a CSV), and which rule decides.

    \b
    Examples:
      plantgate fw test fw.asa --src 10.10.8.5 --dst 172.16.35.30 --dport 3389 --from-zone corp --to-zone idmz
      plantgate fw test fw.iptables --packets probes.csv --format json
    """
    from plantgate.netspace import evaluate
    from plantgate.netspace.packet_file import make_flow

    ruleset = load_ruleset(config, vendor, context)
    if packets is not None:
        from plantgate.netspace.batch import evaluate_packet_batch
        from plantgate.netspace.packet_file import read_packet_batch

        batch = read_packet_batch(packets)
        batch.contexts = [(row_from or from_zone, row_to or to_zone) for row_from, row_to in batch.contexts]
        if ruleset.nat_rules:
            _test_batch_translated(ruleset, batch, filter_name, output_format, indent)
            return
        verdicts = evaluate_packet_batch(ruleset, batch, filter_name)
        if output_format == "json":
            as_json: dict[int, dict[str, Any]] = {}  # one dict per distinct Verdict object, shared
            write_json((as_json.get(id(v)) or as_json.setdefault(id(v), verdict_json(v)) for v in verdicts),
                       indent=indent)
        else:
            for position, verdict in enumerate(verdicts):
                click.echo(f"{batch.flow(position)}: {verdict}")
        return
    if not src or not dst:
        raise click.UsageError("give --src and --dst (and usually --dport), or --packets FILE.csv")
    try:
        flow = make_flow(src, dst, proto, sport, dport, icmp_type, icmp_code)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if ruleset.nat_rules:
        from plantgate.netspace import default_space
        from plantgate.netspace.evaluate_nat import evaluate_translated

        result = evaluate_translated(default_space(), ruleset, flow, from_zone, to_zone, filter_name)
        verdict, extra = result.verdict, translated_lines(result)
        if output_format == "json":
            write_json(translated_json(result), indent=indent)
            return
    else:
        verdict, extra = evaluate(ruleset, flow, from_zone, to_zone, filter_name), []
        if output_format == "json":
            write_json(verdict_json(verdict), indent=indent)
            return
    console = _console()
    console.print(styled(f"{flow}: ", ("PERMIT" if verdict.permitted else "DENY", "bold"), f" - {verdict}"))
    if verdict.rule is not None:
        console.print(f"  {verdict.rule.span.text}", highlight=False)
    for line in extra:
        console.print(line, highlight=False)


def _test_batch_translated(ruleset: Ruleset, batch: PacketBatch, filter_name: str | None, output_format: str,
                           indent: bool | None) -> None:
    """``fw test --packets`` on a ruleset with NAT: one translated verdict per row (packet by packet)."""
    from plantgate.netspace import default_space
    from plantgate.netspace.evaluate_nat import evaluate_translated

    space = default_space()
    results = []
    for position in range(len(batch)):
        row_from, row_to = batch.contexts[position]
        results.append(evaluate_translated(space, ruleset, batch.flow(position), row_from, row_to, filter_name))
    if output_format == "json":
        write_json((translated_json(result) for result in results), indent=indent)
        return
    for position, result in enumerate(results):
        click.echo(f"{batch.flow(position)}: {result.verdict}")
        for line in translated_lines(result):
            click.echo(line)


def read_packets(path: Path) -> list[tuple[Flow, str | None, str | None]]:
    """Packets from CSV as (flow, from_zone, to_zone); every bad row is reported with its line, all at once."""
    from plantgate.netspace.packet_file import read_packet_batch

    batch = read_packet_batch(path)
    return [(batch.flow(position), *batch.contexts[position]) for position in range(len(batch))]


def permitter_json(permitter: Permitter) -> dict[str, Any]:
    flt, rule = permitter
    if rule is not None:
        return {"filter": flt.name if flt else None, "id": rule.rule_id, "line": rule.span.line,
                "text": rule.span.text}
    if flt is not None:
        return {"filter": flt.name, "id": None, "default": flt.default_action.value}
    return {"filter": None, "id": None, "default": "path"}


def translation_json(change: TranslationChange) -> dict[str, Any]:
    return {"key": str(change.key), "witness": change.witness.to_dict(), "flows": change.flows.count(),
            "nat_rules": [rule.reference() for rule in change.nat_rules]}


def nat_edit_json(edit: NatEdit) -> dict[str, Any]:
    span = edit.span
    return {"change": edit.change, "what": edit.what, "file": span.file, "line": span.line,
            "text": " ".join(span.text.split())}


def change_json(change: Change) -> dict[str, Any]:
    key = change.key
    out: dict[str, Any] = {"filter": key.filter} if key.kind == "filter" else {
        "from_zone": key.from_zone, "to_zone": key.to_zone}
    out["witness"] = change.witness.to_dict()
    out["rules"] = [permitter_json(p) for p in change.rules]
    return out


@fw.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@VENDOR_OPTION
@click.option("--new-vendor", type=click.Choice(sorted(VENDOR_MODULES)), default=None,
              help="Parser for NEW when it differs from OLD's.")
@FORMAT_OPTION
@INDENT_OPTION
def diff(old: Path, new: Path, vendor: str | None, new_vendor: str | None, output_format: str,
         indent: bool | None) -> None:
    """The flows NEW permits that OLD did not (opened), and the reverse (closed), with witnesses.

    Exit 0 whatever the difference; use `plantgate change prove-closing` for a pass/fail proof.
    """
    from plantgate.netspace import default_space, diff_rulesets

    before, after = load_two_rulesets(old, vendor, new, new_vendor or vendor)
    result = diff_rulesets(default_space(), before, after)
    if output_format == "json":
        write_json({"opened": [change_json(c) for c in result.opened],
                    "closed": [change_json(c) for c in result.closed],
                    "nat_edits": [nat_edit_json(e) for e in result.nat_edits],
                    "translations": [translation_json(t) for t in result.translations]}, indent=indent)
        return
    console = _console()
    if result.unchanged:
        console.print("No difference: both configs permit exactly the same flows and translate alike.")
        return
    for edit in result.nat_edits:
        console.print(styled(("NAT EDITED", "bold"), f" {edit}"), highlight=False)
    for translation in result.translations:
        console.print(styled(("TRANSLATED ANEW", "bold"), f" {translation}"), highlight=False)
    for label, changes in (("OPENED", result.opened), ("CLOSED", result.closed)):
        for change in changes:
            console.print(styled((label, "bold"), f" {change.key}: e.g. {change.witness}"))
            for permitter in change.rules:
                item = permitter_json(permitter)
                text = f"line {item['line']}: {item['text']}" if item.get("line") else f"default {item['default']}"
                console.print(f"    {text}", highlight=False)


@fw.command()
@click.argument("config", type=click.Path(path_type=Path))
@VENDOR_OPTION
@CONTEXT_OPTION
@FORMAT_OPTION
@INDENT_OPTION
def lint(config: Path, vendor: str | None, context: str, output_format: str, indent: bool | None) -> None:
    """Flag shadowed, redundant, correlated, any-any, overly broad, disabled and never-matching rules,
    and unused objects. Shadowed rules name the rules that block them.

    Exit 0 whatever it finds (use `plantgate check --fail-on` to gate).
    """
    from plantgate.netspace.lint import linted_filters
    from plantgate.netspace.lint_parallel import lint_ruleset_parallel

    ruleset = load_ruleset(config, vendor, context)
    issues = lint_ruleset_parallel(ruleset)
    if output_format == "json":
        write_json(({
            "kind": i.kind, "filter": i.filter, "rule": rule_json(i.rule),
            "related": [rule_json(r) for r in i.related_rules], "message": i.message,
            "witness": i.witness.to_dict() if i.witness else None,
            "object": {"name": i.object.name, "kind": i.object.kind, "line": i.object.span.line} if i.object else None,
        } for i in issues), indent=indent)
        return
    console = _console()
    for issue in issues:
        span = issue.rule.span if issue.rule else issue.object.span if issue.object else \
            ruleset.filters[issue.filter].span if issue.filter in ruleset.filters else None
        line = span.line if span else 0
        console.print(styled((issue.kind, "bold"), f" line {line}: {issue.message}"))
        if issue.witness:
            console.print(f"    e.g. {issue.witness}", highlight=False)
    # filters may share rules (an ASA interface ACL inside its combined filter): count each rule once
    written = len({id(rule) for flt in ruleset.filters.values() for rule in flt.rules})
    filters = ", ".join(flt.name for flt in linted_filters(ruleset)) or "none"
    console.print(f"{len(issues) or 'No hygiene'} issues in {written} rule{'' if written == 1 else 's'}; "
                  f"filters linted as the device "
                  f"applies them: {filters}.", highlight=False)
