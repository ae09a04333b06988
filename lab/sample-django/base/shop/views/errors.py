"""JSON answers for Django's error handlers (DEBUG is off)."""

from .api import error


def bad_request(request, exception):
    return error(400, "BadRequest")


def not_found(request, exception):
    return error(404, "NotFound")


def server_error(request):
    # django.request has already logged "ERROR ... Internal Server Error" with the traceback.
    return error(500, "internal server error")
