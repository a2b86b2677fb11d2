DROP TABLE audit_log;
--bun:split
DROP TABLE aid_records;
--bun:split
DROP TABLE referral_events;
--bun:split
DROP TABLE referrals;
--bun:split
DROP TABLE needs;
--bun:split
DROP TABLE assessments;
--bun:split
DROP TABLE application_events;
--bun:split
DROP TABLE applications;
--bun:split
DROP TABLE consents;
--bun:split
DROP TABLE group_memberships;
--bun:split
DROP TABLE persons;
--bun:split
DROP TABLE households;
