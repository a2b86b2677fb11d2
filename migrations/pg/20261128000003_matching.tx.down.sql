DROP TABLE need_matches;
--bun:split
ALTER TABLE resources DROP COLUMN eligibility_rule;
