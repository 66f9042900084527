"""Plain-Python domain: the pipeline's vocabulary and rules, importable by every layer."""
