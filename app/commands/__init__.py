"""Command-line tools beside the server: the demo catalogue, backups and database copies, and
how every command starts."""
