"""The account sweep (a schedule): accounts deleted in the user directory lose their data here too.

Cognito tells nobody when an operator (or its console) deletes a user, so each run asks the directory
about a bounded batch of users — those never asked, then those asked longest ago, each at most once per
`recheck_seconds` — and starts the deletion job for each one it no longer knows. It also sends a fresh
message for any deletion whose last one is overdue (lost, or dead-lettered: the job resumes where it
was), and removes the tombstones of deletions finished longer ago than a token lives.

Deleting is for good, so a directory that claims most of a sizeable batch is gone is not believed (a
USER_POOL_ID pointing at another pool would otherwise empty the service): the run deletes nothing,
logs an error and counts `AccountSweepRefused`, which alarms.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from storywink.db.engine import Database
from storywink.db.tables import AccountDeletion, User
from storywink.domain.enums import DeletionReason
from storywink.observability import logger, metrics
from storywink.privacy.directory import UserDirectory
from storywink.privacy.jobs import DeletionMessage, JobQueue
from storywink.services import accounts

# Not believed: more than this share of a batch of at least SUSPICIOUS_BATCH users gone at once.
SUSPICIOUS_BATCH = 20
SUSPICIOUS_SHARE = 0.5


@dataclass(frozen=True)
class SweepResult:
    checked: int = 0
    gone: int = 0
    resent: int = 0
    purged: int = 0
    refused: bool = False


class AccountSweep:
    def __init__(
        self,
        database: Database,
        directory: UserDirectory | None,
        queue: JobQueue,
        *,
        users_per_run: int,
        recheck_seconds: int,
        resend_seconds: int,
        tombstone_seconds: int,
    ) -> None:
        self.database = database
        self.directory = directory
        self.queue = queue
        self.users_per_run = users_per_run
        self.recheck_seconds = recheck_seconds
        self.resend_seconds = resend_seconds
        self.tombstone_seconds = tombstone_seconds

    def run(self) -> dict[str, int | bool]:
        checked, gone, refused = self._check_directory()
        with self.database.unit_of_work() as session:
            overdue = accounts.overdue_deletions(session, self.resend_seconds, self.users_per_run)
            purged = accounts.purge_tombstones(session, self.tombstone_seconds)
        for user_id in overdue:
            self._send(user_id)
        result = SweepResult(checked=checked, gone=len(gone), resent=len(overdue), purged=purged, refused=refused)
        logger.info("account sweep", extra={"action": "account.sweep", **asdict(result)})
        return asdict(result)

    def _check_directory(self) -> tuple[int, list[str], bool]:
        if self.directory is None:
            return 0, [], False  # no directory configured (the local stack): nothing to compare with
        with self.database.unit_of_work() as session:
            due = func.now() - timedelta(seconds=self.recheck_seconds)
            user_ids = list(
                session.execute(
                    select(User.id)
                    .where(~select(AccountDeletion.user_id).where(AccountDeletion.user_id == User.id).exists())
                    .where(User.directory_checked_at.is_(None) | (User.directory_checked_at < due))
                    .order_by(User.directory_checked_at.nulls_first(), User.id)
                    .limit(self.users_per_run)
                ).scalars()
            )
        # Asked with no connection checked out.
        present = [user_id for user_id in user_ids if self.directory.exists(user_id)]
        gone = sorted(set(user_ids) - set(present))
        refused = len(user_ids) >= SUSPICIOUS_BATCH and len(gone) > SUSPICIOUS_SHARE * len(user_ids)
        if refused:
            metrics.add_metric(name="AccountSweepRefused", unit="Count", value=1)
            logger.error(
                "the user directory says most users are gone: not believed, nothing deleted",
                extra={"action": "account.sweep", "checked": len(user_ids), "gone": len(gone)},
            )
            gone = []
        with self.database.unit_of_work() as session:
            if present:
                session.execute(update(User).where(User.id.in_(present)).values(directory_checked_at=func.now()))
            for user_id in gone:
                accounts.request_deletion(session, user_id, DeletionReason.DIRECTORY)
        for user_id in gone:
            metrics.add_metric(name="AccountsGoneFromDirectory", unit="Count", value=1)
            self._send(user_id)
        return len(user_ids), gone, refused

    def _send(self, user_id: str) -> None:
        self.queue.send(DeletionMessage(user_id=user_id))
        with self.database.unit_of_work() as session:
            accounts.mark_enqueued(session, user_id)
