"""GET /health: the release this process runs, whether it is ready and the database answers.

200 ``{"status": "ok"}``; 503 ``{"status": "starting"}`` while migrations of this release
are not applied yet; 500 ``{"status": "error"}`` when the database does not answer.
"""

import logging

from django.http import JsonResponse

from ..readiness import pending_migrations
from ..release import RELEASE
from .api import api

log = logging.getLogger(__name__)


def _logged(response):
    """Keep django.request from logging this 5xx again, as an ERROR without its cause."""
    response._has_been_logged = True
    return response


@api("GET")
def health(request):
    info = {"version": RELEASE["version"], "sha": RELEASE["sha"]}
    try:
        pending = pending_migrations()
    except Exception as exc:
        log.exception("health check: database unreachable")
        body = {"status": "error", "error": f"database: {type(exc).__name__}", **info}
        return _logged(JsonResponse(body, status=500))
    if pending:
        # Expected while a go-live migrates: not an error to log.
        body = {"status": "starting", "pending": pending, **info}
        return _logged(JsonResponse(body, status=503))
    return JsonResponse({"status": "ok", **info})
