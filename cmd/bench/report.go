package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// Verdicts of a row.
const (
	meets   = "meets"
	misses  = "misses"
	ok      = "ok"
	failed  = "FAILED"
	pending = "pending"
	errored = "error"
	info    = "—"
)

// Row is one figure of the table, with its reference measured in the same run.
type Row struct {
	Group  string `json:"group"`
	Figure string `json:"figure"`
	// Value and Reference are as printed; the numbers behind them are in Data.
	Value     string `json:"value"`
	Reference string `json:"reference,omitempty"`
	// Ratio is Value over Reference where both are numbers of one kind; 0 when there is none.
	Ratio   float64            `json:"ratio,omitempty"`
	Target  string             `json:"target,omitempty"`
	Verdict string             `json:"verdict"`
	Note    string             `json:"note,omitempty"`
	Error   string             `json:"error,omitempty"`
	Data    map[string]float64 `json:"data,omitempty"`
}

// Report is the whole run, as written to JSON.
type Report struct {
	Started  time.Time         `json:"started"`
	Took     float64           `json:"took_seconds"`
	Quick    bool              `json:"quick"`
	Commit   string            `json:"commit"`
	Machine  map[string]string `json:"machine"`
	Settings map[string]any    `json:"settings"`
	Rows     []Row             `json:"rows"`
}

// verdict is meets or misses.
func verdict(good bool) string {
	if good {
		return meets
	}
	return misses
}

// printTable writes the rows as a table, the notes and errors under it.
func printTable(w io.Writer, rows []Row) {
	head := []string{"figure", "value", "reference", "ratio", "target", "verdict"}
	cells := [][]string{head}
	for _, r := range rows {
		ratio := ""
		if r.Ratio != 0 && !math.IsNaN(r.Ratio) && !math.IsInf(r.Ratio, 0) {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		cells = append(cells, []string{r.Figure, r.Value, r.Reference, ratio, r.Target, r.Verdict})
	}
	width := make([]int, len(head))
	for _, row := range cells {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(row []string) {
		var b strings.Builder
		for i, c := range row {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(c)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	group := ""
	for i, row := range cells {
		if i > 0 && rows[i-1].Group != group {
			group = rows[i-1].Group
			fmt.Fprintf(w, "-- %s\n", group)
		}
		line(row)
		if i == 0 {
			sep := make([]string, len(width))
			for j, n := range width {
				sep[j] = strings.Repeat("-", n)
			}
			line(sep)
		}
	}
	var notes []string
	for _, r := range rows {
		if r.Error != "" {
			notes = append(notes, fmt.Sprintf("%s: ERROR %s", r.Figure, r.Error))
		}
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%s: %s", r.Figure, r.Note))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range notes {
			fmt.Fprintln(w, "  - "+n)
		}
	}
}

// writeJSON writes the report to path (made with its folder).
func writeJSON(path string, rep Report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
