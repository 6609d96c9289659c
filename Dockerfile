# Tally in a container: one static binary on a small base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /tally ./cmd/tally

FROM gcr.io/distroless/static-debian12
COPY --from=build /tally /tally
ENTRYPOINT ["/tally"]
