"""Orders: taken by POST /orders, confirmed by the worker."""

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone


class Order(models.Model):
    NEW = "new"
    CONFIRMED = "confirmed"
    # What POST /orders may set; the rest is the shop's.
    API_FIELDS = ("customer", "item", "quantity")

    customer = models.CharField(max_length=200)
    item = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1, validators=[MaxValueValidator(1000)])
    status = models.CharField(max_length=20, default=NEW)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The release of the worker that confirmed the order.
    confirmed_by = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        db_table = "orders"

    def as_json(self):
        return {
            "id": self.id,
            "customer": self.customer,
            "item": self.item,
            "quantity": self.quantity,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "confirmed_at": self.confirmed_at.isoformat() if self.confirmed_at else None,
            "confirmed_by": self.confirmed_by,
        }
