"""``plantgate serve``, ``db``, ``admin`` and ``audit``: the web app's commands, thin shells over plantgate.db.

There is no default password anywhere: ``admin create-user`` asks for one (or reads it from
stdin), and ``serve --demo`` seeds the example plant with password-less people who log in
through one-time links printed on the terminal.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import click
from sqlalchemy import text
from sqlalchemy.orm import Session

from plantgate.db import accounts, audit_anchor, audit_replay, revisions, sso
from plantgate.db import admin as admin_ops
from plantgate.db import audit as audit_log
from plantgate.db.accounts import Role
from plantgate.db.engine import make_engine, session_factory, upgrade
from plantgate.errors import InputError
from plantgate.web.settings import DEFAULT_DATABASE_URL, Settings

DATABASE_OPTION = click.option("--database-url", envvar="PLANTGATE_DATABASE_URL", default=DEFAULT_DATABASE_URL,
                               show_default=True, help="SQLite file or postgresql://user@host/db "
                               "(env PLANTGATE_DATABASE_URL).")
CLI_ACTOR = "cli"
DEMO_ROLE_MAP = {"it_engineer": Role.IT_ENGINEER, "platform_owner": Role.IT_ENGINEER,
                 "ot_approver": Role.OT_APPROVER, "plant_leadership": Role.PLANT_LEADERSHIP,
                 "soc_analyst": Role.SOC_ANALYST, "soc": Role.SOC_ANALYST, "auditor": Role.AUDITOR}


@contextmanager
def database(url: str) -> Iterator[Session]:
    """A migrated database session that commits on success."""
    engine = make_engine(url)
    upgrade(engine)
    try:
        with session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()


def _site(session: Session, slug: str) -> revisions.SiteRow:
    site = revisions.site_by_slug(session, slug)
    if site is None:
        raise InputError.at(slug, 0, 0, "no such site", "the slug of an imported site")
    return site


@click.group()
def db() -> None:
    """Database: import and export treaty folders, apply migrations."""


@db.command("upgrade")
@DATABASE_OPTION
@click.option("--app-role", "app_roles", multiple=True, envvar="PLANTGATE_DATABASE_APP_ROLE",
              help="PostgreSQL: a role the web app or the workers connect as (repeatable; env "
                   "PLANTGATE_DATABASE_APP_ROLE); it is granted the business tables and only SELECT and INSERT on "
                   "the audit log. Run this as the owner role.")
def db_upgrade(database_url: str, app_roles: tuple[str, ...]) -> None:
    """Create or migrate the schema to the latest version (as the owner role on PostgreSQL)."""
    engine = make_engine(database_url)
    try:
        upgrade(engine, app_roles)
    finally:
        engine.dispose()
    click.echo("database is up to date" + (f"; {', '.join(app_roles)} granted the app's privileges"
                                           if app_roles else ""))


@db.command("grant-roles")
@click.option("--web", "web_role", required=True, help="The role the web app connects as.")
@click.option("--worker", "worker_role", required=True, help="The role `plantgate worker` connects as.")
@DATABASE_OPTION
def db_grant_roles(web_role: str, worker_role: str, database_url: str) -> None:
    """PostgreSQL: let the web and worker roles use (never own) the tables; run as the migration role.

    The audit log is left to them for SELECT and INSERT only, and only its owner could touch its
    append-only triggers. Run after `plantgate db upgrade`, as the same role.
    """
    from plantgate.db.roles import owned_by_others

    engine = make_engine(database_url)
    try:
        upgrade(engine, [web_role, worker_role])
        with engine.begin() as connection:
            owner = str(connection.execute(text("SELECT current_user")).scalar())
            strays = owned_by_others(connection, owner)
    finally:
        engine.dispose()
    click.echo(f"{web_role} and {worker_role} may use the tables owned by {owner}")
    if strays:
        click.echo(f"warning: tables not owned by {owner}: {', '.join(strays)}", err=True)


@db.command("import")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--site", "slug", default=None, help="Site slug (default: from the site name).")
@click.option("-m", "--message", default="", help="Revision message.")
@DATABASE_OPTION
def db_import(directory: Path, slug: str | None, message: str, database_url: str) -> None:
    """Validate a treaty folder and store it as the next revision of its site."""
    with database(database_url) as session:
        revision = revisions.import_folder(session, directory, slug=slug, actor=CLI_ACTOR, message=message)
        site = session.get_one(revisions.SiteRow, revision.site_id)
        click.echo(f"imported {directory} as revision {revision.number} of site {site.slug}")


@db.command("export")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--site", "slug", required=True, help="Site slug.")
@click.option("--revision", "number", type=int, default=None, help="Revision number (default: the head).")
@DATABASE_OPTION
def db_export(directory: Path, slug: str, number: int | None, database_url: str) -> None:
    """Write a site's revision as a treaty folder (DIRECTORY must be new or empty)."""
    with database(database_url) as session:
        revision = revisions.export_folder(session, slug, directory, number)
        click.echo(f"exported revision {revision.number} of {slug} to {directory}")


