"""Helpers for the identity tests: the SMS outbox, captcha answers, sign-in documents."""

from __future__ import annotations

import re

LOGIN = """mutation($i: LoginInput!) { login(input: $i) {
  errors { field code message } mustChangePassword retryAfter me { user { nationalCode } activeRole { role } } } }"""
REQUEST_OTP = """mutation($i: RequestOtpInput!) { requestOtp(input: $i) {
  errors { field code message } expiresIn retryAfter } }"""
LOGIN_WITH_OTP = """mutation($i: LoginWithOtpInput!) { loginWithOtp(input: $i) {
  errors { field code message } retryAfter me { user { nationalCode } } } }"""
PASSED = {"key": "-", "value": "PASSED"}


def texts_to(outbox, mobile: str) -> list[str]:
    return [message.text for message in outbox if message.mobile == mobile]


def six_digits(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)

