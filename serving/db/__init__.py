"""The service's own state (keys, directory, sessions, outcomes, outbox, audit) in SQL."""
