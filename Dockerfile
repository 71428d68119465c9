# sessiongate in a container: docker build -t sessiongate . && docker run -p 8080:8080 sessiongate
# (not built by CI, which has no container engine; see docs/deployment.md).
FROM debian:12 AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential cmake ninja-build pkg-config git python3 \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libyaml-cpp-dev libcli11-dev \
      libsqlite3-dev libhiredis-dev libssl-dev libsystemd-dev libnghttp2-dev libgtest-dev \
      libgmock-dev libbenchmark-dev ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake --preset release >/dev/null && cmake --build --preset release --target sessiongate sg_docs

FROM debian:12-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 libyaml-cpp0.7 libsqlite3-0 libhiredis0.14 libssl3 \
      libsystemd0 libnghttp2-14 curl ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/sessiongate --create-home --shell /usr/sbin/nologin sessiongate
COPY --from=build /src/build/release/sessiongate /usr/bin/sessiongate
COPY --from=build /src/build/release/generated/sessiongate.1 /usr/share/man/man1/sessiongate.1
COPY packaging/container.yaml /etc/sessiongate/sessiongate.yaml
USER sessiongate
WORKDIR /var/lib/sessiongate
ENV SESSIONGATE_ADMIN_TOKEN=""
EXPOSE 8080 9901
HEALTHCHECK --interval=10s --timeout=2s --retries=3 CMD curl -fsS http://127.0.0.1:9901/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/sessiongate"]
CMD ["serve", "--config", "/etc/sessiongate/sessiongate.yaml"]
