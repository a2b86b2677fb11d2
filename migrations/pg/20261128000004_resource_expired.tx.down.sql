-- Without EXPIRED, an expired resource is PAUSED: hidden like before, and
-- its owner can still extend and publish it.
UPDATE resources SET status = 'PAUSED' WHERE status = 'EXPIRED';
--bun:split
ALTER TABLE resources DROP CONSTRAINT resources_status_check;
--bun:split
ALTER TABLE resources ADD CONSTRAINT resources_status_check
    CHECK (status IN ('DRAFT', 'PUBLISHED', 'PAUSED', 'CLOSED'));
