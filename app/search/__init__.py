"""Full-text search: the text parser, Unicode folding, per-dialect SQL and highlight offsets."""
