package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Modes of a comparison.
const (
	// ModeHypothetical asks the planner, through HypoPG, what it would do with the candidate:
	// estimated cost and plan shape, nothing built.
	ModeHypothetical = "hypothetical"
	// ModeReal builds the candidate CONCURRENTLY, measures both sides, and drops it.
	ModeReal = "real"
)

// Statuses of a comparison. Abandoned is not stored: it is a running comparison whose process
// stopped beating.
const (
	StatusRunning   = "running"
	StatusDone      = "done"
	StatusFailed    = "failed"
	StatusAbandoned = "abandoned"
)

// DefaultRuns is how many times the real mode runs each side.
const DefaultRuns = 20

// MaxRuns bounds the runs per side.
const MaxRuns = 200

// Run is one measured execution of one side.
type Run struct {
	// Seq is the run's place in the whole sequence (both sides), from 1.
	Seq int     `json:"seq"`
	MS  float64 `json:"ms"`
	Hit int64   `json:"hit"`
	// Read is the shared pages read from outside PostgreSQL's buffers.
	Read int64 `json:"read"`
}

// Outcome is what a comparison found, saved with it as JSON.
type Outcome struct {
	RunsA []Run `json:"runs_a,omitempty"`
	RunsB []Run `json:"runs_b,omitempty"`
	// Interleaved says the runs of A and B were shuffled together (HypoPG hid the index from
	// A's runs); otherwise A ran before the build and after the drop, B in between.
	Interleaved bool    `json:"interleaved"`
	IndexName   string  `json:"index_name,omitempty"`
	IndexBytes  int64   `json:"index_bytes,omitempty"`
	BuildMS     float64 `json:"build_ms,omitempty"`
	IndexUsed   bool    `json:"index_used"`
	Dropped     bool    `json:"dropped"`
	// Prediction is HypoPG's, when it ran (always in the hypothetical mode; in the real mode
	// when HypoPG is present, for prediction against measurement).
	Prediction *Prediction `json:"prediction,omitempty"`
	Verdict    string      `json:"verdict"`
	Notes      []string    `json:"notes,omitempty"`
}

// Stats summarise one side's runs.
type Stats struct {
	N                            int
	Min, P25, P50, P75, P95, P99 float64
	Max, Mean                    float64
	HitPerRun, ReadPerRun        float64
}

// Summarize works out the percentiles of runs (linear between the nearest ranks).
func Summarize(runs []Run) Stats {
	if len(runs) == 0 {
		return Stats{}
	}
	ms := make([]float64, len(runs))
	var sum, hit, read float64
	for i, r := range runs {
		ms[i] = r.MS
		sum += r.MS
		hit += float64(r.Hit)
		read += float64(r.Read)
	}
	slices.Sort(ms)
	n := float64(len(ms))
	return Stats{N: len(ms), Min: ms[0], P25: percentile(ms, .25), P50: percentile(ms, .5), P75: percentile(ms, .75),
		P95: percentile(ms, .95), P99: percentile(ms, .99), Max: ms[len(ms)-1], Mean: sum / n, HitPerRun: hit / n, ReadPerRun: read / n}
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := p * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (sorted[lo+1]-sorted[lo])*(pos-float64(lo))
}

// Pair is one line of two plans aligned node to node: A's node, B's, or both.
type Pair struct {
	A, B *Node
	// Changed says the node does something else in B: another scan, index or join method.
	Changed bool
}

// Align lines up the nodes of a and b one to one where they do the same job — the same
// table's scan (whatever the method), the same kind of join, sort or aggregate — keeping both
// plans' order (a global alignment of their pre-order sequences, Needleman–Wunsch style, with
// gaps where a node exists on one side only).
func Align(a, b *Plan) []Pair {
	if a == nil || b == nil {
		return nil
	}
	na, nb := a.Nodes, b.Nodes
	score := make([][]int, len(na)+1)
	for i := range score {
		score[i] = make([]int, len(nb)+1)
	}
	for i := len(na) - 1; i >= 0; i-- {
		for j := len(nb) - 1; j >= 0; j-- {
			best := max(score[i+1][j], score[i][j+1])
			if s := similarity(na[i], nb[j]); s > 0 {
				best = max(best, score[i+1][j+1]+s)
			}
			score[i][j] = best
		}
	}
	var out []Pair
	i, j := 0, 0
	for i < len(na) && j < len(nb) {
		s := similarity(na[i], nb[j])
		switch {
		case s > 0 && score[i][j] == score[i+1][j+1]+s:
			out = append(out, Pair{A: na[i], B: nb[j], Changed: na[i].Label() != nb[j].Label() || na[i].Subject() != nb[j].Subject()})
			i, j = i+1, j+1
		case score[i][j] == score[i+1][j]:
			out = append(out, Pair{A: na[i]})
			i++
		default:
			out = append(out, Pair{B: nb[j]})
			j++
		}
	}
	for ; i < len(na); i++ {
		out = append(out, Pair{A: na[i]})
	}
	for ; j < len(nb); j++ {
		out = append(out, Pair{B: nb[j]})
	}
	return out
}

