# convstats: multi-stage build, small non-root runtime image.
#   docker build -t convstats .
#   docker run --rm convstats --help
#   docker run -p 8080:8080 -v convstats-data:/var/lib/convstats convstats   # serve
#
# Builder and runtime share the Debian release (bookworm), so the binary's
# glibc matches the runtime's.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin convstats \
 && strip target/release/convstats

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --create-home --home-dir /home/convstats convstats
COPY --from=build /src/target/release/convstats /usr/local/bin/convstats
RUN mkdir -p /var/lib/convstats && chown convstats:convstats /var/lib/convstats
USER convstats:convstats
# The working directory is writable: the dead-letter file
# (./convstats-dead-letters.ndjson) and `compute --out` land here by default.
WORKDIR /home/convstats
# `serve` by default: the state store on a volume, listening on every
# interface of the container (publish the port to choose who reaches it).
ENV CONVSTATS_STORE=/var/lib/convstats/convstats.db \
    CONVSTATS_LISTEN=0.0.0.0:8080
VOLUME /var/lib/convstats
EXPOSE 8080
ENTRYPOINT ["convstats"]
CMD ["serve"]
