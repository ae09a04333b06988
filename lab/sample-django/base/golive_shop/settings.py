"""Settings of golive-shop, read from the environment (the env file the host setup writes).

DATABASE_URL          postgresql://user:password@host:port/name (needed to serve)
DJANGO_SECRET_KEY     needed to serve; a command run without it (collectstatic at deploy
                      time, as root, without the env file) gets a throwaway key
DJANGO_ALLOWED_HOSTS  comma-separated; 127.0.0.1 and localhost are always allowed (the
                      health checks on the host)
GOLIVE_MEDIA_ROOT     where uploads are written (default /srv/golive-shop/media), writable
                      by the app's user, outside the releases
GOLIVE_STATIC_ROOT    collectstatic's target (default: static/ inside the release, collected
                      as root when the release is shipped, so each release has its own)
GOLIVE_BEAT_SECONDS   the beat enqueues a heartbeat job this often (default 10)
GOLIVE_WORKER_POLL_SECONDS  the worker looks for queued jobs this often when idle (default 1)
GOLIVE_UPLOAD_MAX_BYTES     largest upload accepted (default 10 MiB)
"""

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

# The release directory, symlinks resolved: a process reports and serves the release it
# was loaded from, even after the ``current`` symlink has moved on.
BASE_DIR = Path(__file__).resolve().parent.parent

ENV_FILE = "/etc/golive-shop/shop.env"
SERVING_ENV = ("DATABASE_URL", "DJANGO_SECRET_KEY")


def database_from_url(url):
    """postgresql://user:password@host:port/name -> Django's DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
        raise ImproperlyConfigured(
            "DATABASE_URL must look like postgresql://user:password@host:port/name"
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # A connection per request: a restarted or restored database costs no error.
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"connect_timeout": 3, "application_name": "golive-shop"},
    }


def check_serving_env():
    """The web, the worker and the beat refuse to start without their settings."""
    missing = [name for name in SERVING_ENV if not os.environ.get(name)]
    if missing:
        raise ImproperlyConfigured(
            f"{', '.join(missing)} not set; the services read them from {ENV_FILE}"
        )


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"] + [
    host.strip() for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if host.strip()
]
# nginx in front terminates TLS and says so.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False

DATABASES = (
    {"default": database_from_url(os.environ["DATABASE_URL"])}
    if os.environ.get("DATABASE_URL")
    else {}
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "shop",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "golive_shop.urls"
WSGI_APPLICATION = "golive_shop.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("GOLIVE_STATIC_ROOT") or str(BASE_DIR / "static")
MEDIA_URL = "/media/"
MEDIA_ROOT = os.environ.get("GOLIVE_MEDIA_ROOT", "/srv/golive-shop/media")
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
UPLOAD_MAX_BYTES = int(os.environ.get("GOLIVE_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))

BEAT_SECONDS = float(os.environ.get("GOLIVE_BEAT_SECONDS", "10"))
WORKER_POLL_SECONDS = float(os.environ.get("GOLIVE_WORKER_POLL_SECONDS", "1"))

# Everything to stderr (journald), errors with their traceback.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {"django": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
}
