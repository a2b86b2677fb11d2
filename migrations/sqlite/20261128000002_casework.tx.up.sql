-- Casework: households, persons, group membership, consent, applications,
-- needs assessments, the aid ledger, referrals, and the audit log.
CREATE TABLE households (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id            TEXT UNIQUE,
    region_code            TEXT NOT NULL,
    address                TEXT NOT NULL DEFAULT '',
    monthly_income_fen     BIGINT NOT NULL DEFAULT 0 CHECK (monthly_income_fen >= 0),
    medical_spending_fen   BIGINT NOT NULL DEFAULT 0 CHECK (medical_spending_fen >= 0),
    education_spending_fen BIGINT NOT NULL DEFAULT 0 CHECK (education_spending_fen >= 0),
    housing_spending_fen   BIGINT NOT NULL DEFAULT 0 CHECK (housing_spending_fen >= 0),
    other_spending_fen     BIGINT NOT NULL DEFAULT 0 CHECK (other_spending_fen >= 0),
    version                BIGINT NOT NULL DEFAULT 1,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
--bun:split
CREATE INDEX households_region ON households (region_code, id);
--bun:split
CREATE TABLE persons (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id          INTEGER NOT NULL REFERENCES households (id),
    external_id           TEXT UNIQUE,
    name                  TEXT NOT NULL,
    relation              TEXT NOT NULL CHECK (relation IN ('HEAD', 'SPOUSE', 'CHILD', 'PARENT', 'GRANDCHILD', 'GRANDPARENT', 'SIBLING', 'OTHER')),
    resident_id_index     BLOB NOT NULL UNIQUE,
    resident_id_sealed    BLOB NOT NULL,
    birth_date            DATE NOT NULL,
    female                INTEGER NOT NULL,
    possible_duplicate_of INTEGER REFERENCES persons (id),
    created_at            TEXT NOT NULL
);
--bun:split
CREATE INDEX persons_household ON persons (household_id, id);
--bun:split
CREATE INDEX persons_name_birth ON persons (name, birth_date);
--bun:split
CREATE TABLE group_memberships (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id  INTEGER NOT NULL REFERENCES persons (id),
    group_code TEXT NOT NULL REFERENCES population_groups (code),
    since      DATE NOT NULL,
    until      DATE,
    created_at TEXT NOT NULL,
    CHECK (until IS NULL OR until >= since)
);
--bun:split
CREATE INDEX group_memberships_person ON group_memberships (person_id);
--bun:split
CREATE TABLE consents (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id         INTEGER NOT NULL REFERENCES households (id),
    purposes             TEXT NOT NULL,
    granted_by_person_id INTEGER NOT NULL REFERENCES persons (id),
    method               TEXT NOT NULL CHECK (method IN ('ELECTRONIC', 'REMOTE', 'PAPER')),
    granted_at           TEXT NOT NULL,
    expires_at           TEXT,
    revoked_at           TEXT,
    revoke_reason        TEXT NOT NULL DEFAULT '',
    recorded_by          INTEGER,
    created_at           TEXT NOT NULL
);
--bun:split
CREATE INDEX consents_household ON consents (household_id, id);
--bun:split
CREATE TABLE applications (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id        INTEGER NOT NULL REFERENCES households (id),
    applicant_person_id INTEGER REFERENCES persons (id),
    channel             TEXT NOT NULL CHECK (channel IN ('APP', 'CASE_MANAGER', 'HOTLINE', 'PAPER')),
    help_text           TEXT NOT NULL,
    category_codes      TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('SUBMITTED', 'CLASSIFIED', 'WITHDRAWN')),
    assessment_id       INTEGER,
    submitted_at        TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
--bun:split
CREATE INDEX applications_household ON applications (household_id, id);
--bun:split
CREATE TABLE application_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    status         TEXT NOT NULL,
    at             TEXT NOT NULL,
    actor_token_id INTEGER,
    actor_role     TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE INDEX application_events_application ON application_events (application_id, id);
--bun:split
CREATE TABLE assessments (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id      INTEGER NOT NULL REFERENCES households (id),
    application_id    INTEGER REFERENCES applications (id),
    assessed_on       DATE NOT NULL,
    assessor_token_id INTEGER,
    assessor_role     TEXT NOT NULL,
    notes             TEXT NOT NULL DEFAULT '',
    supersedes_id     INTEGER REFERENCES assessments (id),
    superseded_at     TEXT,
    created_at        TEXT NOT NULL
);
--bun:split
CREATE UNIQUE INDEX assessments_current ON assessments (household_id) WHERE superseded_at IS NULL;
--bun:split
CREATE TABLE needs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    assessment_id INTEGER NOT NULL REFERENCES assessments (id),
    household_id  INTEGER NOT NULL REFERENCES households (id),
    person_id     INTEGER REFERENCES persons (id),
    category_code TEXT NOT NULL REFERENCES service_categories (code),
    item_code     TEXT REFERENCES service_items (code),
    severity      INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 5),
    notes         TEXT NOT NULL DEFAULT '',
    opened_on     DATE NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('OPEN', 'MET', 'SUPERSEDED', 'CLOSED')),
    closed_at     TEXT
);
--bun:split
CREATE INDEX needs_assessment ON needs (assessment_id, id);
--bun:split
CREATE INDEX needs_open ON needs (status, category_code, id);
--bun:split
CREATE TABLE referrals (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id        INTEGER NOT NULL REFERENCES households (id),
    person_id           INTEGER REFERENCES persons (id),
    need_id             INTEGER REFERENCES needs (id),
    resource_id         INTEGER NOT NULL REFERENCES resources (id),
    organization_id     INTEGER NOT NULL REFERENCES organizations (id),
    category_code       TEXT NOT NULL REFERENCES service_categories (code),
    item_code           TEXT REFERENCES service_items (code),
    units               BIGINT NOT NULL DEFAULT 0 CHECK (units >= 0),
    amount_fen          BIGINT NOT NULL DEFAULT 0 CHECK (amount_fen >= 0),
    period_start        DATE NOT NULL,
    period_end          DATE NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'IN_PROGRESS', 'DELIVERED', 'DECLINED', 'CANCELLED', 'EXPIRED')),
    capacity_taken      INTEGER NOT NULL DEFAULT 0,
    decline_reason      TEXT,
    note                TEXT NOT NULL DEFAULT '',
    override_reason     TEXT NOT NULL DEFAULT '',
    respond_by          TEXT NOT NULL,
    created_by_token_id INTEGER,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    version             BIGINT NOT NULL DEFAULT 1,
    CHECK (period_end >= period_start)
);
--bun:split
CREATE INDEX referrals_organization ON referrals (organization_id, status, id);
--bun:split
CREATE INDEX referrals_household ON referrals (household_id, category_code);
--bun:split
CREATE INDEX referrals_open ON referrals (status, respond_by);
--bun:split
CREATE TABLE referral_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    referral_id    INTEGER NOT NULL REFERENCES referrals (id),
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    at             TEXT NOT NULL,
    actor_token_id INTEGER,
    actor_role     TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE INDEX referral_events_referral ON referral_events (referral_id, id);
