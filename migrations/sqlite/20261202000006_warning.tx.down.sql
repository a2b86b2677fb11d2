DROP TABLE warning_events;
--bun:split
DROP TABLE warnings;
--bun:split
DROP TABLE warning_peer_medians;
--bun:split
DROP TABLE warning_thresholds;
--bun:split
DROP TABLE warning_calibrations;
--bun:split
DROP TABLE warning_types;
--bun:split
DROP TABLE signals;
--bun:split
ALTER TABLE api_tokens DROP COLUMN feed_source;
