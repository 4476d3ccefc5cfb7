# syntax=docker/dockerfile:1.7
# One image for both halves of atomesh: `atomesh operator` (the default command) and
# `atomesh runner checkout|agent|publish` (the runner pod's steps pass these as args).
# Every base image, npm and pip install is pinned so a rebuild is the same image;
# tests/unit/packaging/test_dockerfile.py checks this file statically.

ARG ATOMESH_VERSION=0.1.0

# Node.js comes from the official image of the same Debian release as the Python base,
# so its binary links against the same glibc. Node 20: newer Claude Code releases need 22.
FROM node:20.19.5-bookworm-slim AS node

# Builder: wheels of exactly the locked dependencies (hashes checked) plus the atomesh wheel,
# so the runtime stage installs offline and carries no compiler or build cache.
FROM python:3.11.13-slim-bookworm AS builder
WORKDIR /src
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip wheel --no-cache-dir --require-hashes --wheel-dir /wheels -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11.13-slim-bookworm AS runtime
ARG ATOMESH_VERSION
ARG VCS_REF=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.title="atomesh" \
      org.opencontainers.image.description="Kubernetes operator that treats AI agents as versioned infrastructure; also the runner of its pods." \
      org.opencontainers.image.version="${ATOMESH_VERSION}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.source="https://github.com/atomesh/atomesh" \
      org.opencontainers.image.url="https://github.com/atomesh/atomesh" \
      org.opencontainers.image.documentation="https://github.com/atomesh/atomesh/blob/main/docs/install.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="atomesh" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.13-slim-bookworm"

# git for checkout and publish, chromium for publish's visual surface (Playwright drives it to
# rasterise SVG and render pages; it downloads no browser of its own). Debian package versions are
# not pinned because security updates replace them in the archive — the base image tag pins the
# Debian release.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates openssh-client chromium fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# LibreOffice (Writer and Impress, without GUI) and poppler's pdftoppm render page images of changed
# slides and documents in publish. Opt in with --build-arg WITH_LIBREOFFICE=true: they add about
# 270 MiB to an image that also runs the operator; without them the surface says what was not rendered.
ARG WITH_LIBREOFFICE=false
RUN if [ "$WITH_LIBREOFFICE" = true ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends libreoffice-impress-nogui libreoffice-writer-nogui poppler-utils \
      && rm -rf /var/lib/apt/lists/*; \
    fi

COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
# The harness CLIs exactly as package-lock.json pins them (the API descriptions are dev-only);
# `install --no-save`, not `ci`, for the reason the Makefile's harnesses target gives.
COPY package.json package-lock.json /opt/atomesh/node/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && npm install --no-save --prefix /opt/atomesh/node --omit=dev --no-audit --no-fund \
 && npm cache clean --force
ENV PATH=/opt/atomesh/node/node_modules/.bin:$PATH

# The builder checked every wheel against the lock's hashes; install them all, and nothing else.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --no-deps /wheels/*.whl

# A fixed numeric user (the distroless "nonroot" id), so runAsNonRoot can verify it
# without a name lookup. HOME is writable for the harness CLIs' own state.
RUN groupadd --gid 65532 atomesh \
 && useradd --uid 65532 --gid 65532 --home-dir /home/atomesh --create-home --shell /usr/sbin/nologin atomesh

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/atomesh \
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
    DISABLE_AUTOUPDATER=1 \
    OPENCODE_DISABLE_MODELS_FETCH=1 \
    OPENCODE_DISABLE_AUTOUPDATE=1

USER 65532:65532
WORKDIR /home/atomesh
ENTRYPOINT ["atomesh"]
CMD ["operator"]
