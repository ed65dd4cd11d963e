"""Benchmarks: each writes a JSON report under reports/."""