--bun:split
CREATE TABLE aid_records (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id         INTEGER NOT NULL REFERENCES households (id),
    person_id            INTEGER REFERENCES persons (id),
    category_code        TEXT NOT NULL REFERENCES service_categories (code),
    item_code            TEXT REFERENCES service_items (code),
    provider_kind        TEXT NOT NULL CHECK (provider_kind IN ('GOVERNMENT', 'CHARITY', 'SOCIAL_ORGANIZATION', 'OTHER')),
    provider_org_id      INTEGER REFERENCES organizations (id),
    provider_name        TEXT NOT NULL,
    amount_fen           BIGINT NOT NULL DEFAULT 0 CHECK (amount_fen >= 0),
    units                BIGINT NOT NULL DEFAULT 0 CHECK (units >= 0),
    period_start         DATE NOT NULL,
    period_end           DATE NOT NULL,
    source               TEXT NOT NULL CHECK (source IN ('REFERRAL', 'DIRECT', 'IMPORT')),
    referral_id          INTEGER UNIQUE REFERENCES referrals (id),
    need_id              INTEGER REFERENCES needs (id),
    override_reason      TEXT NOT NULL DEFAULT '',
    recorded_by_token_id INTEGER,
    recorded_at          TEXT NOT NULL,
    CHECK (period_end >= period_start)
);
--bun:split
CREATE INDEX aid_records_household ON aid_records (household_id, category_code, period_start);
--bun:split
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    token_id        INTEGER,
    role            TEXT NOT NULL,
    organization_id INTEGER,
    region_prefix   TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    subject_type    TEXT NOT NULL,
    subject_id      INTEGER,
    summary         TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL UNIQUE
);
--bun:split
CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id, id);
