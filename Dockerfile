# The Contact Profiles service: `profiles serve` (API, projections, and the Kafka
# consumer and relay when KAFKA_BOOTSTRAP_SERVERS is set). Used by docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Metadata first, so the dependency layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY consumers ./consumers
COPY api ./api
COPY profiles ./profiles
RUN pip install . \
 && useradd --create-home --uid 10001 profiles \
 && mkdir -p /data && chown profiles /data

USER profiles
ENV PROFILES_HOST=0.0.0.0 \
    PROFILES_PORT=8000 \
    PROFILES_DATA_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=6 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
CMD ["profiles", "serve"]
