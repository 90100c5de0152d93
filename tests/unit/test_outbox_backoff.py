"""How long the outbox waits before trying an email again: doubling from 30 seconds to an
hour, each wait drawn in its upper half, and half a day to a day in all before giving up."""

from __future__ import annotations

from datetime import timedelta

from portal import mail, outbox


def test_each_wait_doubles_from_thirty_seconds_up_to_an_hour() -> None:
    longest = [outbox.backoff(attempt, draw=lambda: 1.0) for attempt in range(1, 10)]
    assert longest[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert longest[-1] == outbox.RETRY_CAP == timedelta(hours=1)
    assert longest == sorted(longest)


def test_a_wait_is_drawn_between_half_and_all_of_it() -> None:
    """Equal jitter: emails refused together (a server that was down) do not all come back
    in the same second, and none comes back much sooner than planned."""
    for attempt in (1, 5, 12):
        shortest = outbox.backoff(attempt, draw=lambda: 0.0)
        longest = outbox.backoff(attempt, draw=lambda: 1.0)
        assert shortest * 2 == longest
        assert shortest < outbox.backoff(attempt, draw=lambda: 0.37) < longest
    assert outbox.backoff(0, draw=lambda: 1.0) == outbox.RETRY_BASE  # never negative powers


def test_an_email_is_given_up_on_after_half_a_day_to_a_day_of_trying() -> None:
    waits = range(1, outbox.MAX_ATTEMPTS)  # the waits between the attempts
    soonest = sum((outbox.backoff(n, draw=lambda: 0.0) for n in waits), timedelta())
    latest = sum((outbox.backoff(n, draw=lambda: 1.0) for n in waits), timedelta())
    assert timedelta(hours=11) < soonest < latest < timedelta(hours=24)


def test_a_claim_outlasts_the_slowest_send() -> None:
    """Connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA and the message: smtplib waits
    at most ``SMTP_TIMEOUT`` for each, so a live worker never outlives its lease."""
    assert timedelta(seconds=mail.SMTP_TIMEOUT) * 10 < outbox.LEASE


def test_an_operator_sees_enough_of_an_address_to_match_a_complaint() -> None:
    assert outbox.masked("lucia.garcia@example.es") == "l…@example.es"
