"""Configuration from the environment, read once by the composition root."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    kafka_bootstrap_servers: str | None = Field(default=None, alias="KAFKA_BOOTSTRAP_SERVERS")
    api_keys: str | None = Field(default=None, alias="PROFILES_API_KEYS")
    data_dir: Path = Field(default=Path(".data"), alias="PROFILES_DATA_DIR")
    db_schema: str = Field(default="public", alias="PROFILES_DB_SCHEMA")
    events_topic: str = Field(default="contact-events", alias="PROFILES_EVENTS_TOPIC")
    dlq_topic: str = Field(default="contact-events.dlq", alias="PROFILES_DLQ_TOPIC")
    outbound_topic: str = Field(default="outbound-messages", alias="PROFILES_OUTBOUND_TOPIC")
    consumer_group: str = Field(default="contact-profiles", alias="PROFILES_CONSUMER_GROUP")
    host: str = Field(default="127.0.0.1", alias="PROFILES_HOST")
    port: int = Field(default=8000, alias="PROFILES_PORT")
    clock_tick_seconds: float = Field(default=3600.0, alias="PROFILES_CLOCK_TICK_SECONDS")
    pool_size: int = Field(default=8, alias="PROFILES_DB_POOL_SIZE")

    def key_map(self) -> dict[str, str]:
        """``shop:k1,blog:k2,*:admin`` → {key: domain-or-*}."""
        keys: dict[str, str] = {}
        for item in (self.api_keys or "").split(","):
            domain, sep, key = item.strip().partition(":")
            if sep and domain and key:
                keys[key] = domain
        return keys
