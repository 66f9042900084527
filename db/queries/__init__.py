"""Query functions: one module per table, each taking an open connection."""
