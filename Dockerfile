# One image for every JobLink process; the command picks the role:
#   python -m kit.cli serve <service|gateway> --host 0.0.0.0 --port N   (API)
#   python -m kit.cli worker <service>                                 (outbox relay + consumers)
#   python -m kit.cli migrate <service>                                (one-shot migrations)
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml requirements.lock ./
COPY libs ./libs
COPY services ./services
COPY gateway ./gateway
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -c requirements.lock .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app joblink \
 && mkdir -p /run/joblink && chown 10001 /run/joblink
COPY --from=build /opt/venv /opt/venv
# the batch top-N kernel is compiled once and cached (the root filesystem is read-only)
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 JOBLINK_VAR=/tmp/joblink NUMBA_CACHE_DIR=/tmp/joblink/numba
WORKDIR /app
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=4s --retries=6 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=3)"
CMD ["python", "-m", "kit.cli", "serve", "gateway", "--host", "0.0.0.0", "--port", "8000"]
