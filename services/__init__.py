"""Business logic: every rule, transaction and gate of the pipeline lives here."""