@click.group()
def admin() -> None:
    """Accounts and incident response: users, roles per site, API tokens, disabling and password resets."""


@admin.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--admin", "is_admin", is_flag=True, help="May manage users and roles on every site.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of prompting.")
@click.option("--email", default="", help="Where notifications for the user's roles are mailed.")
@DATABASE_OPTION
def create_user(username: str, display_name: str, is_admin: bool, password_stdin: bool, email: str,
                database_url: str) -> None:
    """Create a local account (argon2id); the password is asked for, never given on the command line."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with database(database_url) as session:
        user = accounts.create_user(session, username, password, actor=CLI_ACTOR, display_name=display_name,
                                    is_admin=is_admin)
        user.email = email.strip()
    click.echo(f"user {username} created")


@admin.command("grant")
@click.argument("username")
@click.argument("slug")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@DATABASE_OPTION
def grant_role(username: str, slug: str, role: str, database_url: str) -> None:
    """Give USERNAME the ROLE at site SLUG."""
    with database(database_url) as session:
        user = accounts.user_by_name(session, username)
        if user is None:
            raise InputError.at(username, 0, 0, "no such user", "a user made with `plantgate admin create-user`")
        warning = accounts.grant(session, user, _site(session, slug), Role(role), actor=CLI_ACTOR)
    click.echo(f"{username} is now {role} at {slug}")
    if warning:
        click.echo(f"warning: {warning}", err=True)


@admin.command("token")
@click.argument("username")
@click.argument("slug")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--name", default="automation", help="What the token is for.")
@click.option("--days", default=accounts.API_TOKEN_LIFETIME.days, show_default=True, type=int,
              help="Days until the token expires.")
@DATABASE_OPTION
def api_token(username: str, slug: str, role: str, name: str, days: int, database_url: str) -> None:
    """Issue an API token acting as USERNAME with exactly ROLE at SLUG (printed once).

    It expires after --days, and is revoked by a password change of its user or by `admin revoke-token`."""
    with database(database_url) as session:
        user = accounts.user_by_name(session, username)
        if user is None:
            raise InputError.at(username, 0, 0, "no such user", "an existing user")
        token = accounts.create_api_token(session, user, _site(session, slug), Role(role), name, actor=CLI_ACTOR,
                                          lifetime=dt.timedelta(days=days))
    click.echo(token)


@admin.command("users")
@DATABASE_OPTION
def list_users(database_url: str) -> None:
    """List every user, whether active, and their roles per site (source: local grant or IdP group)."""
    with database(database_url) as session:
        for user in admin_ops.users(session):
            state = ("active" if user.active else "DISABLED") + (", admin" if user.admin else "")
            grants = ", ".join(f"{role}@{slug}" + (" (oidc)" if source == "oidc" else "")
                               for slug, role, source in user.grants) or "no roles"
            click.echo(f"{user.username}\t{state}\t{grants}")


@admin.command("disable")
@click.argument("username")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@DATABASE_OPTION
def disable_user(username: str, reason: str, database_url: str) -> None:
    """Disable USERNAME now: every session ends, API tokens and links stop working, logins are refused."""
    with database(database_url) as session:
        ended = admin_ops.set_active(session, username, False, actor=CLI_ACTOR, reason=reason)
    click.echo(f"{username} disabled; {ended} session(s) ended")


@admin.command("enable")
@click.argument("username")
@DATABASE_OPTION
def enable_user(username: str, database_url: str) -> None:
    """Re-enable a disabled user (their old sessions stay ended)."""
    with database(database_url) as session:
        admin_ops.set_active(session, username, True, actor=CLI_ACTOR)
    click.echo(f"{username} enabled")


@admin.command("revoke")
@click.argument("username")
@click.argument("slug")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@DATABASE_OPTION
def revoke_role(username: str, slug: str, role: str, database_url: str) -> None:
    """Remove USERNAME's ROLE at site SLUG (from their very next request)."""
    with database(database_url) as session:
        admin_ops.remove_grant(session, username, slug, Role(role), actor=CLI_ACTOR)
    click.echo(f"{username} no longer holds {role} at {slug}")


@admin.command("reset-password")
@click.argument("username")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True,
              help="The app's external URL, to print the link with.")
