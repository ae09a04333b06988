"""The database connection: DATABASE_URL from the environment (the unit's EnvironmentFile)."""

import functools
import os

from sqlalchemy import create_engine


@functools.lru_cache(maxsize=None)
def engine():
    """One engine per worker process, created on first use (after gunicorn forks)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError(
            "DATABASE_URL is not set; the service reads it from /etc/golive-app/app.env"
        )
    return create_engine(
        url,
        future=True,
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=4,
        connect_args={"connect_timeout": 3, "application_name": "golive-app"},
    )
