"""The beat: enqueues a heartbeat job every GOLIVE_BEAT_SECONDS.

Each period has one job (its dedupe_key names the period), so any number of beats, one per
host or two during a restart, enqueue each heartbeat once.
"""

import logging
import time

from django.conf import settings
from django.db import DatabaseError

from .models import Job
from .process import Stopper, database_unavailable, notify
from .release import RELEASE

log = logging.getLogger(__name__)


def enqueue(every, now=None):
    """The heartbeat job of the period that contains ``now``; True when this call made it."""
    slot = int((time.time() if now is None else now) // every)
    _job, created = Job.objects.get_or_create(
        dedupe_key=f"heartbeat:{every:g}:{slot}",
        defaults={"kind": "heartbeat", "payload": {"slot": slot, "beat": RELEASE["version"]}},
    )
    return created


def run(every=None):
    """Enqueue until SIGTERM/SIGINT."""
    every = settings.BEAT_SECONDS if every is None else every
    if every <= 0:
        raise ValueError("GOLIVE_BEAT_SECONDS must be above 0")
    stopper = Stopper()
    log.info("beat of release %s: a heartbeat job every %g s", RELEASE["version"], every)
    notify("READY=1")
    while not stopper.requested:
        try:
            if enqueue(every):
                log.debug("heartbeat enqueued")
        except DatabaseError as exc:
            database_unavailable(log, exc)
        # The start of the next period.
        stopper.sleep(every - time.time() % every)
    stopper.stopped("beat")
