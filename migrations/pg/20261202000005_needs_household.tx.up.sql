-- A household's open needs are read on every change to the household (the
-- matcher's re-reading, in the request and in its job): without an index that
-- walked every open need, 120 ms at 1.7 million.
CREATE INDEX needs_household ON needs (household_id, id);
