"""Settings: read once from the environment, every bad value refused by name."""

import pytest

from settings import SettingsError, load_settings


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    settings = load_settings({})
    assert settings.database_url is None
    assert settings.uses_embedded_database
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.transfer_min_score == 0.6
    assert settings.ai.model is None
    assert settings.ai.cache_ttl_seconds == 3600


def test_values_are_read_and_converted() -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://crm@db:5432/crm",
            "PORT": "9000",
            "CRM_DEMO_DATA": "off",
            "CRM_TRANSFER_MIN_SCORE": "0.75",
            "CRM_AI_MODEL": "gpt-4o-mini",
            "CRM_AI_BASE_URL": "http://localhost:11434/v1",
        }
    )
    assert not settings.uses_embedded_database
    assert settings.port == 9000
    assert settings.demo_data is False
    assert settings.transfer_min_score == 0.75
    assert settings.ai.uses_model


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"CRM_DEMO_DATA": "maybe"}, "CRM_DEMO_DATA"),
        ({"CRM_TRANSFER_MIN_SCORE": "1.5"}, "CRM_TRANSFER_MIN_SCORE"),
        ({"CRM_LOG_LEVEL": "LOUD"}, "CRM_LOG_LEVEL"),
        ({"CRM_AI_TIMEOUT_SECONDS": "0"}, "CRM_AI_TIMEOUT_SECONDS"),
        ({"DATABASE_URL": "mysql://root@localhost/crm"}, "DATABASE_URL"),
        ({"CRM_RATE_LIMIT_PER_MINUTE": "-1"}, "CRM_RATE_LIMIT_PER_MINUTE"),
        ({"CRM_RATE_LIMIT_BURST": "0"}, "CRM_RATE_LIMIT_BURST"),
        ({"CRM_STATEMENT_TIMEOUT_MS": "5s"}, "CRM_STATEMENT_TIMEOUT_MS"),
        ({"CRM_MAX_QUERY_COST": "100"}, "CRM_MAX_QUERY_COST"),
        ({"CRM_INTROSPECTION": "sometimes"}, "CRM_INTROSPECTION"),
        ({"CRM_CORS_ORIGINS": "*"}, "CRM_CORS_ORIGINS"),
        ({"CRM_CORS_ORIGINS": "https://app.example.com/"}, "CRM_CORS_ORIGINS"),
        ({"CRM_CORS_ORIGINS": "app.example.com"}, "CRM_CORS_ORIGINS"),
        ({"CRM_CORS_ORIGINS": "https://*.example.com"}, "CRM_CORS_ORIGINS"),
        ({"CRM_AI_BASE_URL": "http://localhost:11434/v1"}, "CRM_AI_MODEL"),
        ({"CRM_AI_MAX_RETRIES": "-1"}, "CRM_AI_MAX_RETRIES"),
        ({"CRM_AI_CIRCUIT_FAILURES": "0"}, "CRM_AI_CIRCUIT_FAILURES"),
        ({"CRM_AI_TOKENS_PER_DAY": "lots"}, "CRM_AI_TOKENS_PER_DAY"),
        ({"CRM_AI_LEARNED_MIN_OUTCOMES": "3"}, "CRM_AI_LEARNED_MIN_OUTCOMES"),
        ({"CRM_EVENT_RETENTION_DAYS": "3"}, "CRM_EVENT_RETENTION_DAYS"),
        ({"CRM_JWT_SECRET": "x" * 40}, "CRM_JWT_ISSUER"),
        (
            {"CRM_JWT_SECRET": "short", "CRM_JWT_ISSUER": "i", "CRM_JWT_AUDIENCE": "a"},
            "CRM_JWT_SECRET",
        ),
        (
            {
                "CRM_JWT_SECRET": "x" * 40,
                "CRM_JWT_JWKS_URL": "https://idp.example/jwks.json",
                "CRM_JWT_ISSUER": "i",
                "CRM_JWT_AUDIENCE": "a",
            },
            "not both",
        ),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else None,
)
def test_a_bad_value_is_refused_naming_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def test_the_abuse_limits_have_safe_defaults() -> None:
    settings = load_settings({})
    assert (settings.rate_limit_per_minute, settings.rate_limit_burst) == (600, 100)
    assert settings.statement_timeout_ms == 5000
    assert settings.max_query_cost == 10_000
    assert settings.introspection is True
    assert settings.cors_origins == ()


