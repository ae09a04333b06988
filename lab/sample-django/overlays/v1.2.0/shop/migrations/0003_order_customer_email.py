"""Add orders.customer_email and fill it from the customers that are e-mail addresses."""

from django.db import migrations, models
from django.db.models.functions import Lower

BATCH = 1000


def fill_customer_email(apps, schema_editor):
    Order = apps.get_model("shop", "Order")
    todo = Order.objects.filter(customer_email__isnull=True, customer__contains="@")
    while True:
        batch = list(todo.values_list("id", flat=True)[:BATCH])
        done = Order.objects.filter(id__in=batch).update(customer_email=Lower("customer_name"))
        if not done:
            break


class Migration(migrations.Migration):
    # Not atomic: the new column is committed at once, and the orders are filled in
    # batches without holding the ALTER TABLE's lock on the table all along.
    atomic = False

    dependencies = [("shop", "0002_order_gift_message")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="customer_email",
            field=models.EmailField(blank=True, max_length=254, null=True),
        ),
        migrations.RunPython(fill_customer_email, migrations.RunPython.noop),
    ]
