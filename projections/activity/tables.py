"""The feed table. Its main index leads with (domain, contact, time) so a 30-day page is
a short index range scan however long the contact's history is."""

DDL = """
CREATE TABLE IF NOT EXISTS {s}.activity_feed (
    id uuid PRIMARY KEY,
    domain text NOT NULL,
    contact_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL,
    position bigint NOT NULL,
    type text NOT NULL,
    name text,
    summary text NOT NULL,
    -- json, not jsonb: only ever returned whole, and parsing jsonb would halve COPY speed.
    data json NOT NULL
);
CREATE INDEX IF NOT EXISTS activity_feed_contact_idx
    ON {s}.activity_feed (domain, contact_id, occurred_at DESC, id DESC);
-- Segment back-fill counts custom activities by name over a whole domain.
CREATE INDEX IF NOT EXISTS activity_feed_counts_idx
    ON {s}.activity_feed (domain, name, occurred_at) WHERE type = 'activity';
"""

TABLES = ("activity_feed",)
