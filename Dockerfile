# One image for the web server, the Celery workers and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEPLOYSERVER_DATA_DIR=/app/data

WORKDIR /app
RUN useradd --create-home --uid 1000 deployserver

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p deployserver feeds releases deployments sandbox \
    && pip install . \
    && pip uninstall --yes deployserver

COPY . .
# Editable: the code under /app (templates, static files next to it) is the code that runs.
RUN pip install --no-deps -e . \
    && mkdir -p /app/data /app/staticfiles \
    && chown -R deployserver:deployserver /app/data /app/staticfiles

USER deployserver
EXPOSE 8000
CMD ["gunicorn", "deployserver.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
