"""``plantgate worker``, ``feeds``, ``baseline`` and ``fleet``: the commands of a fleet of plants on one PlantGate.

A company runs many plants on one database. Workers (``plantgate worker``, any number, on any
machine that reaches the PostgreSQL database) run the checks; ``feeds update`` brings KEV,
CSAF and Vulnrichment in once for every plant and re-judges those it touches; the corporate
baseline is validated here like a treaty before it is loaded; fleet-wide read roles are
granted here (every write stays a per-site grant, see ``plantgate admin grant``).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from plantgate.cli_web import CLI_ACTOR, DATABASE_OPTION, database
from plantgate.errors import InputError

FLEET_ROLES = ("corporate_security", "fleet_auditor")


def _postgres_only(database_url: str, what: str) -> None:
    from plantgate.jobs.queue import is_postgres

    if not is_postgres(database_url):
        raise InputError.at("--database-url", 0, 0, f"{what} needs PostgreSQL: with SQLite, `plantgate serve` runs "
                            "the jobs itself", "postgresql://user@host/db")


@click.command()
@DATABASE_OPTION
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Jobs at once in this process (checks are CPU-bound: start one worker per core instead).")
@click.option("--name", default=None, help="Worker name in logs and job records (default HOST:PID).")
@click.option("--heartbeat-seconds", default=10.0, show_default=True, type=float,
              help="How often this worker tells the database it is alive.")
@click.option("--stalled-after", default=30.0, show_default=True, type=float,
              help="Seconds without a heartbeat after which a worker counts as dead and its job runs elsewhere.")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty instead of waiting for jobs.")
@click.option("--nice", "niceness", default=10, show_default=True, type=click.IntRange(0, 19),
              help="Lower the worker's CPU priority by this much, so that a web app or database on the same machine "
              "answers before a check (0 keeps the priority).")
def worker(database_url: str, concurrency: int, name: str | None, heartbeat_seconds: float, stalled_after: float,
           burst: bool, niceness: int) -> None:
    """Run jobs (checks, re-judging, deliveries) from the PostgreSQL queue until stopped.

    \b
    Start one per core, on as many machines as you like; they share the queue in the database:
      plantgate worker --database-url postgresql://plantgate_worker@db/plantgate
    Ctrl-C or SIGTERM finishes the current job first. A worker killed outright loses nothing:
    its job runs again on another worker once it has missed its heartbeats (--stalled-after).
    """
    import logging

    from plantgate.jobs.tasks import run_worker

    _postgres_only(database_url, "plantgate worker")
    os.nice(niceness)  # checks are CPU-bound batch work: page views on a shared machine come first
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"worker {name or ''} waiting for jobs (Ctrl-C to stop)".replace("  ", " "), err=True)
    run_worker(database_url, concurrency=concurrency, name=name, heartbeat_seconds=heartbeat_seconds,
               stalled_after=stalled_after, wait=not burst)


@click.group()
def feeds() -> None:
    """Fleet-wide vulnerability feeds: KEV, CSAF advisories, Vulnrichment."""


@feeds.command("update")
@click.option("--kev", multiple=True, help="KEV catalog: URL, JSON/CSV file, or folder (repeatable).")
@click.option("--csaf", multiple=True, help="CSAF advisories: URL, file or folder (repeatable).")
@click.option("--vulnrichment", multiple=True, help="Vulnrichment CVE records: URL, file or folder (repeatable).")
@click.option("--mirror", multiple=True, type=click.Path(path_type=Path),
              help="A mirror folder with kev/, csaf/ and vulnrichment/ inside (repeatable).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Judge as of this day.")
@DATABASE_OPTION
def feeds_update(kev: tuple[str, ...], csaf: tuple[str, ...], vulnrichment: tuple[str, ...],
                 mirror: tuple[Path, ...], as_of: dt.datetime | None, database_url: str) -> None:
    """Load the feeds for every plant and queue the re-judging of the plants they touch.

    Each body is size-capped before it is read, and every file must parse (else nothing is
    stored and the problem is named with file:line). Sites whose exposed CVEs or matched
    advisories changed are checked again by the workers; the others keep their findings.
    """
    from plantgate.feeds.fleet import collect
    from plantgate.jobs.inputs import FEEDS, current_row, store_feeds
    from plantgate.jobs.work import FollowUp

    snapshot = collect({"kev": list(kev), "csaf": list(csaf), "vulnrichment": list(vulnrichment),
                        "mirror": [str(m) for m in mirror]})
    with database(database_url) as session:
        before = current_row(session, FEEDS)
        previous = before.digest if before is not None else ""
        row, created = store_feeds(session, snapshot, CLI_ACTOR)
        digest = row.digest
    counts = row.summary["counts"]
    click.echo(f"feeds {digest[:16]}: {counts['kev']} KEV entries, {counts['csaf']} CSAF advisories, "
               f"{counts['vulnrichment']} Vulnrichment records" + ("" if created else " (unchanged)"))
    if not created:
        return
    job = FollowUp("rejudge_after_feed_update", {"feeds": digest, "previous": previous,
                                                 "as_of": as_of.date().isoformat() if as_of else ""},
                   f"rejudge:{digest[:16]}")
    _enqueue(database_url, job)


def _enqueue(database_url: str, job: object) -> None:
    from plantgate.jobs.queue import ProcrastinateQueue, is_postgres, run_job
    from plantgate.jobs.work import FollowUp

    assert isinstance(job, FollowUp)
    if is_postgres(database_url):
        queue = ProcrastinateQueue(database_url)
        try:
            queue.submit(job)
        finally:
            queue.close()
        click.echo(f"queued {job.task} for the workers")
        return
    pending = [job]  # SQLite: no queue server and no workers; run the jobs here, one after the other
    while pending:
        current = pending.pop(0)
        outcome = run_job(database_url, current)
        click.echo(f"{current.task}: {outcome.summary}")
        pending.extend(outcome.follow_ups)


@click.group()
def baseline() -> None:
    """The corporate baseline: rules every plant's firewalls must satisfy."""


