"""The live-update settings: read from their environment variables, bad values refused."""

import pytest

from settings import RealtimeSettings, SettingsError, load_settings


def test_the_defaults_are_the_documented_ones() -> None:
    assert load_settings({}).realtime == RealtimeSettings(
        max_subscriptions_per_connection=50,
        queue_size=200,
        ping_interval_seconds=20.0,
        connection_init_timeout_seconds=10.0,
        pong_timeout_seconds=10.0,
        pipeline_interval_seconds=1.0,
        listener_retry_seconds=0.5,
        listener_keepalive_seconds=15.0,
        credential_recheck_seconds=60.0,
    )


def test_each_variable_is_read() -> None:
    realtime = load_settings(
        {
            "CRM_WS_MAX_SUBSCRIPTIONS": "7",
            "CRM_WS_QUEUE_SIZE": "9",
            "CRM_WS_PING_SECONDS": "3",
            "CRM_WS_INIT_TIMEOUT_SECONDS": "4",
            "CRM_WS_PONG_TIMEOUT_SECONDS": "2",
            "CRM_WS_PIPELINE_INTERVAL_SECONDS": "0.5",
            "CRM_WS_LISTENER_RETRY_SECONDS": "0.2",
            "CRM_WS_LISTENER_KEEPALIVE_SECONDS": "30",
            "CRM_WS_RECHECK_SECONDS": "120",
        }
    ).realtime
    assert realtime == RealtimeSettings(7, 9, 3.0, 4.0, 2.0, 0.5, 0.2, 30.0, 120.0)


@pytest.mark.parametrize(
    "name",
    [
        "CRM_WS_PONG_TIMEOUT_SECONDS",
        "CRM_WS_PIPELINE_INTERVAL_SECONDS",
        "CRM_WS_LISTENER_RETRY_SECONDS",
        "CRM_WS_LISTENER_KEEPALIVE_SECONDS",
        "CRM_WS_RECHECK_SECONDS",
    ],
)
def test_a_bad_value_is_refused_by_name(name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: "0"})
