"""Password checks that protect without locking people out: progressive delay per (account, client).

The old rule refused every login of an account after 5 failures, and every login from an
address after 20, for 15 minutes, renewable forever: anyone could lock the OT approver out at
2 a.m., or everyone behind one NAT address. Now:
- failures are counted per (account, client). The first FREE_ATTEMPTS checks of a pair are
  free; each one after that must wait twice as long as the one before (1 s, 2 s, 4 s, ... up to
  MAX_DELAY). The pair is forgotten FORGET_AFTER after its last failure, and at once after a
  correct password;
- a correct password from a client that has not been failing always works: another client's
  failures on the same account never count against it;
- the attempt is counted BEFORE the password is checked, by a compare-and-swap on the pair's
  counter, so concurrent guesses cannot all slip under the limit (30 at once against 5 free
  attempts: exactly 5 are checked, the rest wait);
- at most HASH_SLOTS argon2 computations run at once in a process (each takes 64 MiB), so a
  flood of logins waits for a slot instead of exhausting memory; a request that waited
  HASH_WAIT_SECONDS in vain is told the server is busy.
The same counter guards the current-password check of the password change.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from plantgate.db.tables import LoginThrottleRow, utc_now
from plantgate.errors import PlantGateError

FREE_ATTEMPTS = 5
FIRST_DELAY = dt.timedelta(seconds=1)
MAX_DELAY = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(hours=24)
HASH_SLOTS = 4
HASH_WAIT_SECONDS = 20.0
MAX_ATTEMPTS = 20
_hash_slots = threading.BoundedSemaphore(HASH_SLOTS)


class Throttled(PlantGateError):
    """This (account, client) must wait before its next password check (HTTP 429 with Retry-After)."""

    def __init__(self, retry_after: dt.timedelta) -> None:
        self.retry_after_seconds = max(1, int(retry_after.total_seconds() + 0.999))
        super().__init__(f"too many wrong passwords from here; try again in {self.retry_after_seconds} s "
                         "(other devices are not affected)")


class Busy(PlantGateError):
    """Every password-hashing slot stayed taken (HTTP 503 with Retry-After)."""


def delay_after(failures: int) -> dt.timedelta:
    """How long the next check must wait after ``failures`` counted attempts."""
    if failures < FREE_ATTEMPTS:
        return dt.timedelta(0)
    return min(MAX_DELAY, FIRST_DELAY * 2 ** min(failures - FREE_ATTEMPTS, 20))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _ensure_row(session: Session, username: str, client: str) -> None:
    values = {"username": username, "client": client, "failures": 0, "next_allowed_at": utc_now(),
              "last_at": utc_now()}
    dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(session.get_bind().dialect.name)
    if dialect is None:
        session.execute(insert(LoginThrottleRow).values(**values))
    else:  # a concurrent first attempt may have inserted it: fine
        session.execute(dialect.insert(LoginThrottleRow).values(**values).on_conflict_do_nothing())
    session.commit()


def reserve(session: Session, username: str, client: str) -> None:
    """Count one password check of (``username``, ``client``) now, or raise Throttled; commits."""
    key = (username[:100], client[:100])
    for _ in range(MAX_ATTEMPTS):
        row = session.get(LoginThrottleRow, key, populate_existing=True)
        if row is None:
            _ensure_row(session, *key)
            continue
        now = utc_now()
        counted = 0 if _aware(row.last_at) < now - FORGET_AFTER else row.failures
        wait = _aware(row.next_allowed_at) - now
        if counted and wait > dt.timedelta(0):
            session.rollback()
            raise Throttled(wait)
        swapped = session.execute(
            update(LoginThrottleRow).where(LoginThrottleRow.username == key[0], LoginThrottleRow.client == key[1],
                                           LoginThrottleRow.failures == row.failures)
            .values(failures=counted + 1, next_allowed_at=now + delay_after(counted + 1), last_at=now)
            .execution_options(synchronize_session=False))
        session.commit()
        if swapped.rowcount == 1:  # type: ignore[attr-defined]
            return
    raise Throttled(FIRST_DELAY)


def forgive(session: Session, username: str, client: str) -> None:
    """A correct password: the pair starts afresh (in the caller's transaction)."""
    session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.username == username[:100],
                                                   LoginThrottleRow.client == client[:100]))


def purge(session: Session) -> int:
    """Delete the pairs nobody has failed with for FORGET_AFTER (in the caller's transaction)."""
    result = session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.last_at < utc_now() - FORGET_AFTER))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@contextmanager
def hashing_slot() -> Iterator[None]:
    """One of the HASH_SLOTS argon2 slots of this process, or Busy after waiting HASH_WAIT_SECONDS."""
    if not _hash_slots.acquire(timeout=HASH_WAIT_SECONDS):
        raise Busy("the server is busy checking passwords; try again in a few seconds")
    try:
        yield
    finally:
        _hash_slots.release()
