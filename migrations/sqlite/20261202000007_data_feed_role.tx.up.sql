-- The DATA_FEED role (20261202000006 gave tokens their feed_source) was
-- still refused by the role check of the foundation's api_tokens. SQLite
-- cannot change a check: the table is rebuilt (nothing refers to it).
CREATE TABLE api_tokens_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash      TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('ADMIN', 'CASE_MANAGER', 'CHARITY', 'DONOR', 'DATA_FEED')),
    organization_id INTEGER REFERENCES organizations (id),
    region_prefix   TEXT,
    label           TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    revoked_at      TEXT,
    feed_source     TEXT
);
--bun:split
INSERT INTO api_tokens_new (id, token_hash, role, organization_id, region_prefix, label, created_at, revoked_at, feed_source)
SELECT id, token_hash, role, organization_id, region_prefix, label, created_at, revoked_at, feed_source FROM api_tokens;
--bun:split
DROP TABLE api_tokens;
--bun:split
ALTER TABLE api_tokens_new RENAME TO api_tokens;
