# PostgreSQL 17 with HypoPG, for `docker compose up`.
FROM postgres:17
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-17-hypopg && rm -rf /var/lib/apt/lists/*
