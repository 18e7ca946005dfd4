# syntax=docker/dockerfile:1
# GenGuard service images: one build, one target per service (docker-compose.yml picks the target).
#   docker build -f docker/services.Dockerfile --target generator -t genguard/generator:dev .
# Targets: generator, audit, release-gate, topics (one-shot topic provisioning).

# --- build: the services module and everything it needs, tests skipped (CI runs them) ----------
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -Dstyle.color=never -DskipTests -Dit.skip=true -pl services -am package \
 && mkdir -p /out/lib \
 && cp services/target/lib/*.jar /out/lib/ \
 && cp services/target/services-*.jar /out/lib/

# --- runtime: a JRE, curl for health checks, an unprivileged user -----------------------------
FROM eclipse-temurin:17-jre AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 genguard \
 && useradd --system --uid 10001 --gid genguard --home-dir /var/lib/genguard --shell /usr/sbin/nologin genguard \
 && mkdir -p /var/lib/genguard \
 && chown genguard:genguard /var/lib/genguard
COPY --from=build /out/lib/ /app/lib/
USER 10001:10001
WORKDIR /var/lib/genguard
# DJL never downloads (models ship in the jars or come from a mounted folder); the heap follows
# the container's memory limit.
ENV GENGUARD_DATA_DIR=/var/lib/genguard \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -Dai.djl.offline=true"
EXPOSE 9464

FROM runtime AS generator
ENTRYPOINT ["java", "-cp", "/app/lib/*", "io.genguard.services.generator.GeneratorMain"]

FROM runtime AS audit
EXPOSE 8080
ENTRYPOINT ["java", "-cp", "/app/lib/*", "io.genguard.services.audit.AuditMain"]

FROM runtime AS release-gate
ENTRYPOINT ["java", "-cp", "/app/lib/*", "io.genguard.services.gate.ReleaseGateMain"]

FROM runtime AS topics
ENTRYPOINT ["java", "-cp", "/app/lib/*", "io.genguard.services.topics.ProvisionTopicsMain"]
