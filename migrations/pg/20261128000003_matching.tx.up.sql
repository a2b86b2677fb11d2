-- Matching: an optional eligibility rule per resource, and the best match
-- of each open need as of the last sweep (the watchlist shows it).
ALTER TABLE resources ADD COLUMN eligibility_rule TEXT NOT NULL DEFAULT '';
--bun:split
CREATE TABLE need_matches (
    need_id     BIGINT PRIMARY KEY REFERENCES needs (id) ON DELETE CASCADE,
    resource_id BIGINT NOT NULL REFERENCES resources (id),
    score       DOUBLE PRECISION NOT NULL,
    swept_at    TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX need_matches_resource ON need_matches (resource_id);
