-- A DATA_FEED token (another department's system) carries the source name
-- its signals are stored under.
ALTER TABLE api_tokens ADD COLUMN feed_source TEXT;
--bun:split
-- Early warning (issue 14), owned by package warning: signals from other
-- departments, warning types as data, calibrations of the adaptive
-- thresholds with the peers' medians, and the warnings with their events.
CREATE TABLE signals (
    id           BIGSERIAL PRIMARY KEY,
    source       TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    household_id BIGINT NOT NULL REFERENCES households (id),
    person_id    BIGINT REFERENCES persons (id),
    kind         TEXT NOT NULL,
    observed_on  DATE NOT NULL,
    month        INTEGER NOT NULL,
    amount_fen   BIGINT CHECK (amount_fen >= 0),
    status       TEXT NOT NULL DEFAULT '',
    recorded_at  TIMESTAMPTZ NOT NULL,
    recorded_by  BIGINT,
    UNIQUE (source, external_id)
);
--bun:split
CREATE INDEX signals_household ON signals (household_id, month);
--bun:split
CREATE INDEX signals_month ON signals (month, household_id);
--bun:split
CREATE TABLE warning_types (
    code       TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE TABLE warning_calibrations (
    id          BIGSERIAL PRIMARY KEY,
    month       INTEGER NOT NULL,
    trigger     TEXT NOT NULL CHECK (trigger IN ('SCHEDULE', 'DEMAND', 'FULL_PASS')),
    households  BIGINT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX warning_calibrations_month ON warning_calibrations (month, id);
--bun:split
CREATE TABLE warning_thresholds (
    calibration_id BIGINT NOT NULL REFERENCES warning_calibrations (id) ON DELETE CASCADE,
    type_code      TEXT NOT NULL,
    district       TEXT NOT NULL,
    group_code     TEXT NOT NULL,
    month          INTEGER NOT NULL,
    scope          TEXT NOT NULL CHECK (scope IN ('CELL', 'DISTRICT', 'CITY', 'FIXED')),
    value          DOUBLE PRECISION NOT NULL,
    raw            DOUBLE PRECISION NOT NULL,
    n              INTEGER NOT NULL,
    window_from    INTEGER NOT NULL,
    window_to      INTEGER NOT NULL,
    method         TEXT NOT NULL,
    clamped        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (calibration_id, type_code, district, group_code)
);
--bun:split
CREATE TABLE warning_peer_medians (
    calibration_id BIGINT NOT NULL REFERENCES warning_calibrations (id) ON DELETE CASCADE,
    measure        TEXT NOT NULL,
    district       TEXT NOT NULL,
    group_code     TEXT NOT NULL,
    month          INTEGER NOT NULL,
    median         DOUBLE PRECISION NOT NULL,
    n              INTEGER NOT NULL,
    PRIMARY KEY (calibration_id, measure, district, group_code, month)
);
--bun:split
CREATE TABLE warnings (
    id               BIGSERIAL PRIMARY KEY,
    type_code        TEXT NOT NULL REFERENCES warning_types (code),
    household_id     BIGINT NOT NULL REFERENCES households (id),
    person_id        BIGINT REFERENCES persons (id),
    region_code      TEXT NOT NULL,
    responsible_code TEXT NOT NULL,
    severity         TEXT NOT NULL CHECK (severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    state            TEXT NOT NULL CHECK (state IN ('NEW', 'ACKNOWLEDGED', 'VISITED', 'RESOLVED', 'DISMISSED')),
    month            INTEGER NOT NULL,
    evidence         TEXT NOT NULL,
    raised_at        TIMESTAMPTZ NOT NULL,
    due_on           DATE NOT NULL,
    acknowledged_at  TIMESTAMPTZ,
    visited_at       TIMESTAMPTZ,
    visit_note       TEXT NOT NULL DEFAULT '',
    closed_at        TIMESTAMPTZ,
    outcome          TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'APPLICATION_OPENED', 'REFERRED', 'NO_ACTION_NEEDED')),
    dismiss_reason   TEXT NOT NULL DEFAULT '',
    application_id   BIGINT REFERENCES applications (id),
    version          BIGINT NOT NULL DEFAULT 1,
    updated_at       TIMESTAMPTZ NOT NULL
);
--bun:split
-- One open warning of a type per household: evidence that arrives while it is
-- open joins it, a closed one may be raised again.
CREATE UNIQUE INDEX warnings_open ON warnings (type_code, household_id) WHERE state IN ('NEW', 'ACKNOWLEDGED', 'VISITED');
--bun:split
CREATE INDEX warnings_region ON warnings (region_code, id);
--bun:split
CREATE INDEX warnings_household ON warnings (household_id, id);
--bun:split
CREATE TABLE warning_events (
    id             BIGSERIAL PRIMARY KEY,
    warning_id     BIGINT NOT NULL REFERENCES warnings (id),
    state          TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    actor_token_id BIGINT,
    note           TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE INDEX warning_events_warning ON warning_events (warning_id, id);
