"""Pure functions over results: KPIs, statistics, time to recover, the Result of one replication."""