def test_the_abuse_limits_are_read() -> None:
    settings = load_settings(
        {
            "CRM_RATE_LIMIT_PER_MINUTE": "0",
            "CRM_RATE_LIMIT_BURST": "20",
            "CRM_STATEMENT_TIMEOUT_MS": "250",
            "CRM_MAX_QUERY_COST": "2000",
            "CRM_INTROSPECTION": "off",
            "CRM_CORS_ORIGINS": " https://App.example.com, http://localhost:5173 ,",
        }
    )
    assert (settings.rate_limit_per_minute, settings.rate_limit_burst) == (0, 20)
    assert settings.statement_timeout_ms == 250
    assert settings.max_query_cost == 2000
    assert settings.introspection is False
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:5173")


def test_the_ai_cost_controls_and_the_journal_retention_have_defaults() -> None:
    settings = load_settings({})
    assert (settings.ai.max_retries, settings.ai.circuit_failures) == (2, 5)
    assert (settings.ai.calls_per_minute, settings.ai.tokens_per_day) == (60, 1_000_000)
    assert settings.event_retention_days == 7


def test_the_ai_cost_controls_and_the_journal_retention_are_read() -> None:
    settings = load_settings(
        {
            "CRM_AI_MAX_RETRIES": "0",
            "CRM_AI_RETRY_BASE_SECONDS": "0.1",
            "CRM_AI_CIRCUIT_FAILURES": "3",
            "CRM_AI_CIRCUIT_OPEN_SECONDS": "120",
            "CRM_AI_CALLS_PER_MINUTE": "0",
            "CRM_AI_TOKENS_PER_DAY": "5000",
            "CRM_AI_LEARNED_MIN_OUTCOMES": "25",
            "CRM_EVENT_RETENTION_DAYS": "30",
        }
    )
    assert settings.ai.learned_min_outcomes == 25
    assert (settings.ai.max_retries, settings.ai.retry_base_seconds) == (0, 0.1)
    assert (settings.ai.circuit_failures, settings.ai.circuit_open_seconds) == (3, 120.0)
    assert (settings.ai.calls_per_minute, settings.ai.tokens_per_day) == (0, 5000)
    assert settings.event_retention_days == 30


# ---------------------------------------------------------------- background scoring


def test_background_scoring_has_defaults() -> None:
    ai = load_settings({}).ai
    assert (ai.rescore_every_messages, ai.rescore_after_hours) == (5, 24)
    assert ai.rescore_sweep_limit == 200


def test_background_scoring_settings_are_read_and_zero_turns_each_off() -> None:
    ai = load_settings(
        {
            "CRM_AI_RESCORE_EVERY_MESSAGES": "0",
            "CRM_AI_RESCORE_AFTER_HOURS": "0",
            "CRM_AI_RESCORE_SWEEP_LIMIT": "50",
        }
    ).ai
    assert (ai.rescore_every_messages, ai.rescore_after_hours) == (0, 0)
    assert ai.rescore_sweep_limit == 50


@pytest.mark.parametrize(
    "env",
    [
        {"CRM_AI_RESCORE_EVERY_MESSAGES": "-1"},
        {"CRM_AI_RESCORE_AFTER_HOURS": "often"},
        {"CRM_AI_RESCORE_SWEEP_LIMIT": "0"},
    ],
)
def test_bad_background_scoring_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        load_settings(env)
