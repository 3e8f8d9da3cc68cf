# convstats: multi-stage build, small non-root runtime image.
#   docker build -t convstats .
#   docker run --rm convstats --help
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
USER convstats:convstats
# The working directory is writable: the dead-letter file
# (./convstats-dead-letters.ndjson) and `compute --out` land here by default.
WORKDIR /home/convstats
ENTRYPOINT ["convstats"]
CMD ["--help"]
