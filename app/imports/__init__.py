"""Bulk imports of books: uploads stored as rows, run in batches by a runner that holds a lease."""