@baseline.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
def baseline_validate(file: Path) -> None:
    """Validate a baseline file; every problem with file:line:column (exit 2)."""
    from plantgate.load.baseline import load_baseline

    loaded = load_baseline(file)
    click.echo(f"{file}: baseline {loaded.baseline.baseline.name} {loaded.baseline.baseline.version}, "
               f"{len(loaded.baseline.rules)} rules, valid")


@baseline.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@DATABASE_OPTION
def baseline_load(file: Path, database_url: str) -> None:
    """Validate FILE and make it the fleet's baseline; every site is checked against it from now on."""
    from plantgate.jobs.inputs import store_baseline
    from plantgate.jobs.work import FollowUp

    with database(database_url) as session:
        row, created = store_baseline(session, file, CLI_ACTOR)
        summary = dict(row.summary)
    click.echo(f"baseline {summary['name']} {summary['version']} ({len(summary['rules'])} rules)"
               + (" loaded" if created else " unchanged"))
    if created:
        _enqueue(database_url, FollowUp("check_sites", {}, "check_sites"))


@baseline.command("schema")
def baseline_schema() -> None:
    """Print the baseline's JSON Schema (for editors and CI of the corporate repository)."""
    import json

    from plantgate.schema import baseline_schema as make

    click.echo(json.dumps(make(), indent=2))


@click.group()
def fleet() -> None:
    """The fleet: checks of every site, fleet-wide read roles."""


@fleet.command("check")
@DATABASE_OPTION
def fleet_check(database_url: str) -> None:
    """Queue the checks of every site's head revision (what the workers also do nightly)."""
    from plantgate.jobs.work import FollowUp

    _enqueue(database_url, FollowUp("check_sites", {}, "check_sites"))


@fleet.command("grant")
@click.argument("username")
@click.argument("role", type=click.Choice(FLEET_ROLES))
@click.option("--revoke", is_flag=True, help="Take the role away instead.")
@DATABASE_OPTION
def fleet_grant(username: str, role: str, revoke: bool, database_url: str) -> None:
    """Give USERNAME a fleet-wide READ role: every site's pages and the fleet pages, no writes anywhere."""
    from plantgate.db import accounts
    from plantgate.db.fleet import grant_fleet_role, revoke_fleet_role

    with database(database_url) as session:
        user = accounts.user_by_name(session, username)
        if user is None:
            raise InputError.at(username, 0, 0, "no such user", "a user made with `plantgate admin create-user`")
        if revoke:
            revoke_fleet_role(session, user, role, actor=CLI_ACTOR)
        else:
            grant_fleet_role(session, user, role, actor=CLI_ACTOR)
    click.echo(f"{username} {'no longer holds' if revoke else 'now holds'} {role} across the fleet")
