"""Segment tables: definitions, current members, and the entry/exit history that also
feeds the contact's activity (``segment.entered`` / ``segment.exited``)."""

DDL = """
CREATE TABLE IF NOT EXISTS {s}.segment_definitions (
    id uuid PRIMARY KEY,
    domain text NOT NULL,
    name text NOT NULL,
    conditions jsonb NOT NULL,
    time_relative boolean NOT NULL,
    members bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS segment_definitions_domain_idx ON {s}.segment_definitions (domain, created_at, id);
CREATE TABLE IF NOT EXISTS {s}.segment_members (
    segment_id uuid NOT NULL,
    contact_id uuid NOT NULL,
    domain text NOT NULL,
    since timestamptz NOT NULL,
    PRIMARY KEY (segment_id, contact_id)
);
CREATE INDEX IF NOT EXISTS segment_members_contact_idx ON {s}.segment_members (contact_id);
CREATE TABLE IF NOT EXISTS {s}.segment_history (
    id uuid PRIMARY KEY,
    segment_id uuid NOT NULL,
    segment_name text NOT NULL,
    domain text NOT NULL,
    contact_id uuid NOT NULL,
    kind text NOT NULL,
    occurred_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS segment_history_contact_idx
    ON {s}.segment_history (domain, contact_id, occurred_at DESC, id DESC);
"""

TABLES = ("segment_definitions", "segment_members", "segment_history")
