package analysis

import (
	"fmt"
	"sort"
	"strings"
)

// Hint is one short remark on a plan, tied to the node it is about. Hints are given only
// where the plan says something clearly; they are starting points, not verdicts.
type Hint struct {
	NodeID int
	// Kind names the pattern: "seq-scan-filter", "spill", "misestimate", "nested-loop",
	// "heap-fetches".
	Kind string
	Text string
}

// Thresholds of the hints.
const (
	// hintLargeScan is how many rows a scan must read for "most rows removed" to matter.
	hintLargeScan = 10_000
	// hintRemovedShare is the share of the rows read that the filter removed.
	hintRemovedShare = 0.9
	// hintMisestimate is the factor between estimated and actual rows worth a word.
	hintMisestimate = 10
	// hintMisestimateRows keeps "1 row expected, 12 came" (harmless) out of the hints.
	hintMisestimateRows = 100
	// hintInnerLoops is how many times a nested loop's inner side must run to be named.
	hintInnerLoops = 1_000
	// hintHeapFetchShare is the share of an index-only scan's rows fetched from the table.
	hintHeapFetchShare = 0.1
	// hintMisestimateMS is how long a statement must run for its misestimates to be worth a
	// word: under it, whatever plan the estimates chose was quick enough.
	hintMisestimateMS = 1.0
	// hintMaxMisestimates bounds how many misestimates are named (the lowest first: a
	// misestimate low in the tree causes the ones above it).
	hintMaxMisestimates = 3
)

func hintsFor(p *Plan) []Hint {
	if !p.Analyzed {
		return nil
	}
	var hints []Hint
	add := func(n *Node, kind, format string, args ...any) {
		hints = append(hints, Hint{NodeID: n.ID, Kind: kind, Text: fmt.Sprintf(format, args...)})
	}
	var misestimates []*Node
	for _, n := range p.Nodes {
		if n.NeverExecuted {
			continue
		}
		kept, removed := n.TotalRows(), n.RowsRemovedByFilter*n.Loops
		if n.Type == "Seq Scan" && kept+removed >= hintLargeScan && removed >= hintRemovedShare*(kept+removed) {
			add(n, "seq-scan-filter", "Seq Scan on %s read %s rows and its filter removed %s of them (%s) to keep %s: an index on the filtered columns (%s) could find those rows directly.",
				n.Relation, count(kept+removed), count(removed), percent(removed/(kept+removed)), count(kept), shorten(n.Filter, 120))
		}
		if spilled := n.SortSpaceType == "Disk" || strings.HasPrefix(n.SortMethod, "external"); spilled {
			add(n, "spill", "Sort spilled to disk (%s, %s kB): the rows to sort do not fit in work_mem; an index in this order, or fewer rows or columns to sort, avoids it.",
				n.SortMethod, count(float64(n.SortSpaceKB)))
		} else {
			for _, w := range n.Workers {
				if w.SortSpaceType == "Disk" || strings.HasPrefix(w.SortMethod, "external") {
					add(n, "spill", "Sort spilled to disk in worker %d (%s, %s kB): the rows to sort do not fit in work_mem.",
						w.Number, w.SortMethod, count(float64(w.SortSpaceKB)))
					break
				}
			}
		}
		if n.Type == "Hash" && n.HashBatches > 1 {
			add(n, "spill", "Hash spilled to disk in %d batches (%s kB of memory at its peak): the hashed side does not fit in work_mem; hashing the smaller side, or fewer columns, avoids it.",
				n.HashBatches, count(float64(n.PeakMemoryKB)))
		}
		if n.Type == "Aggregate" && (n.HashAggBatches > 1 || n.DiskUsageKB > 0) {
			add(n, "spill", "HashAggregate spilled to disk (%d batches, %s kB on disk): the groups do not fit in work_mem (hash_mem_multiplier).",
				max(n.HashAggBatches, 1), count(float64(n.DiskUsageKB)))
		}
		if n.Misestimate >= hintMisestimate && max(n.ActualRows, n.PlanRows) >= hintMisestimateRows && n.Loops > 0 &&
			p.ExecutionMS >= hintMisestimateMS {
			misestimates = append(misestimates, n)
		}
		if n.Type == "Nested Loop" && len(n.Children) >= 2 {
			inner := n.Children[1]
			for _, c := range n.Children {
				if c.Relationship == "Inner" {
					inner = c
				}
			}
			if inner.Loops >= hintInnerLoops {
				add(n, "nested-loop", "Nested Loop ran its inner side (%s %s) %s times, %s in all: a hash or merge join, or an index that finds the inner rows at once, may do better.",
					inner.Label(), inner.Subject(), count(inner.Loops), ms(inner.InclusiveMS))
			}
		}
		if n.Type == "Index Only Scan" && n.HeapFetches > 0 && n.HeapFetches >= hintHeapFetchShare*max(kept, 1) {
			add(n, "heap-fetches", "Index Only Scan on %s fetched %s rows from the table itself (for %s returned): the visibility map is behind; VACUUM %s makes the scan index-only again.",
				n.Relation, count(n.HeapFetches), count(kept), n.Relation)
		}
	}
	// Deepest first: the lowest misestimate is the one the others inherit.
	sort.SliceStable(misestimates, func(i, j int) bool { return misestimates[i].Depth > misestimates[j].Depth })
	for i, n := range misestimates {
		if i == hintMaxMisestimates {
			break
		}
		dir := "more"
		if !n.Underestimated {
			dir = "fewer"
		}
		what := "the planner's statistics may be stale (ANALYZE), or the filter's columns are correlated (CREATE STATISTICS)"
		if n.Relation != "" {
			what = fmt.Sprintf("the statistics of %s may be stale (ANALYZE %s), or the filter's columns are correlated (CREATE STATISTICS)", n.Relation, n.Relation)
		}
		add(n, "misestimate", "%s %s expected %s rows per loop and got %s, %s× %s: %s.",
			n.Label(), n.Subject(), count(n.PlanRows), count(n.ActualRows), factor(n.Misestimate), dir, what)
	}
	sort.SliceStable(hints, func(i, j int) bool { return hints[i].NodeID < hints[j].NodeID })
	return hints
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// count writes a row or page count with thousands separators.
func count(f float64) string {
	n := int64(f + 0.5)
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

// factor writes a misestimate or speed-up factor: 3.4, 12, 1,200.
func factor(f float64) string {
	if f < 10 {
		return fmt.Sprintf("%.1f", f)
	}
	return count(f)
}

// ms writes a duration in milliseconds with sensible precision.
func ms(f float64) string {
	switch {
	case f >= 100:
		return count(f) + " ms"
	case f >= 1:
		return fmt.Sprintf("%.1f ms", f)
	}
	return fmt.Sprintf("%.3f ms", f)
}
