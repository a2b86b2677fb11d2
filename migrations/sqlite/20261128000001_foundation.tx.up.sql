-- Catalog, organizations, charity resources and API tokens.
CREATE TABLE population_groups (
    code        TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    tier        INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 9),
    description TEXT NOT NULL DEFAULT '',
    sort        INTEGER NOT NULL DEFAULT 0
);
--bun:split
CREATE TABLE service_categories (
    code                  TEXT PRIMARY KEY,
    parent_code           TEXT REFERENCES service_categories (code),
    name_zh               TEXT NOT NULL,
    name_en               TEXT NOT NULL,
    duplicate_window_days INTEGER NOT NULL DEFAULT 0 CHECK (duplicate_window_days BETWEEN 0 AND 3660),
    sort                  INTEGER NOT NULL DEFAULT 0
);
--bun:split
CREATE INDEX service_categories_parent ON service_categories (parent_code);
--bun:split
CREATE TABLE service_items (
    code            TEXT PRIMARY KEY,
    category_code   TEXT NOT NULL REFERENCES service_categories (code),
    name_zh         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    unit            TEXT NOT NULL DEFAULT '',
    household_level INTEGER NOT NULL DEFAULT 0,
    sort            INTEGER NOT NULL DEFAULT 0
);
--bun:split
CREATE INDEX service_items_category ON service_items (category_code);
--bun:split
CREATE TABLE plan_entries (
    group_code TEXT NOT NULL REFERENCES population_groups (code),
    item_code  TEXT NOT NULL REFERENCES service_items (code),
    level      TEXT NOT NULL CHECK (level IN ('ENTITLED', 'RECOMMENDED', 'OPTIONAL')),
    PRIMARY KEY (group_code, item_code)
);
--bun:split
CREATE INDEX plan_entries_item ON plan_entries (item_code);
--bun:split
CREATE TABLE organizations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL CHECK (kind IN ('CHARITY', 'GOVERNMENT', 'SOCIAL_ORGANIZATION')),
    division_code TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    website       TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
--bun:split
CREATE TABLE resources (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id     INTEGER NOT NULL REFERENCES organizations (id),
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED', 'PAUSED', 'CLOSED')),
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
    CHECK (units_taken >= 0 AND (capacity_units IS NULL OR units_taken <= capacity_units)),
    CHECK (budget_taken_fen >= 0 AND (capacity_budget_fen IS NULL OR budget_taken_fen <= capacity_budget_fen))
);
--bun:split
CREATE INDEX resources_organization ON resources (organization_id, id);
--bun:split
CREATE INDEX resources_status ON resources (status, id);
--bun:split
CREATE TABLE resource_items (
    resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    item_code   TEXT NOT NULL REFERENCES service_items (code),
    PRIMARY KEY (resource_id, item_code)
);
--bun:split
CREATE INDEX resource_items_item ON resource_items (item_code);
--bun:split
CREATE TABLE resource_groups (
    resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    group_code  TEXT NOT NULL REFERENCES population_groups (code),
    PRIMARY KEY (resource_id, group_code)
);
--bun:split
CREATE INDEX resource_groups_group ON resource_groups (group_code);
--bun:split
CREATE TABLE resource_coverage (
    resource_id     INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    division_prefix TEXT NOT NULL,
    PRIMARY KEY (resource_id, division_prefix)
);
--bun:split
CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash      TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('ADMIN', 'CASE_MANAGER', 'CHARITY', 'DONOR')),
    organization_id INTEGER REFERENCES organizations (id),
    region_prefix   TEXT,
    label           TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    revoked_at      TEXT
);
