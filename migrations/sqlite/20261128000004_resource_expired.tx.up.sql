-- The resource status EXPIRED, where the daily expiry job puts a published
-- or paused resource whose validity has ended; extending validUntil and
-- publishing it again brings it back.
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt, in
-- this one transaction. foreign_keys cannot be turned off inside a
-- transaction, so the link rows are set aside first (dropping the table
-- would cascade to them) and put back after, and the references from
-- referrals and need_matches are checked at commit (defer_foreign_keys),
-- when every resource row is back under its old ID.
PRAGMA defer_foreign_keys = ON;
--bun:split
CREATE TEMP TABLE resources_copy AS SELECT * FROM resources;
--bun:split
CREATE TEMP TABLE resources_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'resources';
--bun:split
CREATE TEMP TABLE resource_items_copy AS SELECT * FROM resource_items;
--bun:split
CREATE TEMP TABLE resource_groups_copy AS SELECT * FROM resource_groups;
--bun:split
CREATE TEMP TABLE resource_coverage_copy AS SELECT * FROM resource_coverage;
--bun:split
DELETE FROM resource_items;
--bun:split
DELETE FROM resource_groups;
--bun:split
DELETE FROM resource_coverage;
--bun:split
DROP TABLE resources;
--bun:split
CREATE TABLE resources (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id     INTEGER NOT NULL REFERENCES organizations (id),
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED', 'PAUSED', 'EXPIRED', 'CLOSED')),
    age_min             INTEGER,
    age_max             INTEGER,
    income_ceiling_fen  INTEGER,
    capacity_units      INTEGER,
    units_taken         INTEGER NOT NULL DEFAULT 0,
    capacity_budget_fen INTEGER,
    budget_taken_fen    INTEGER NOT NULL DEFAULT 0,
    valid_from          TEXT,
    valid_until         TEXT,
    address             TEXT NOT NULL DEFAULT '',
    division_code       TEXT,
    lat                 REAL,
    lng                 REAL,
    contact_name        TEXT NOT NULL DEFAULT '',
    contact_phone       TEXT NOT NULL DEFAULT '',
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    published_at        TEXT,
    closed_at           TEXT,
    eligibility_rule    TEXT NOT NULL DEFAULT '',
    CHECK (units_taken >= 0 AND (capacity_units IS NULL OR units_taken <= capacity_units)),
    CHECK (budget_taken_fen >= 0 AND (capacity_budget_fen IS NULL OR budget_taken_fen <= capacity_budget_fen))
);
--bun:split
INSERT INTO resources (
    id, organization_id, title, description, status, age_min, age_max, income_ceiling_fen,
    capacity_units, units_taken, capacity_budget_fen, budget_taken_fen, valid_from,
    valid_until, address, division_code, lat, lng, contact_name, contact_phone, version,
    created_at, updated_at, published_at, closed_at, eligibility_rule
)
SELECT
    id, organization_id, title, description, status, age_min, age_max, income_ceiling_fen,
    capacity_units, units_taken, capacity_budget_fen, budget_taken_fen, valid_from,
    valid_until, address, division_code, lat, lng, contact_name, contact_phone, version,
    created_at, updated_at, published_at, closed_at, eligibility_rule
FROM temp.resources_copy;
--bun:split
DELETE FROM sqlite_sequence WHERE name = 'resources';
--bun:split
INSERT INTO sqlite_sequence (name, seq) SELECT 'resources', seq FROM temp.resources_seq;
--bun:split
INSERT INTO resource_items SELECT * FROM temp.resource_items_copy;
--bun:split
INSERT INTO resource_groups SELECT * FROM temp.resource_groups_copy;
--bun:split
INSERT INTO resource_coverage SELECT * FROM temp.resource_coverage_copy;
--bun:split
CREATE INDEX resources_organization ON resources (organization_id, id);
--bun:split
CREATE INDEX resources_status ON resources (status, id);
--bun:split
DROP TABLE temp.resources_copy;
--bun:split
DROP TABLE temp.resources_seq;
--bun:split
DROP TABLE temp.resource_items_copy;
--bun:split
DROP TABLE temp.resource_groups_copy;
--bun:split
DROP TABLE temp.resource_coverage_copy;