@DATABASE_OPTION
def reset_password(username: str, base_url: str, database_url: str) -> None:
    """Clear USERNAME's password now (every session ends) and print a one-time link, valid for 15 minutes, where
    they set a new one. Setting it also revokes their API tokens."""
    with database(database_url) as session:
        token = admin_ops.reset_password(session, username, actor=CLI_ACTOR)
    click.echo(f"{base_url.rstrip('/')}/account/reset/{token}")


@admin.command("tokens")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
@DATABASE_OPTION
def list_tokens(username: str | None, database_url: str) -> None:
    """List API tokens: id, name, user, site, role, created, expires, state (active, expired, revoked)."""
    with database(database_url) as session:
        for token in admin_ops.tokens(session, username):
            click.echo("\t".join([token.id, token.name, token.username, token.site, token.role, token.created,
                                  token.expires, token.state]))


@admin.command("revoke-token")
@click.argument("token_id")
@DATABASE_OPTION
def revoke_token(token_id: str, database_url: str) -> None:
    """Revoke the API token TOKEN_ID (the id column of `admin tokens`)."""
    with database(database_url) as session:
        token = admin_ops.revoke_token(session, token_id, actor=CLI_ACTOR)
    click.echo(f"token {token.id} ({token.name}, {token.username}) revoked")


@admin.command("purge")
@DATABASE_OPTION
def purge(database_url: str) -> None:
    """Delete expired or revoked sessions, spent links and old login-throttle rows (the app also does this when it
    starts)."""
    with database(database_url) as session:
        counts = admin_ops.purge(session)
    click.echo(", ".join(f"{count} {name}" for name, count in counts.items()) + " purged")


@admin.command("map-group")
@click.argument("slug")
@click.argument("group")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--remove", is_flag=True, help="Remove the mapping instead.")
@DATABASE_OPTION
def map_group(slug: str, group: str, role: str, remove: bool, database_url: str) -> None:
    """Single sign-on: members of IdP GROUP hold ROLE at site SLUG (from their next sign-on)."""
    with database(database_url) as session:
        site = _site(session, slug)
        if remove:
            if not sso.unmap_group(session, site, group, Role(role), actor=CLI_ACTOR):
                raise InputError.at(group, 0, 0, f"no mapping of {group} to {role} at {slug}", "an existing mapping")
            click.echo(f"IdP group {group} no longer gives {role} at {slug}")
            return
        sso.map_group(session, site, group, Role(role), actor=CLI_ACTOR)
    click.echo(f"IdP group {group} gives {role} at {slug}")


@admin.command("groups")
@DATABASE_OPTION
def list_groups(database_url: str) -> None:
    """List the IdP group -> role mappings of every site."""
    with database(database_url) as session:
        for slug, group, role in sso.group_mappings(session):
            click.echo(f"{slug}\t{group}\t{role}")


@click.group("audit")
def audit() -> None:
    """The audit log."""


AUDIT_KEY_HELP = ("The checkpoint key: env PLANTGATE_AUDIT_HMAC_KEY, or PLANTGATE_AUDIT_SIGNING_KEY_FILE / --key-file "
                  "(an Ed25519 PEM key; the public key is enough to verify).")


def _audit_signer(key_file: str | None) -> audit_anchor.Signer | None:
    settings = Settings()
    return audit_anchor.signer_from(settings.audit_hmac_key.get_secret_value(),
                                    key_file or settings.audit_signing_key_file)


@audit.command("verify")
@click.option("--checkpoints", "checkpoint_files", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="A file of checkpoints kept outside the database (repeatable; default: "
                   "PLANTGATE_AUDIT_CHECKPOINT_FILE). Lines cut from the syslog collector work too.")
@click.option("--key-file", default=None, help=AUDIT_KEY_HELP)
@DATABASE_OPTION
def audit_verify(checkpoint_files: tuple[Path, ...], key_file: str | None, database_url: str) -> None:
    """Check the audit log: its hash chain, the signed checkpoints that anchor it outside the database (deleted
    newest entries, a re-chained log), and a replay of it against the business tables (change states, decisions,
    signatures, grants, users, revisions). Exit 1 naming every problem."""
    signer = _audit_signer(key_file)
    files = list(checkpoint_files) or ([Path(f)] if (f := Settings().audit_checkpoint_file) else [])
    outside = [c for file in files if file.exists() for c in audit_anchor.read_file(file)]
    with database(database_url) as session:
        result = audit_log.verify(session)
        problems = [] if result.ok else [f"AUDIT LOG BROKEN at entry {result.first_bad_seq}: {result.problem}"]
        notes = []
        if signer is None:
            notes.append("NOT ANCHORED: no checkpoint key is configured, so deleting the newest entries or "
                         "re-chaining the whole log would not be detected")
        else:
            checkpoints = outside + audit_anchor.stored(session)
            good, anchor_problems = audit_anchor.verify_against_log(session, checkpoints, signer)
            problems += anchor_problems
            if not outside:
                notes.append("no checkpoint file outside the database was given: only the database's own copies "
                             "were checked, and those could have been deleted with the entries")
            notes.append(f"{good} signed checkpoint(s) verified")
        problems += audit_replay.differences(session)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"AUDIT LOG CHECK FAILED: {len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"audit log intact: {result.problem}; the business tables agree with it")


