"""What operators see of a running Folio: logs, request ids, metrics and slow statements."""
