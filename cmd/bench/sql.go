package main

import (
	_ "embed"
	"fmt"
	"strings"
)

// benchSQL holds the bench's own statements, each after a "-- name: X" line.
//
//go:embed bench.sql
var benchSQL string

// approveScript is Tally's approve transaction for pgbench.
//
//go:embed approve.pgbench
var approveScript string

var statements = parseStatements(benchSQL)

func parseStatements(text string) map[string]string {
	out := map[string]string{}
	name := ""
	var b strings.Builder
	flush := func() {
		if name != "" {
			out[name] = strings.TrimSpace(b.String())
		}
		b.Reset()
	}
	for line := range strings.Lines(text) {
		if n, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name: "); ok {
			flush()
			name = strings.TrimSpace(n)
			continue
		}
		b.WriteString(line)
	}
	flush()
	return out
}

// stmt is the named statement; a name missing from bench.sql is a bug in the bench.
func stmt(name string) string {
	s, ok := statements[name]
	if !ok {
		panic(fmt.Sprintf("bench.sql has no statement %q", name))
	}
	return s
}
