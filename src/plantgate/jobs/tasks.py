"""The Procrastinate app: PlantGate's job bodies as tasks, their periodic jobs, and the worker.

Procrastinate keeps the jobs in PostgreSQL tables (created by our Alembic migration), hands
each to one worker, and gives a job a worker that stopped heartbeating to another through
its stalled-jobs API (``retry_stalled_jobs`` below, the library's documented recipe, run by
its periodic scheduler). Every task is an ``async`` shell that runs the blocking job body in
a thread, so the worker's heartbeat keeps beating during a long check, then defers the
follow-ups the body asked for.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

from plantgate.jobs import work
from plantgate.jobs.work import FollowUp
from plantgate.web.settings import Settings

log = logging.getLogger(__name__)
RETRY = procrastinate.RetryStrategy(max_attempts=5, wait=5, exponential_wait=2)
STALLED_SWEEP_CRON = "* * * * * */5"
"""Every 5 seconds (croniter's sixth field is seconds): a killed worker's job is back within ~35 s."""


def conninfo(database_url: str) -> str:
    """The psycopg connection string of a SQLAlchemy URL (``postgresql+psycopg://`` -> ``postgresql://``)."""
    scheme, rest = database_url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else database_url


async def _follow(context: procrastinate.JobContext, follow_ups: list[FollowUp]) -> None:
    for job in follow_ups:
        try:
            await context.app.configure_task(f"plantgate.{job.task}", queueing_lock=job.lock,
                                             lock=job.lock).defer_async(**job.kwargs)
        except AlreadyEnqueued:
            pass


async def _run(context: procrastinate.JobContext, task: str, **kwargs: Any) -> str:
    url: str = context.additional_context["database_url"]
    settings: Settings = context.additional_context["settings"]
    outcome = await asyncio.to_thread(work.run_task, task, url, kwargs, settings)
    await _follow(context, outcome.follow_ups)
    log.info("%s: %s", task, outcome.summary)
    return outcome.summary


def make_app(database_url: str) -> procrastinate.App:
    """A Procrastinate app on the PlantGate database with every PlantGate task registered."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url)))

    @app.task(name="plantgate.check_revision", pass_context=True, retry=RETRY)
    async def check_revision(context: procrastinate.JobContext, revision_id: int, as_of: str, feeds: str = "",
                             baseline: str = "") -> str:
        return await _run(context, "check_revision", revision_id=revision_id, as_of=as_of, feeds=feeds,
                          baseline=baseline)

    @app.task(name="plantgate.rejudge_after_feed_update", pass_context=True, retry=RETRY)
    async def rejudge_after_feed_update(context: procrastinate.JobContext, feeds: str, previous: str = "",
                                        as_of: str = "") -> str:
        return await _run(context, "rejudge_after_feed_update", feeds=feeds, previous=previous, as_of=as_of)

    @app.task(name="plantgate.fold_config", pass_context=True, retry=RETRY)
    async def fold_config(context: procrastinate.JobContext, upload_id: int) -> str:
        return await _run(context, "fold_config", upload_id=upload_id)

    @app.task(name="plantgate.render_report", pass_context=True, retry=RETRY)
    async def render_report(context: procrastinate.JobContext, revision_id: int, as_of: str, feeds: str = "",
                            baseline: str = "", format: str = "html") -> str:
        return await _run(context, "render_report", revision_id=revision_id, as_of=as_of, feeds=feeds,
                          baseline=baseline, format=format)

    @app.task(name="plantgate.render_zone_pictures", pass_context=True, retry=RETRY)
    async def render_zone_pictures(context: procrastinate.JobContext, revision_id: int, as_of: str) -> str:
        return await _run(context, "render_zone_pictures", revision_id=revision_id, as_of=as_of)

    @app.task(name="plantgate.check_sites", pass_context=True, retry=RETRY)
    async def check_sites(context: procrastinate.JobContext, as_of: str = "") -> str:
        return await _run(context, "check_sites", as_of=as_of)

    @app.task(name="plantgate.deliver", pass_context=True, retry=RETRY)
    async def deliver(context: procrastinate.JobContext, outbox_id: int) -> str:
        return await _run(context, "deliver", outbox_id=outbox_id)

    @app.periodic(cron="*/5 * * * *", periodic_id="deliver_pending")
    @app.task(name="plantgate.deliver_pending", pass_context=True, queueing_lock="deliver_pending")
    async def deliver_pending(context: procrastinate.JobContext, timestamp: int) -> str:
        return await _run(context, "deliver_pending")

    @app.periodic(cron="0 2 * * *", periodic_id="nightly")
    @app.task(name="plantgate.nightly", pass_context=True, queueing_lock="nightly")
    async def nightly(context: procrastinate.JobContext, timestamp: int) -> str:
        return await _run(context, "check_sites")

    @app.periodic(cron="0 6 * * *", periodic_id="exceptions_expiring")
    @app.task(name="plantgate.exceptions_expiring", pass_context=True, queueing_lock="exceptions_expiring")
    async def exceptions_expiring(context: procrastinate.JobContext, timestamp: int) -> str:
        return await _run(context, "exceptions_expiring")

    @app.periodic(cron=STALLED_SWEEP_CRON, periodic_id="retry_stalled_jobs")
    @app.task(name="plantgate.retry_stalled_jobs", pass_context=True, queueing_lock="retry_stalled_jobs")
    async def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> str:
        seconds = float(context.additional_context.get("stalled_after", 30.0))
        stalled = list(await context.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds))
        for job in stalled:
            await context.app.job_manager.retry_job(job)
            log.warning("job %s (%s) of a worker that stopped heartbeating is queued again", job.id, job.task_name)
        return f"{len(stalled)} stalled jobs queued again"

    return app


def run_worker(database_url: str, *, concurrency: int = 1, name: str | None = None, heartbeat_seconds: float = 10.0,
               stalled_after: float = 30.0, wait: bool = True) -> None:
    """Run a worker until it is stopped (SIGINT/SIGTERM finish the current job first)."""
    settings = Settings(database_url=database_url)
    if name:
        work.set_worker_name(name)
    app = make_app(database_url)
    app.run_worker(concurrency=concurrency, name=name or work.worker_name(), wait=wait,
                   update_heartbeat_interval=heartbeat_seconds, stalled_worker_timeout=stalled_after,
                   additional_context={"database_url": database_url, "settings": settings,
                                       "stalled_after": stalled_after})
