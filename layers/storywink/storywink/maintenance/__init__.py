"""The scheduled maintenance job: partitions made ahead, retention applied, stale and orphaned media swept,
stuck books repaired (see job.py)."""