@audit.command("checkpoint")
@click.option("--key-file", default=None, help=AUDIT_KEY_HELP)
@DATABASE_OPTION
def audit_checkpoint(key_file: str | None, database_url: str) -> None:
    """Write a signed checkpoint of the log's head now (to the table, PLANTGATE_AUDIT_CHECKPOINT_FILE and
    PLANTGATE_AUDIT_SYSLOG); the app does this itself after every signature and periodically."""
    signer = _audit_signer(key_file)
    if signer is None:
        raise InputError.at("--key-file", 0, 0, "no checkpoint key configured", AUDIT_KEY_HELP)
    settings = Settings()
    with database(database_url) as session:
        checkpoint = audit_anchor.write_checkpoint(session, signer, file=settings.audit_checkpoint_file,
                                                   syslog=settings.audit_syslog, force=True)
    click.echo(f"checkpoint of entry {checkpoint.seq} ({checkpoint.count} entries)" if checkpoint
               else "the audit log is empty: nothing to sign")


def seed_demo(session: Session, base_url: str) -> list[tuple[str, str, str]]:
    """Import the example plant; one password-less user per person; returns (user, roles, one-time URL)."""
    source = resources.files("plantgate") / "examples" / "petrochem"
    with resources.as_file(source) as folder:
        site = revisions.site_by_slug(session, "bayport")
        if site is None:
            revisions.import_folder(session, Path(folder), slug="bayport", actor="demo", message="demo seed")
    site_row = _site(session, "bayport")
    treaty = revisions.snapshot_of(session, revisions.head(session, site_row)).treaty()  # type: ignore[arg-type]
    people = [(p.id, p.name, {DEMO_ROLE_MAP[r.value] for r in p.roles if r.value in DEMO_ROLE_MAP})
              for p in treaty.people]
    people.append(("auditor", "Demo auditor", {Role.AUDITOR}))
    links = []
    for username, name, roles in people:
        if not roles:
            continue
        user = accounts.user_by_name(session, username) or accounts.create_user(
            session, username, None, actor="demo", display_name=name)
        for role in sorted(roles):
            accounts.grant(session, user, site_row, role, actor="demo")
        token = accounts.create_login_link(session, user, actor="demo")
        links.append((username, ", ".join(sorted(r.value for r in roles)), f"{base_url}/login/once/{token}"))
    audit_log.record(session, actor="demo", action="demo.seed", object_type="site", object_id="bayport",
                     site="bayport")
    return links


@click.command()
@DATABASE_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Seed the example plant and print one-time login URLs.")
@click.option("--ssl-certfile", type=click.Path(exists=True), default=None, help="TLS certificate (PEM).")
@click.option("--ssl-keyfile", type=click.Path(exists=True), default=None, help="TLS private key (PEM).")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="ADDRESS",
              help="A reverse proxy (IP or network) whose X-Forwarded-For/-Proto are believed; repeatable. "
                   "From anyone else they are ignored.")
def serve(database_url: str, host: str, port: int, demo: bool, ssl_certfile: str | None,
          ssl_keyfile: str | None, trusted_proxies: tuple[str, ...]) -> None:
    """Run the web app (creates ./plantgate.db by default).

    Session cookies are Secure: browsers accept them over https, and over plain http only on
    localhost. Serve behind TLS (or give --ssl-certfile/--ssl-keyfile) for anything else.
    """
    import uvicorn

    from plantgate.web.app import create_app

    scheme = "https" if ssl_certfile else "http"
    if demo:
        with database(database_url) as session:
            links = seed_demo(session, f"{scheme}://{host}:{port}")
        click.echo("Demo site 'bayport' ready. One-time login links (each works once, for 15 minutes):")
        for username, roles, url in links:
            click.echo(f"  {username:<14} {roles:<40} {url}")
    if scheme == "http" and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo("warning: Secure session cookies are not sent over plain http to a non-local host; "
                   "use TLS", err=True)
    settings = Settings(database_url=database_url)
    if trusted_proxies:
        settings = settings.model_copy(update={"trusted_proxies": list(trusted_proxies)})
    app = create_app(settings)
    # the app reads proxy headers itself, from Settings.trusted_proxies only (uvicorn would trust 127.0.0.1)
    uvicorn.run(app, host=host, port=port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, log_level="info",
                proxy_headers=False)
