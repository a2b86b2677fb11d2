-- The DATA_FEED role (20261202000006 gave tokens their feed_source) was
-- still refused by the role check of the foundation's api_tokens.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
--bun:split
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('ADMIN', 'CASE_MANAGER', 'CHARITY', 'DONOR', 'DATA_FEED'));
