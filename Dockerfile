# syntax=docker/dockerfile:1
# ordergen batch image: `docker build -t ordergen .` from the repository root.
# Two stages on the same base, so the virtualenv's interpreter path is valid in both:
#   build    uv installs the locked runtime dependencies and the project (not editable)
#            into /opt/venv; the dev extra is never installed;
#   runtime  the base image plus /opt/venv, nothing else: no uv, no sources, no compiler.
# Bump both tags together; pin by digest (python:3.11-slim-bookworm@sha256:...) where the
# build has registry access.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
# Dependencies first, from the lock file only: this layer is reused until uv.lock changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --locked --no-dev --no-install-project --no-editable
# Then the project itself, as a regular (non-editable) install into the same venv.
# README.md is read by the build backend (pyproject `readme`).
COPY pyproject.toml uv.lock README.md ./
COPY ordergen ./ordergen
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable

FROM ${PYTHON_IMAGE} AS runtime
# Bytecode was compiled at build time (UV_COMPILE_BYTECODE): the root filesystem is
# read-only in the cluster, so nothing could be cached at run time anyway.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    LOG_FORMAT=json \
    HOME=/tmp
# A named user for tools that look the uid up; the numeric USER below is what counts
# (Kubernetes' runAsNonRoot can only verify a numeric user).
RUN groupadd --system --gid 10001 ordergen \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin ordergen
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /tmp
# The probe and metrics endpoint, when started with --probe-port 9102 (or PROBE_PORT).
EXPOSE 9102
ENTRYPOINT ["ordergen"]
CMD ["--help"]
