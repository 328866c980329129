# The DCA supervisor as a container: python:3.11 on Debian bookworm, the pinned requirements, a non-root
# user, data and logs on volumes. docker-compose.yml runs it next to MariaDB, Prometheus, Alertmanager and
# Grafana; deploy/README.md explains both that and the systemd unit.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Every dependency has a manylinux wheel, so no compiler is needed in the image.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt \
 && groupadd --system --gid 10001 dca \
 && useradd --system --uid 10001 --gid dca --home-dir /app --no-create-home --shell /usr/sbin/nologin dca \
 && mkdir -p /app/data /app/logs \
 && chown 10001:10001 /app/data /app/logs

# Only what runs: the tests, benchmarks and tooling stay out (see .dockerignore).
COPY --chown=root:root supervisor.py ./
COPY --chown=root:root actors/ actors/
COPY --chown=root:root adapters/ adapters/
COPY --chown=root:root app/ app/
COPY --chown=root:root cli/ cli/
COPY --chown=root:root config/ config/
COPY --chown=root:root dca/ dca/
COPY --chown=root:root ports/ ports/
COPY --chown=root:root wiring/ wiring/

# Numeric, so a host or Kubernetes can tell the process does not run as root.
USER 10001:10001

# Metrics must be reachable from the Prometheus container, so listen on every interface inside the
# container; docker-compose.yml publishes the port on the host's loopback only.
ENV DATA_DIR=/app/data \
    LOG_DIR=/app/logs \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=10588
VOLUME ["/app/data", "/app/logs"]
EXPOSE 10588

# Healthy = the process serves its metrics. A stuck actor is the alert rules' job, not Docker's.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['METRICS_PORT']}/metrics\", timeout=4)"]

# SIGTERM stops the actor tree cleanly (exit 0); open orders stay on the exchange and are read back on start.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "supervisor.py"]
CMD ["run"]
