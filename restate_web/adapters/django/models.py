"""The outbox table of ``send(..., outbox=True)`` (see ``restate_web.outbox``)."""

from __future__ import annotations

from django.db import models


class OutboxMessage(models.Model):  # type: ignore[misc]
    """A send written in a transaction, delivered to Restate after the commit.

    ``seq`` orders the rows (per Virtual Object or workflow key it follows commit order);
    ``row_id`` is the row's id in ``idempotency_key`` ``outbox:<row id>``.
    """

    seq = models.BigAutoField(primary_key=True)
    row_id = models.CharField(max_length=36, unique=True, db_column="id")
    kind = models.CharField(max_length=16)
    service = models.CharField(max_length=255)
    object_key = models.TextField(null=True)
    handler = models.CharField(max_length=255)
    ordering_key = models.TextField(null=True)
    body = models.BinaryField(null=True)
    content_type = models.CharField(max_length=255, null=True)
    headers = models.TextField(default="{}")
    delay_ms = models.BigIntegerField(null=True)
    idempotency_key = models.CharField(max_length=512, null=True)
    created_at = models.FloatField()
    state = models.CharField(max_length=10, default="pending")
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.FloatField()
    last_error = models.TextField(null=True)
    invocation_id = models.CharField(max_length=255, null=True)
    delivered_at = models.FloatField(null=True)

    class Meta:
        db_table = "restate_web_outbox"
        indexes = [
            models.Index(
                fields=["state", "next_attempt_at", "seq"], name="restate_web_outbox_ready"
            ),
            models.Index(fields=["ordering_key", "state", "seq"], name="restate_web_outbox_order"),
        ]
        verbose_name = "Restate outbox message"

    def __str__(self) -> str:
        return f"{self.service}/{self.handler} ({self.state})"
