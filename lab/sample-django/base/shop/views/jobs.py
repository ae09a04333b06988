"""GET /jobs (?kind=, ?status=, ?limit=) and GET /jobs/<id>: what the worker did, and
which release did it."""

from django.http import JsonResponse

from ..models import Job
from .api import api, limit_arg, one


@api("GET")
def jobs(request):
    rows = Job.objects.order_by("-id")
    for field in ("kind", "status"):
        if request.GET.get(field):
            rows = rows.filter(**{field: request.GET[field]})
    return JsonResponse({"jobs": [row.as_json() for row in rows[: limit_arg(request)]]})


@api("GET")
def job(request, job_id):
    return one(Job, job_id)
