"""The SMS outbox fixture (imported into tests/conftest.py).

    def test_code_is_sent(gql, sms_outbox):
        ...  # a mutation that calls send_sms
        assert sms_outbox[0].mobile == "09121234567" and "123456" in sms_outbox[0].text

``sms_outbox`` switches SMS_BACKEND to the locmem backend and the tasks to the immediate backend,
empties ``integrations.sms.outbox`` and gives a list-like view of it (items: SmsMessage with
``.mobile .text .purpose``).

A test runs inside a transaction that never commits, so the on_commit callback that enqueues a
message's delivery would never run. Reading the outbox therefore first runs the delivery callbacks
still pending — those whose atomic blocks did not roll back, i.e. exactly the messages production
would send once the request committed (a rolled-back block's callbacks are already discarded).
Other on_commit callbacks are left alone. Read it after the request, not inside an open atomic block.
"""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from integrations import sms


def _is_sms_delivery(callback) -> bool:
    from integrations.sms import delivery

    return getattr(callback, "func", None) is delivery._enqueue_after_commit


class SmsOutbox:
    def flush(self) -> None:
        """Runs the pending (committed-in-production) SMS delivery callbacks now."""
        connection = connections[DEFAULT_DB_ALIAS]
        pending = [entry for entry in connection.run_on_commit if _is_sms_delivery(entry[1])]
        if pending:
            connection.run_on_commit = [entry for entry in connection.run_on_commit if entry not in pending]
            for _, callback, _ in pending:
                callback()

    @property
    def messages(self) -> list[sms.SmsMessage]:
        self.flush()
        return list(sms.outbox)

    def clear(self) -> None:
        self.flush()
        sms.outbox.clear()

    def to(self, mobile: str) -> list[sms.SmsMessage]:
        return [message for message in self.messages if message.mobile == mobile]

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self):
        return iter(self.messages)

    def __getitem__(self, index):
        return self.messages[index]

    def __eq__(self, other) -> bool:
        return self.messages == list(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"SmsOutbox({self.messages!r})"


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "integrations.sms.backends.locmem.SmsBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    sms.outbox.clear()
    yield SmsOutbox()
    sms.outbox.clear()
