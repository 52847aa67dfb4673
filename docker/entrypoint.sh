#!/bin/sh
# Bring the database schema up to date, then replace this shell with the command
# (the server by default), so that it runs as PID 1 and receives the stop signal.
set -eu
# alembic.ini puts the working directory on sys.path to import the app.
cd /app
alembic upgrade head
exec "$@"
