"""Small helpers of the JSON API: errors, bodies, methods and limits."""

import functools
import json

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


def error(status, code, detail=None):
    body = {"error": code}
    if detail:
        body["detail"] = detail
    return JsonResponse(body, status=status)


class BadRequest(Exception):
    """A request the API refuses with 400 and this detail."""


def json_body(request):
    """The request's JSON object, or BadRequest."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not JSON")
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object")
    return body


def validated(instance):
    """The model instance after Django's own validation of its fields, or BadRequest."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise BadRequest(
            "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
        )
    return instance


def one(model, pk):
    """GET of one row as JSON, 404 when there is none."""
    found = model.objects.filter(pk=pk).first()
    if found is None:
        return error(404, "NotFound", f"no {model._meta.model_name} {pk}")
    return JsonResponse(found.as_json())


def limit_arg(request, default=10, maximum=100):
    try:
        limit = int(request.GET.get("limit", default))
    except ValueError:
        raise BadRequest("limit: a whole number")
    return min(max(limit, 1), maximum)


def api(*methods):
    """A JSON endpoint for these methods: no CSRF token (it is an API), 405 for other
    methods, 400 for BadRequest."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error(405, "MethodNotAllowed", f"allowed: {', '.join(methods)}")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except BadRequest as exc:
                return error(400, "BadRequest", str(exc))

        return wrapper

    return decorate
