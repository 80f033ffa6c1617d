"""Settings come from the environment; production refuses unsafe ones."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # CAPTCHA_TEST_MODE: tests/conftest.py sets it for the suite's own server processes.
    unset = {"DEBUG", "SECRET_KEY", "MANA_ENV", "ALLOWED_HOSTS", "CAPTCHA_TEST_MODE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_debug():
    result = _check({"MANA_ENV": "production", "DEBUG": "1", "SECRET_KEY": secrets.token_urlsafe(60)})
    assert result.returncode != 0
    assert "refuses DEBUG=1" in result.stderr


def test_production_refuses_missing_or_development_secret():
    assert "needs SECRET_KEY" in _check({"MANA_ENV": "production"}).stderr
    from settings import DEVELOPMENT_SECRET_KEY

    result = _check({"MANA_ENV": "production", "SECRET_KEY": DEVELOPMENT_SECRET_KEY})
    assert result.returncode != 0
    assert "needs SECRET_KEY" in result.stderr


def test_production_passes_check_deploy():
    result = _check(
        {"MANA_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "mana.example.ir"},
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_time_zone_is_tehran_and_storage_is_utc(settings):
    import zoneinfo

    assert settings.TIME_ZONE == "Asia/Tehran"
    assert settings.USE_TZ is True
    zoneinfo.ZoneInfo("Asia/Tehran")  # tzdata is installed, no pytz needed
    import importlib.util

    assert importlib.util.find_spec("pytz") is None


def test_channel_layer_follows_redis_url(settings):
    expected = (
        "channels_redis.core.RedisChannelLayer"
        if os.environ.get("REDIS_URL")
        else "channels.layers.InMemoryChannelLayer"
    )
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == expected


async def test_channel_layer_delivers_a_message():
    """On CI's second run this goes through the real Redis server."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "mana.ping", "text": "سلام"})
    assert await layer.receive(channel) == {"type": "mana.ping", "text": "سلام"}


def test_production_refuses_captcha_test_mode():
    result = _check({"MANA_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(60), "CAPTCHA_TEST_MODE": "1"})
    assert result.returncode != 0
    assert "CAPTCHA_TEST_MODE" in result.stderr
