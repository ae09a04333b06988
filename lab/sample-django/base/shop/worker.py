"""The worker: runs the queued jobs of the jobs table, without a broker.

A job is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` in a transaction that stays open
while it runs, so two workers (on two hosts) never run the same job, and a job whose worker
dies returns to the queue (its transaction rolls back). The row it completes says which
release ran it: ``version`` and ``release_id`` from RELEASE.json, ``worker`` host:pid.
"""

import logging
import os
import socket

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from .models import Job, Order
from .process import Stopper, database_unavailable, notify
from .release import RELEASE

log = logging.getLogger(__name__)

HANDLERS = {}


def handles(kind):
    def register(function):
        HANDLERS[kind] = function
        return function

    return register


@handles("heartbeat")
def heartbeat(job):
    return {"host": socket.gethostname()}


@handles("confirm_order")
def confirm_order(job):
    order_id = job.payload["order_id"]
    confirmed = Order.objects.filter(pk=order_id, status=Order.NEW).update(
        status=Order.CONFIRMED, confirmed_at=timezone.now(), confirmed_by=RELEASE["version"]
    )
    return {"order_id": order_id, "confirmed": bool(confirmed)}


def run_one(worker_name):
    """Claim the oldest due job and run it; return it, or None when nothing is due."""
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=Job.QUEUED, run_at__lte=timezone.now())
            .order_by("run_at", "id")
            .first()
        )
        if job is None:
            return None
        job.attempts += 1
        job.started_at = timezone.now()
        try:
            handler = HANDLERS.get(job.kind)
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {job.kind!r}")
            # A savepoint: a failing handler's writes go, the job's own update stays.
            with transaction.atomic():
                job.result = handler(job)
            job.status = Job.DONE
        except (OperationalError, InterfaceError):
            # The connection, not the job: the transaction rolls back, the job stays queued
            # and run() retries once the database answers.
            raise
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            job.status = Job.FAILED
            job.error = f"{type(exc).__name__}: {exc}"[:2000]
        job.finished_at = timezone.now()
        job.worker = worker_name
        job.version = RELEASE["version"]
        job.release_id = RELEASE["release_id"]
        job.save()
    return job


def run(poll=None):
    """Run jobs until SIGTERM/SIGINT; the job under way finishes first."""
    poll = settings.WORKER_POLL_SECONDS if poll is None else poll
    stopper = Stopper()
    name = f"{socket.gethostname()}:{os.getpid()}"
    log.info(
        "worker %s runs release %s (%s), polling every %s s",
        name,
        RELEASE["version"],
        RELEASE["release_id"],
        poll,
    )
    notify("READY=1")
    failures = 0
    while not stopper.requested:
        try:
            job = run_one(name)
        except DatabaseError as exc:
            failures += 1
            database_unavailable(log, exc)
            stopper.sleep(min(2**failures, 10))
            continue
        failures = 0
        if job is None:
            stopper.sleep(poll)
        else:
            # Heartbeats are not worth a line each in the journal.
            level = logging.DEBUG if job.kind == "heartbeat" else logging.INFO
            log.log(level, "job %s (%s) %s", job.id, job.kind, job.status)
    stopper.stopped("worker")
