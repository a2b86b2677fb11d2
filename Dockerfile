# The hub's image: the static linux binary of ./scripts/release and nothing
# else (FROM scratch: no base image to pull, no shell). Build it with
#
#   AIDHUB_RELEASE_TARGETS=linux/amd64 ./scripts/release   # or linux/arm64
#   docker build -t aidhub .
#   docker run -p 8080:8080 -v aidhub-data:/data aidhub
#
# It holds no CA certificates: add them (or mount /etc/ssl/certs) for a
# PostgreSQL or Meilisearch reached over TLS. In production pass
# AIDHUB_ENV=production and AIDHUB_SECRET (see README, Configuration).
FROM scratch
# Set by BuildKit to the platform being built; the default is for the
# classic builder.
ARG TARGETARCH=amd64
COPY dist/aidhub-linux-${TARGETARCH} /aidhub
# Owned by the user below: a named volume mounted here starts as a copy of
# it, and so writable by the hub.
COPY --chown=65532:65532 scripts/docker-data/ /data/
# Not root; a number, since scratch has no /etc/passwd.
USER 65532:65532
WORKDIR /data
ENV HOME=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/aidhub"]
# Any other command replaces this one: docker run aidhub version
CMD ["serve", "--addr", "0.0.0.0:8080", "--data", "/data"]
