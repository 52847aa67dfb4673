# syntax=docker/dockerfile:1
# Folio: build the virtual environment with uv, then run it on a clean slim image.
# Both stages use the same base image and the same /app/.venv path, because the
# environment's interpreter link and script shebangs point at those absolute paths.

FROM python:3.11-slim AS builder

ENV UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.9

WORKDIR /app
COPY pyproject.toml uv.lock ./
# The project is not a package (tool.uv package = false): this installs only its dependencies.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project


FROM python:3.11-slim

ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/folio.db \
    HOST=0.0.0.0 \
    PORT=8000 \
    LOG_FORMAT=json \
    AUTH_MODE=keys

# /data is created and handed to the app's user before VOLUME, so a new named volume
# starts out writable by it. A bind-mounted host directory must be writable by uid 10001.
RUN groupadd --system --gid 10001 folio \
    && useradd --system --uid 10001 --gid folio --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin folio \
    && mkdir /data \
    && chown folio:folio /data

WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY alembic.ini pyproject.toml ./
COPY migrations/ migrations/
COPY app/ app/
COPY --chmod=755 docker/entrypoint.sh /usr/local/bin/folio-entrypoint

USER 10001:10001
VOLUME /data
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health/live', timeout=3)"]

ENTRYPOINT ["/usr/local/bin/folio-entrypoint"]
CMD ["python", "-m", "app"]
