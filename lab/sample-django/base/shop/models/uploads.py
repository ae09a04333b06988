"""Uploads: the file in MEDIA_ROOT, its facts in the table."""

from django.db import models
from django.utils import timezone


class Upload(models.Model):
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to="uploads/%Y/%m/", max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "uploads"

    def as_json(self):
        return {
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "path": self.file.name,
            "present": self.file.storage.exists(self.file.name),
            "created_at": self.created_at.isoformat(),
        }
