"""Jobs: the worker's queue, without a broker (shop.worker, shop.beat)."""

from django.db import models
from django.utils import timezone


def _iso(value):
    return value.isoformat() if value else None


class Job(models.Model):
    """A unit of work for the worker; ``version`` and ``release_id`` say which release ran it."""

    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"

    kind = models.CharField(max_length=50)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=20, default=QUEUED)
    # One job per key: the beat's periodic jobs are enqueued once per period, however
    # many beats run.
    dedupe_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    run_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, default="")
    version = models.CharField(max_length=100, blank=True, default="")
    release_id = models.CharField(max_length=100, blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "jobs"
        indexes = [
            models.Index(
                fields=["run_at", "id"],
                name="jobs_queued_idx",
                condition=models.Q(status="queued"),
            )
        ]

    def as_json(self):
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "payload": self.payload,
            "attempts": self.attempts,
            "worker": self.worker,
            "version": self.version,
            "release_id": self.release_id,
            "result": self.result,
            "error": self.error,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
        }
