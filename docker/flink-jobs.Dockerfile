# syntax=docker/dockerfile:1
# Flink 2.2 with GenGuard's shaded job jar in usrlib (user classloader) and the Prometheus
# reporter plugin; the JobManager, the TaskManagers and the one-shot submitter all run it.
#   docker build -f docker/flink-jobs.Dockerfile -t genguard/flink-jobs:dev .

# --- build: the shaded jar (Flink provided) and the reporter plugin of the same Flink version --
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -Dstyle.color=never -DskipTests -Dit.skip=true -pl flink-jobs -am package \
 && mvn -B -q -Dstyle.color=never dependency:copy -pl flink-jobs \
      -Dartifact=org.apache.flink:flink-metrics-prometheus:2.2.0 -DoutputDirectory=/out/plugin \
 && cp flink-jobs/target/genguard-flink-jobs.jar /out/

# --- runtime: the official image, running as its unprivileged flink user ------------------------
FROM flink:2.2
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/flink /opt/genguard /opt/flink/usrlib /opt/flink/plugins/metrics-prometheus \
 && chown -R flink:flink /var/lib/flink /opt/genguard /opt/flink/usrlib /opt/flink/conf
COPY --from=build --chown=flink:flink /out/plugin/flink-metrics-prometheus-2.2.0.jar /opt/flink/plugins/metrics-prometheus/
COPY --from=build --chown=flink:flink /out/genguard-flink-jobs.jar /opt/flink/usrlib/genguard-flink-jobs.jar
COPY --chown=flink:flink --chmod=0755 docker/flink/submit-jobs.sh /opt/genguard/submit-jobs.sh
USER flink
ENV JAVA_TOOL_OPTIONS="-Dai.djl.offline=true"
EXPOSE 8081 9249
