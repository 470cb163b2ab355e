"""Batch translation of archives: streaming readers, safety limits, durable outputs, resumable runner, job store."""
