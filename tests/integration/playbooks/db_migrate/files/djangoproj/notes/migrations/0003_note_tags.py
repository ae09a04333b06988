from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notes", "0002_note_done")]
    operations = [
        migrations.AddField(
            model_name="note", name="tags", field=models.CharField(max_length=200, blank=True, default="")
        ),
    ]
