"""One replication: the run and its daily step, the border, queueing, the ledger, records and the day's factors."""
