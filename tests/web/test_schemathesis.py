"""Schemathesis against the app's own OpenAPI: no operation may answer 5xx, whatever it is sent.

The app runs in-process (ASGI), seeded with the example plant, and every generated request
carries an IT engineer's API token, so the authenticated paths (findings, register, decisions,
config upload -> re-check) are exercised, not just the 401 in front of them. The site slug
is bound to the seeded site and the firewall id is drawn from the treaty's firewalls (or left
random), so the generated data reaches the handlers' real work.

Beyond "no 5xx", responses must use a documented status code and content type, and 2xx bodies
must match their declared schema. The same run happens on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from plantgate.db import accounts, revisions
from plantgate.db.accounts import Role
from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.web.conftest import AS_OF, SITE

MAX_EXAMPLES = 15
DEPLOYED_CONFIGS = {"fw-it-dmz": "fw-it-dmz.asa", "fw-dmz-ot": "fw-dmz-ot.iptables"}
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


def _seeded_schema(database_url: str, folder: Path) -> tuple[OpenApiSchema, Any]:
    app = create_app(Settings(database_url=database_url, as_of=AS_OF, api_check_wait_seconds=120, jobs="local"))
    with app.state.sessions.begin() as session:
        revisions.import_folder(session, folder, slug=SITE, actor="test")
        site = revisions.site_by_slug(session, SITE)
        assert site is not None
        user = accounts.create_user(session, "m.okafor", None, actor="test")
        accounts.grant(session, user, site, Role.IT_ENGINEER, actor="test")
        token = accounts.create_api_token(session, user, site, Role.IT_ENGINEER, "schemathesis", actor="test")
    config = SchemathesisConfig.from_dict({
        "headers": {"Authorization": f"Bearer {token}"},
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
    })
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)

    deployed = {firewall: (folder / "firewalls" / name).read_text(encoding="utf-8")
                for firewall, name in DEPLOYED_CONFIGS.items()}

    @schema.hook
    def flatmap_case(context: Any, case: Any) -> st.SearchStrategy[Any]:
        """Aim config uploads at the treaty's firewalls, half of them the real config plus generated junk."""
        if "firewall_id" not in case.path_parameters:
            return st.just(case)

        def aimed(choice: tuple[str | None, bool]) -> Any:
            firewall, with_real_config = choice
            if firewall is not None:
                case.path_parameters = {**case.path_parameters, "firewall_id": firewall}
                if with_real_config and isinstance(case.body, str):
                    case.body = f"{deployed[firewall]}\n{case.body}\n"
            return case

        return st.tuples(st.sampled_from([*DEPLOYED_CONFIGS, None]), st.booleans()).map(aimed)

    return schema, app


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_schema(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               example_copy: Path) -> Iterator[OpenApiSchema]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'plantgate.db'}"
    else:
        from tests.web.conftest import _reset_postgres

        url = request.getfixturevalue("postgres_server_url")
        _reset_postgres(url)
    schema, app = _seeded_schema(url, example_copy)
    yield schema
    app.state.jobs.close()
    app.state.engine.dispose()


OPERATIONS = ["GET /api/v1/sites/{slug}/findings", "GET /api/v1/sites/{slug}/register",
              "GET /api/v1/sites/{slug}/decisions", "POST /api/v1/sites/{slug}/firewalls/{firewall_id}/config",
              "GET /api/v1/sites/{slug}/uploads/{upload_id}"]
BY_ID = {"GET /api/v1/sites/{slug}/uploads/{upload_id}"}
"""Operations on one stored row by id: generated ids rarely exist (404), so success is not required of them."""


RUNS = [(label, mode) for label in OPERATIONS for mode in GenerationMode
        if not (mode is GenerationMode.NEGATIVE and label.endswith("/decisions"))]
"""Every operation with data that fits the schema and data that does not; GET decisions has no
parameter left to break once the slug is bound, so it has no negative run."""


@pytest.mark.parametrize(("label", "mode"), RUNS)
def test_no_operation_answers_5xx(api_schema: OpenApiSchema, label: str, mode: GenerationMode) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is no longer in the OpenAPI"

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters={"slug": SITE}))
    def run(case: Any) -> None:
        response = case.call_and_validate(checks=CHECKS)
        statuses[response.status_code] += 1

    statuses: Counter[int] = Counter()
    run()
    assert statuses.keys() - {401, 403, 404} or label in BY_ID, f"{label}: none got past authorization: {statuses}"
    if mode is GenerationMode.POSITIVE and label not in BY_ID:
        assert any(200 <= s < 300 for s in statuses), f"{label}: no generated request succeeded: {statuses}"


def test_every_api_operation_is_exercised(api_schema: OpenApiSchema) -> None:
    """The fuzzing above covers every operation of the OpenAPI: a new one must be added to OPERATIONS."""
    operations = {f"{op.method.upper()} {op.path}" for op in (r.ok() for r in api_schema.get_all_operations()
                                                                if isinstance(r, Ok))}
    assert operations == set(OPERATIONS)


def test_the_harness_reports_a_server_error() -> None:
    """The run above can fail: the same checks on an app whose only operation answers 500 find it.

    (An unhandled exception in the app is not even turned into a 500: the in-process client re-raises it.)
    """
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from schemathesis.core.failures import FailureGroup

    broken = FastAPI()

    @broken.get("/crash/{n}", response_model=None)
    def crash(n: int) -> Any:
        return JSONResponse({"n": n}, status_code=500 if n % 2 else 200)

    schema = schemathesis.openapi.from_asgi("/openapi.json", broken)
    operation = schema.find_operation_by_label("GET /crash/{n}")
    assert operation is not None

    @settings(max_examples=10, deadline=None, database=None, phases=[Phase.generate])
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(checks=(not_a_server_error,))

    with pytest.raises(FailureGroup):
        run()
