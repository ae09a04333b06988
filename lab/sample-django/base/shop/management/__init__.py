"""The shop's management commands: run_worker and run_beat."""
