"""Pieces of the deploy tool that need no restate-server: durations as Restate writes them,
the settings, and the admin token reaching the admin API."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from restate_web.adapters._settings import check_settings
from restate_web.deploy import AdminClient
from restate_web.deploy._durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1d", timedelta(days=1)),
        ("2h 30m", timedelta(hours=2, minutes=30)),
        ("1day 12h", timedelta(days=1, hours=12)),
        ("500ms", timedelta(milliseconds=500)),
        ("10m", timedelta(minutes=10)),
        ("P3D", timedelta(days=3)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("1month", timedelta(seconds=2630016)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "3", "3 parsecs", "d3", "1d x", "P", "PT"])
def test_bad_durations_say_how_to_write_them(text):
    with pytest.raises(ValueError, match="write it like 3d"):
        parse_duration(text)


def test_format_duration():
    assert format_duration(timedelta(days=3)) == "3d"
    assert format_duration(timedelta(hours=36)) == "1d 12h"
    assert format_duration(timedelta(seconds=90)) == "1m 30s"
    assert format_duration(None) == "-"


def test_admin_settings_from_env_and_values():
    settings, problems = check_settings(
        None, {"RESTATE_ADMIN_URL": "http://admin:9070", "RESTATE_ADMIN_TOKEN": "tok"}
    )
    assert problems == []
    assert (settings.admin_url, settings.admin_token) == ("http://admin:9070", "tok")
    _, problems = check_settings({"ADMIN_URL": "admin:9070"}, {})
    assert [p.id for p in problems] == ["E002"]
    settings, problems = check_settings({"IDENTITY_KEYS": "publickeyv1_abc, publickeyv1_def"}, {})
    assert settings.identity_keys == ("publickeyv1_abc", "publickeyv1_def")
    _, problems = check_settings({"IDENTITY_KEYS": ["-----BEGIN PRIVATE KEY-----"]}, {})
    assert [p.id for p in problems] == ["E002"]
    assert "publickeyv1_" in problems[0].message


@pytest.mark.server
def test_admin_token_is_sent_as_bearer(deploy_server):
    seen: list[httpx.Request] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return super().handle_request(request)

    with AdminClient(deploy_server.admin_url, token="s3cret", transport=Recording()) as admin:
        assert admin.version()["version"] == "1.7.12"
    assert seen[0].headers["authorization"] == "Bearer s3cret"
