"""GET/POST /orders, GET /orders/<id>: the worker confirms each new order."""

from django.db import transaction
from django.http import JsonResponse

from ..models import Job, Order
from .api import BadRequest, api, json_body, limit_arg, one, validated


@api("GET", "POST")
def orders(request):
    if request.method == "POST":
        return create_order(request)
    rows = Order.objects.order_by("-id")[: limit_arg(request)]
    return JsonResponse(
        {"count": Order.objects.count(), "orders": [order.as_json() for order in rows]}
    )


def create_order(request):
    body = json_body(request)
    unknown = sorted(set(body) - set(Order.API_FIELDS))
    if unknown:
        raise BadRequest(
            f"unknown fields {', '.join(unknown)}; known: {', '.join(Order.API_FIELDS)}"
        )
    order = validated(Order(**body))
    with transaction.atomic():
        order.save()
        Job.objects.create(kind="confirm_order", payload={"order_id": order.id})
    return JsonResponse(order.as_json(), status=201)


@api("GET")
def order(request, order_id):
    return one(Order, order_id)
