DELETE FROM api_tokens WHERE role = 'DATA_FEED';
--bun:split
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
--bun:split
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('ADMIN', 'CASE_MANAGER', 'CHARITY', 'DONOR'));
