"""Settings of the test project: one app, SQLite at $GOLIVE_TEST_SQLITE."""

import os

SECRET_KEY = "golive-integration-test-only"
DEBUG = False
ALLOWED_HOSTS = []
INSTALLED_APPS = ["notes"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["GOLIVE_TEST_SQLITE"],
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
