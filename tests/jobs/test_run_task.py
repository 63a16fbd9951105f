"""Job bodies run with the cyclic collector paused (their objects live to the end), and it is back on after."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from plantgate.jobs import work
from plantgate.jobs.work import Outcome


def test_a_job_body_runs_with_the_collector_paused_and_resumes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def probe(url: str, *, revision_id: int, settings: Any = None) -> Outcome:
        seen.update(enabled=gc.isenabled(), url=url, revision_id=revision_id)
        return Outcome("probed")

    monkeypatch.setattr(work, "probe", probe, raising=False)
    assert gc.isenabled()
    assert work.run_task("probe", "sqlite://", {"revision_id": 7}, None).summary == "probed"
    assert seen == {"enabled": False, "url": "sqlite://", "revision_id": 7}
    assert gc.isenabled()


def test_the_collector_is_back_on_after_a_job_body_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(url: str, settings: Any = None) -> Outcome:
        raise RuntimeError("boom")

    monkeypatch.setattr(work, "failing", failing, raising=False)
    with pytest.raises(RuntimeError):
        work.run_task("failing", "sqlite://", {}, None)
    assert gc.isenabled()
