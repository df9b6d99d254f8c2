"""Every retry is logged on ``restate_web.ingress`` (attempt, wait, status or exception class,
target) and no log line carries bodies, idempotency keys, tokens, headers or awakeable ids.

FAKED FAULTS (see fakes.py): a real server cannot be made to answer 503 on demand.
"""

from __future__ import annotations

import logging

import pytest

from restate_web.ingress import IngressUnavailable
from tests.ingress.fakes import OK, refuse, unavailable

SECRET = "s3cr3t"


def all_logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.args!r}" for r in caplog.records)


def test_each_retry_is_logged_with_attempt_wait_status_and_target(fake_client, caplog):
    client, fake = fake_client(
        [unavailable, refuse, OK],
        token="tok-" + SECRET,
        headers={"X-Api-Key": "hdr-" + SECRET},
    )
    with caplog.at_level(logging.INFO, logger="restate_web.ingress"):
        client.object("Cart", "ada").call(
            "checkout", {"card": "body-" + SECRET}, idempotency_key="key-" + SECRET
        )
    retries = [r for r in caplog.records if r.name == "restate_web.ingress"]
    assert len(retries) == 2 == len(fake.requests) - 1
    first, second = (r.getMessage() for r in retries)
    assert "call Cart['ada']/checkout" in first
    assert "attempt 1 of 4" in first and "HTTP 503" in first and "next in" in first
    assert "attempt 2 of 4" in second and "ConnectError" in second
    assert SECRET not in all_logged(caplog)


def test_giving_up_is_logged_once(fake_client, caplog):
    client, _ = fake_client([unavailable])
    with (
        caplog.at_level(logging.INFO, logger="restate_web.ingress"),
        pytest.raises(IngressUnavailable),
    ):
        client.service("S").call("h", idempotency_key="key-" + SECRET)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "giving up on call S/h after 4 attempts" in warnings[0].getMessage()
    assert SECRET not in all_logged(caplog)


def test_awakeable_ids_are_not_logged(fake_client, caplog):
    client, _ = fake_client([unavailable, OK])
    with caplog.at_level(logging.INFO, logger="restate_web.ingress"):
        client.awakeable("sign_" + SECRET).resolve({"paid": "body-" + SECRET})
    assert len(caplog.records) == 1
    assert "resolve awakeable" in caplog.records[0].getMessage()
    assert SECRET not in all_logged(caplog)


def test_a_call_that_succeeds_first_time_logs_nothing(fake_client, caplog):
    client, _ = fake_client([OK])
    with caplog.at_level(logging.DEBUG, logger="restate_web.ingress"):
        client.service("S").call("h", idempotency_key="k")
    assert caplog.records == []
