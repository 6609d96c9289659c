# Tally in a container: one static binary on a small base, and the probe its health checks run.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/tally ./cmd/tally \
 && CGO_ENABLED=0 go build -trimpath -o /out/healthcheck ./docker/healthcheck

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tally /out/healthcheck /
# 8080: `tally web` (TALLY_ADDR); 9091: `tally worker`'s /metrics and /healthz (TALLY_METRICS_ADDR);
# 8081: `tally partner-sim`.
EXPOSE 8080 8081 9091
ENTRYPOINT ["/tally"]
