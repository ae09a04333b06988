"""The test app's one model, as its three migrations leave it."""

from django.db import models


class Note(models.Model):
    text = models.TextField()
    done = models.BooleanField(default=False)
    tags = models.CharField(max_length=200, blank=True, default="")
