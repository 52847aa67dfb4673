"""Shared mechanisms of the HTTP API: errors as problem details, pages, sorts and cursors,
ETags, loaders of one item, request bodies, shared SQL pieces and the OpenAPI document."""
