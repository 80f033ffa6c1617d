"""The background task that delivers one outbox row (its body: integrations/sms/delivery.py)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_sms(outgoing_id: int) -> str:
    # Only the row id travels through the queue: the text stays in the outbox row, which is
    # emptied once sent, while the queue keeps its arguments for as long as its results are kept.
    from integrations.sms.delivery import deliver

    return str(deliver(outgoing_id))
