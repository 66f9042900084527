"""Benchmarks: ratios and figures measured in one run, side by side (`make bench-*`)."""
