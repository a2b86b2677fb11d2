DROP TABLE api_tokens;
--bun:split
DROP TABLE resource_coverage;
--bun:split
DROP TABLE resource_groups;
--bun:split
DROP TABLE resource_items;
--bun:split
DROP TABLE resources;
--bun:split
DROP TABLE organizations;
--bun:split
DROP TABLE plan_entries;
--bun:split
DROP TABLE service_items;
--bun:split
DROP TABLE service_categories;
--bun:split
DROP TABLE population_groups;
