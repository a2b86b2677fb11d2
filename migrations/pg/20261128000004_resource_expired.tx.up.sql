-- The resource status EXPIRED, where the daily expiry job puts a published
-- or paused resource whose validity has ended; extending validUntil and
-- publishing it again brings it back.
ALTER TABLE resources DROP CONSTRAINT resources_status_check;
--bun:split
ALTER TABLE resources ADD CONSTRAINT resources_status_check
    CHECK (status IN ('DRAFT', 'PUBLISHED', 'PAUSED', 'EXPIRED', 'CLOSED'));
