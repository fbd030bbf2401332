"""App push campaigns: planning, the transactional outbox, and its dispatcher."""
