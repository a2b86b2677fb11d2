CREATE TABLE api_tokens_old (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash      TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('ADMIN', 'CASE_MANAGER', 'CHARITY', 'DONOR')),
    organization_id INTEGER REFERENCES organizations (id),
    region_prefix   TEXT,
    label           TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    revoked_at      TEXT,
    feed_source     TEXT
);
--bun:split
INSERT INTO api_tokens_old (id, token_hash, role, organization_id, region_prefix, label, created_at, revoked_at, feed_source)
SELECT id, token_hash, role, organization_id, region_prefix, label, created_at, revoked_at, feed_source FROM api_tokens WHERE role <> 'DATA_FEED';
--bun:split
DROP TABLE api_tokens;
--bun:split
ALTER TABLE api_tokens_old RENAME TO api_tokens;
