# The outbox table (restate_web.adapters.django.models.OutboxMessage).

from django.db import migrations, models


class Migration(migrations.Migration):  # type: ignore[misc]
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="OutboxMessage",
            fields=[
                ("seq", models.BigAutoField(primary_key=True, serialize=False)),
                ("row_id", models.CharField(db_column="id", max_length=36, unique=True)),
                ("kind", models.CharField(max_length=16)),
                ("service", models.CharField(max_length=255)),
                ("object_key", models.TextField(null=True)),
                ("handler", models.CharField(max_length=255)),
                ("ordering_key", models.TextField(null=True)),
                ("body", models.BinaryField(null=True)),
                ("content_type", models.CharField(max_length=255, null=True)),
                ("headers", models.TextField(default="{}")),
                ("delay_ms", models.BigIntegerField(null=True)),
                ("idempotency_key", models.CharField(max_length=512, null=True)),
                ("created_at", models.FloatField()),
                ("state", models.CharField(default="pending", max_length=10)),
                ("attempts", models.IntegerField(default=0)),
                ("next_attempt_at", models.FloatField()),
                ("last_error", models.TextField(null=True)),
                ("invocation_id", models.CharField(max_length=255, null=True)),
                ("delivered_at", models.FloatField(null=True)),
            ],
            options={
                "verbose_name": "Restate outbox message",
                "db_table": "restate_web_outbox",
                "indexes": [
                    models.Index(
                        fields=["state", "next_attempt_at", "seq"], name="restate_web_outbox_ready"
                    ),
                    models.Index(
                        fields=["ordering_key", "state", "seq"], name="restate_web_outbox_order"
                    ),
                ],
            },
        ),
    ]