// similarity scores how well x and y match: 0 is not at all.
func similarity(x, y *Node) int {
	switch {
	case x.Relation != "" || y.Relation != "":
		if x.Relation != y.Relation || x.Alias != y.Alias {
			return 0
		}
		if x.Type == y.Type && x.Index == y.Index {
			return 4
		}
		return 3
	case x.Type == y.Type:
		if x.JoinType == y.JoinType && x.CTEName == y.CTEName {
			return 3
		}
		return 2
	case isJoin(x) && isJoin(y), isAggregate(x) && isAggregate(y), x.Type == "Gather" && y.Type == "Gather Merge",
		x.Type == "Gather Merge" && y.Type == "Gather":
		return 1
	}
	return 0
}

func isJoin(n *Node) bool {
	return n.Type == "Nested Loop" || n.Type == "Hash Join" || n.Type == "Merge Join"
}

func isAggregate(n *Node) bool {
	return n.Type == "Aggregate" || n.Type == "Group" || n.Type == "WindowAgg"
}

// SameShape says whether two plans have the same nodes doing the same things. A candidate
// index (HypoPG's, or one built for a comparison) stands for any index of its table, so that
// the plan a candidate gave then and the plan today's real index gives compare equal.
func SameShape(a, b *Plan) bool {
	if a == nil || b == nil || len(a.Nodes) != len(b.Nodes) {
		return false
	}
	for i := range a.Nodes {
		x, y := a.Nodes[i], b.Nodes[i]
		if x.Label() != y.Label() || x.Relation != y.Relation || x.Depth != y.Depth ||
			x.Index != y.Index && !isCandidate(x.Index) && !isCandidate(y.Index) {
			return false
		}
	}
	return true
}

// isHypothetical says whether an index name is HypoPG's: "<13529>btree_reservations_seats".
func isHypothetical(name string) bool { return len(name) > 0 && name[0] == '<' }

// isCandidate says whether an index is a comparison's candidate, hypothetical or built.
func isCandidate(name string) bool {
	return isHypothetical(name) || strings.HasPrefix(name, candidatePrefix)
}

// verdictReal is the one line a measured comparison ends with.
func verdictReal(o Outcome) string {
	a, b := Summarize(o.RunsA), Summarize(o.RunsB)
	if a.N == 0 || b.N == 0 {
		return "Nothing was measured."
	}
	size := ""
	if o.IndexBytes > 0 {
		size = fmt.Sprintf(" The index took %s and %s to build.", Bytes(o.IndexBytes), Duration(o.BuildMS))
	}
	if !o.IndexUsed {
		return fmt.Sprintf("The planner did not use the candidate index: medians %s and %s are the same plan measured twice.%s",
			ms(a.P50), ms(b.P50), size)
	}
	ratio := a.P50 / math.Max(b.P50, 1e-6)
	switch {
	case ratio >= 1.1 && b.P75 < a.P25:
		return fmt.Sprintf("With the candidate index the median run is %s× faster (%s → %s; p95 %s → %s).%s",
			factor(ratio), ms(a.P50), ms(b.P50), ms(a.P95), ms(b.P95), size)
	case ratio <= 1/1.1 && b.P25 > a.P75:
		return fmt.Sprintf("With the candidate index the median run is %s× slower (%s → %s; p95 %s → %s).%s",
			factor(1/ratio), ms(a.P50), ms(b.P50), ms(a.P95), ms(b.P95), size)
	}
	return fmt.Sprintf("The planner uses the candidate index, but the runs do not differ clearly (median %s → %s; the middle halves overlap).%s",
		ms(a.P50), ms(b.P50), size)
}

// verdictHypothetical is the one line a hypothetical comparison ends with.
func verdictHypothetical(p Prediction) string {
	if !p.IndexUsed {
		return fmt.Sprintf("The planner would not use the candidate index: the estimated cost stays %s.", cost(p.CostA))
	}
	return fmt.Sprintf("The planner would use the candidate index (about %s): estimated cost %s → %s, %s× lower. Measure it for real to see the time.",
		Bytes(p.IndexBytes), cost(p.CostA), cost(p.CostB), factor(p.CostA/math.Max(p.CostB, 0.01)))
}

func cost(c float64) string { return count(c) }

// Bytes writes a size: 8 kB, 2.4 MB.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d kB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Duration writes milliseconds as people read them: 340 ms, 2.4 s, 3 min 5 s.
func Duration(msec float64) string {
	d := time.Duration(msec * float64(time.Millisecond))
	switch {
	case d >= time.Minute:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	case d >= time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return ms(msec)
}

// MS writes milliseconds for the page (as the hints do).
func MS(f float64) string { return ms(f) }

// Count writes a count with thousands separators.
func Count(f float64) string { return count(f) }

// Factor writes a factor: 3.4, 12, 1,200.
func Factor(f float64) string { return factor(f) }
