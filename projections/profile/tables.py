"""Tables of the profile projection. ``{s}`` is the schema the projection is built in."""

DDL = """
CREATE TABLE IF NOT EXISTS {s}.profile_contacts (
    id uuid PRIMARY KEY,
    domain text NOT NULL,
    user_id text,
    email text,
    phone text,
    created_at timestamptz NOT NULL,
    version bigint NOT NULL,
    position bigint NOT NULL,
    doc jsonb NOT NULL,
    -- Deferred: within one batch an identifier may move from one contact to another.
    CONSTRAINT profile_contacts_email_key UNIQUE (domain, email) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT profile_contacts_phone_key UNIQUE (domain, phone) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT profile_contacts_user_key UNIQUE (domain, user_id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX IF NOT EXISTS profile_contacts_list_idx ON {s}.profile_contacts (domain, created_at, id);
CREATE TABLE IF NOT EXISTS {s}.profile_domains (
    domain text PRIMARY KEY,
    contacts bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.profile_templates (
    id uuid PRIMARY KEY,
    domain text NOT NULL,
    channel text NOT NULL,
    name text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    bodies jsonb NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS profile_templates_domain_idx ON {s}.profile_templates (domain, created_at, id);
CREATE TABLE IF NOT EXISTS {s}.profile_consents (
    contact_id uuid NOT NULL,
    version bigint NOT NULL,
    domain text NOT NULL,
    channel text NOT NULL,
    status text NOT NULL,
    previous_status text,
    address text,
    reason text,
    method text NOT NULL,
    actor text NOT NULL,
    occurred_at timestamptz NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (contact_id, version)
);
CREATE INDEX IF NOT EXISTS profile_consents_channel_idx ON {s}.profile_consents (contact_id, channel, position);
-- Notes are kept sealed: the text is only ever unsealed at read time with the pad from
-- the vault, so a deleted note (pad shredded) is unreadable here too.
CREATE TABLE IF NOT EXISTS {s}.profile_notes (
    note_id text PRIMARY KEY,
    contact_id uuid NOT NULL,
    domain text NOT NULL,
    author text NOT NULL,
    created_at timestamptz NOT NULL,
    sealed_text text NOT NULL,
    position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS profile_notes_contact_idx ON {s}.profile_notes (contact_id, position);
"""

TABLES = ("profile_contacts", "profile_domains", "profile_templates", "profile_consents", "profile_notes")
