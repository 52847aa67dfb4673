"""The HTTP edge: what is refused or redirected before a request reaches a route."""
