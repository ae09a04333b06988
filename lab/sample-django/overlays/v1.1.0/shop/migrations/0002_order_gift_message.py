"""Add orders.gift_message (nullable)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="gift_message",
            field=models.TextField(blank=True, null=True),
        ),
    ]
