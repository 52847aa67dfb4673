"""Folio: an async HTTP JSON service for a catalogue of authors, books and tags."""
