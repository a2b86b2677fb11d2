-- A DATA_FEED token (another department's system) carries the source name
-- its signals are stored under.
ALTER TABLE api_tokens ADD COLUMN feed_source TEXT;
--bun:split
-- Early warning (issue 14), owned by package warning: signals from other
-- departments, warning types as data, calibrations of the adaptive
-- thresholds with the peers' medians, and the warnings with their events.
CREATE TABLE signals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    household_id INTEGER NOT NULL REFERENCES households (id),
    person_id    INTEGER REFERENCES persons (id),
    kind         TEXT NOT NULL,
    observed_on  DATE NOT NULL,
    month        INTEGER NOT NULL,
    amount_fen   INTEGER CHECK (amount_fen >= 0),
    status       TEXT NOT NULL DEFAULT '',
    recorded_at  TEXT NOT NULL,
    recorded_by  INTEGER,
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
    enabled    INTEGER NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
--bun:split
CREATE TABLE warning_calibrations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    month       INTEGER NOT NULL,
    trigger     TEXT NOT NULL CHECK (trigger IN ('SCHEDULE', 'DEMAND', 'FULL_PASS')),
    households  INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
--bun:split
CREATE INDEX warning_calibrations_month ON warning_calibrations (month, id);
--bun:split
CREATE TABLE warning_thresholds (
    calibration_id INTEGER NOT NULL REFERENCES warning_calibrations (id) ON DELETE CASCADE,
    type_code      TEXT NOT NULL,
    district       TEXT NOT NULL,
    group_code     TEXT NOT NULL,
    month          INTEGER NOT NULL,
    scope          TEXT NOT NULL CHECK (scope IN ('CELL', 'DISTRICT', 'CITY', 'FIXED')),
    value          REAL NOT NULL,
    raw            REAL NOT NULL,
    n              INTEGER NOT NULL,
    window_from    INTEGER NOT NULL,
    window_to      INTEGER NOT NULL,
    method         TEXT NOT NULL,
    clamped        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (calibration_id, type_code, district, group_code)
);
--bun:split
CREATE TABLE warning_peer_medians (
    calibration_id INTEGER NOT NULL REFERENCES warning_calibrations (id) ON DELETE CASCADE,
    measure        TEXT NOT NULL,
    district       TEXT NOT NULL,
    group_code     TEXT NOT NULL,
    month          INTEGER NOT NULL,
    median         REAL NOT NULL,
    n              INTEGER NOT NULL,
    PRIMARY KEY (calibration_id, measure, district, group_code, month)
);
--bun:split
CREATE TABLE warnings (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    type_code        TEXT NOT NULL REFERENCES warning_types (code),
    household_id     INTEGER NOT NULL REFERENCES households (id),
    person_id        INTEGER REFERENCES persons (id),
    region_code      TEXT NOT NULL,
    responsible_code TEXT NOT NULL,
    severity         TEXT NOT NULL CHECK (severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    state            TEXT NOT NULL CHECK (state IN ('NEW', 'ACKNOWLEDGED', 'VISITED', 'RESOLVED', 'DISMISSED')),
    month            INTEGER NOT NULL,
    evidence         TEXT NOT NULL,
    raised_at        TEXT NOT NULL,
    due_on           DATE NOT NULL,
    acknowledged_at  TEXT,
    visited_at       TEXT,
    visit_note       TEXT NOT NULL DEFAULT '',
    closed_at        TEXT,
    outcome          TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'APPLICATION_OPENED', 'REFERRED', 'NO_ACTION_NEEDED')),
    dismiss_reason   TEXT NOT NULL DEFAULT '',
    application_id   INTEGER REFERENCES applications (id),
    version          INTEGER NOT NULL DEFAULT 1,
    updated_at       TEXT NOT NULL
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
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    warning_id     INTEGER NOT NULL REFERENCES warnings (id),
    state          TEXT NOT NULL,
    at             TEXT NOT NULL,
    actor_token_id INTEGER,
    note           TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE INDEX warning_events_warning ON warning_events (warning_id, id);
