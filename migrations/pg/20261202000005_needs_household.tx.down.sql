DROP INDEX needs_household;
