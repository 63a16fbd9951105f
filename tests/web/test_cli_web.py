"""The web app's commands: db import/export/upgrade, admin create-user/grant/token, audit verify, demo seed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from plantgate.cli import main
from plantgate.cli_web import database, seed_demo
from plantgate.db import accounts
from plantgate.db.engine import make_engine, session_factory
from plantgate.load import load_site
from tests.sites import copy_example


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.output


def test_db_import_export_round_trip(tmp_path: Path, database_url: str) -> None:
    example = copy_example(tmp_path)
    code, out = run("db", "import", str(example), "--site", "bayport", "--database-url", database_url)
    assert code == 0 and "revision 1 of site bayport" in out
    code, out = run("db", "export", str(tmp_path / "out"), "--site", "bayport", "--database-url", database_url)
    assert code == 0
    assert load_site(tmp_path / "out").treaty == load_site(example).treaty
    code, out = run("db", "export", str(tmp_path / "out"), "--site", "bayport", "--database-url", database_url)
    assert code == 2 and "not empty" in out
    code, out = run("db", "export", str(tmp_path / "x"), "--site", "nope", "--database-url", database_url)
    assert code == 2 and "no such site" in out


def test_db_import_of_an_invalid_folder_exits_2_with_the_location(tmp_path: Path, database_url: str) -> None:
    example = copy_example(tmp_path)
    zones = example / "zones.yaml"
    zones.write_text(zones.read_text().replace("zones:", "zones:\n  - {id: bad, colour: red}", 1))
    code, out = run("db", "import", str(example), "--database-url", database_url)
    assert code == 2 and "colour" in out and "zones.yaml" in out


def test_admin_create_user_grant_and_token(tmp_path: Path, database_url: str) -> None:
    run("db", "import", str(copy_example(tmp_path)), "--site", "bayport", "--database-url", database_url)
    code, out = run("admin", "create-user", "alice", "--password-stdin", "--database-url", database_url,
                    input="short\n")
    assert code == 2 and "shorter than 12" in out
    code, out = run("admin", "create-user", "alice", "--password-stdin", "--email", "alice@plant.example",
                    "--database-url", database_url, input="a long enough passphrase\n")
    assert code == 0
    code, out = run("fleet", "grant", "alice", "fleet_auditor", "--database-url", database_url)
    assert code == 0 and "fleet_auditor across the fleet" in out
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        from plantgate.db.fleet import fleet_roles

        alice = accounts.user_by_name(session, "alice")
        assert alice is not None and alice.email == "alice@plant.example"
        assert fleet_roles(session, alice) == {"fleet_auditor"}
    engine.dispose()
    code, out = run("admin", "grant", "alice", "bayport", "ot_approver", "--database-url", database_url)
    assert code == 0
    code, out = run("admin", "token", "alice", "bayport", "auditor", "--database-url", database_url)
    assert code == 2 and "does not hold auditor" in out
    code, out = run("admin", "token", "alice", "bayport", "ot_approver", "--database-url", database_url)
    assert code == 0 and out.startswith("pgt_")


def test_audit_verify_names_the_first_bad_entry(tmp_path: Path, database_url: str) -> None:
    run("db", "import", str(copy_example(tmp_path)), "--site", "bayport", "--database-url", database_url)
    code, out = run("audit", "verify", "--database-url", database_url)
    assert code == 0 and "intact" in out
    engine = make_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        connection.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1"))
    engine.dispose()
    code, out = run("audit", "verify", "--database-url", database_url)
    assert code == 1 and "entry 1" in out


def test_demo_seed_makes_password_less_users_with_one_time_links(database_url: str) -> None:
    with database(database_url) as session:
        links = seed_demo(session, "http://127.0.0.1:8000")
    users = {username: roles for username, roles, _ in links}
    assert users["r.alvarez"] == "ot_approver" and users["s.patel"] == "plant_leadership"
    assert users["auditor"] == "auditor"
    assert all(url.startswith("http://127.0.0.1:8000/login/once/") for _, _, url in links)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM users WHERE password_hash IS NOT NULL")).scalar() == 0
    engine.dispose()


def test_admin_maps_idp_groups_to_roles_per_site(tmp_path: Path, database_url: str) -> None:
    run("db", "import", str(copy_example(tmp_path)), "--site", "bayport", "--database-url", database_url)
    code, out = run("admin", "map-group", "bayport", "cn=OT Approvers,ou=Bayport", "ot_approver",
                    "--database-url", database_url)
    assert code == 0 and "gives ot_approver at bayport" in out
    code, out = run("admin", "groups", "--database-url", database_url)
    assert code == 0 and out == "bayport\tcn=OT Approvers,ou=Bayport\tot_approver\n"
    assert run("admin", "map-group", "nope", "g", "auditor", "--database-url", database_url)[0] == 2
    code, out = run("admin", "map-group", "bayport", "cn=OT Approvers,ou=Bayport", "ot_approver", "--remove",
                    "--database-url", database_url)
    assert code == 0 and run("admin", "groups", "--database-url", database_url)[1] == ""
    assert run("admin", "map-group", "bayport", "g", "auditor", "--remove", "--database-url", database_url)[0] == 2
