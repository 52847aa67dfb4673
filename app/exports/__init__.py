"""Streaming exports of books, in the format imports read."""
