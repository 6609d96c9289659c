package views

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"tally/analysis"
)

// The query-analysis pages' small helpers: numbers as the plan view writes them, the node
// rows' classes, and the geometry of the run-time plot.

// maxDepth is the deepest indentation the plan tree draws (analysis.css has a class for each).
const maxDepth = 24

func depthClass(n *analysis.Node) string { return "depth-" + strconv.Itoa(min(n.Depth, maxDepth)) }

// heat marks a node by its share of the time (or cost): hot from 30 %, warm from 10 %.
func heat(n *analysis.Node) string {
	switch {
	case n.Share >= 0.3:
		return "hot"
	case n.Share >= 0.1:
		return "warm"
	}
	return ""
}

func pct(f float64) string {
	if f <= 0 {
		return ""
	}
	if f < 0.001 {
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", f*100)
}

// shareWidth is the length of a node's share bar, out of 60.
func shareWidth(f float64) string { return strconv.Itoa(int(math.Round(math.Min(f, 1) * 60))) }

func msText(f float64) string { return analysis.MS(f) }

func countText(f float64) string { return analysis.Count(f) }

func int64Text(n int64) string { return analysis.Count(float64(n)) }

// rowsText is a node's actual rows over all loops against the estimate over them.
func rowsText(n *analysis.Node) string {
	if n.Loops == 0 && !n.NeverExecuted {
		return countText(n.PlanRows) + " est."
	}
	return countText(n.TotalRows()) + " / " + countText(n.PlanRows*math.Max(n.Loops, 1))
}

// misestimateText is "12× under" or "3.4× over"; empty within a factor of two.
func misestimateText(n *analysis.Node) string {
	if n.StoppedEarly {
		return "cut by LIMIT"
	}
	if n.Misestimate < 2 {
		return ""
	}
	dir := "over"
	if n.Underestimated {
		dir = "under"
	}
	return analysis.Factor(n.Misestimate) + "× " + dir
}

func misestimateClass(n *analysis.Node) string {
	if n.Misestimate >= 10 {
		return "misestimate bad"
	}
	return "misestimate"
}

// buffersText is a node's own pages: hit and read.
func buffersText(b analysis.Buffers) string {
	if b.Total() == 0 && b.TempRead == 0 && b.TempWritten == 0 {
		return ""
	}
	s := int64Text(b.SharedHit+b.LocalHit) + " hit"
	if r := b.SharedRead + b.LocalRead; r > 0 {
		s += " · " + int64Text(r) + " read"
	}
	if t := b.TempRead + b.TempWritten; t > 0 {
		s += " · " + int64Text(t) + " temp"
	}
	return s
}

func nodeTitle(n *analysis.Node) string {
	if s := n.Subject(); s != "" {
		return n.Label() + " " + s
	}
	return n.Label()
}

func nodeAnchor(prefix string, n *analysis.Node) string { return prefix + "node-" + strconv.Itoa(n.ID) }

// Plot is the geometry of the run-time plot: both sides' runs as dots on one time axis, each
// with its box (middle half) and median.
type Plot struct {
	Width, Height int
	Lanes         []PlotLane
	Ticks         []PlotTick
	// Log says the axis is logarithmic (the sides differ by more than 20×).
	Log bool
}

// PlotLane is one side of the plot.
type PlotLane struct {
	Name, Class         string
	Y                   int
	Dots                []PlotDot
	BoxX, BoxW          int
	MedianX, P95X       int
	Median, P95, Sample string
}

// PlotDot is one run.
type PlotDot struct {
	X, Y  int
	Title string
}

// PlotTick is one label of the axis.
type PlotTick struct {
	X     int
	Label string
}

const plotLeft, plotRight = 60, 20

// NewPlot lays out the runs of both sides on one axis, from zero (or, when they differ by more
// than 20×, on a log scale so that both are seen).
func NewPlot(a, b []analysis.Run) Plot {
	p := Plot{Width: 760, Height: 150}
	var lo, hi float64 = math.Inf(1), 0
	for _, r := range append(append([]analysis.Run(nil), a...), b...) {
		lo, hi = math.Min(lo, r.MS), math.Max(hi, r.MS)
	}
	if hi <= 0 {
		return p
	}
	lo = math.Max(lo, 0.001)
	p.Log = hi/lo > 20
	span := float64(p.Width - plotLeft - plotRight)
	x := func(v float64) int {
		if p.Log {
			l0, l1 := math.Log10(lo)-0.1, math.Log10(hi)+0.1
			return plotLeft + int(span*(math.Log10(math.Max(v, lo))-l0)/(l1-l0))
		}
		return plotLeft + int(span*v/(hi*1.05))
	}
	if p.Log {
		for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
			for _, m := range []float64{1, 2, 5} {
				if v := m * math.Pow(10, e); v >= lo/1.3 && v <= hi*1.3 {
					p.Ticks = append(p.Ticks, PlotTick{X: x(v), Label: analysis.MS(v)})
				}
			}
		}
	} else {
		step := niceStep(hi * 1.05 / 5)
		for v := 0.0; v <= hi*1.05; v += step {
			p.Ticks = append(p.Ticks, PlotTick{X: x(v), Label: analysis.MS(v)})
		}
	}
	// Labels closer than 44 px would overlap: keep the first of each crowd.
	var spaced []PlotTick
	for _, t := range p.Ticks {
		if len(spaced) == 0 || t.X-spaced[len(spaced)-1].X >= 44 {
			spaced = append(spaced, t)
		}
	}
	p.Ticks = spaced
	for i, side := range []struct {
		name, class string
		runs        []analysis.Run
	}{{"A", "side-a", a}, {"B", "side-b", b}} {
		s := analysis.Summarize(side.runs)
		lane := PlotLane{Name: side.name, Class: side.class, Y: 40 + i*60}
		if s.N > 0 {
			lane.BoxX, lane.BoxW = x(s.P25), max(x(s.P75)-x(s.P25), 1)
			lane.MedianX, lane.P95X = x(s.P50), x(s.P95)
			lane.Median, lane.P95 = analysis.MS(s.P50), analysis.MS(s.P95)
			lane.Sample = fmt.Sprintf("%d runs", s.N)
		}
		for j, r := range side.runs {
			// A little vertical spread, by the run's order, so that equal times stay visible.
			lane.Dots = append(lane.Dots, PlotDot{X: x(r.MS), Y: lane.Y - 12 + (j*7)%25,
				Title: fmt.Sprintf("%s run %d (#%d of both): %s, %s pages", side.name, j+1, r.Seq, analysis.MS(r.MS), analysis.Count(float64(r.Hit+r.Read)))})
		}
		p.Lanes = append(p.Lanes, lane)
	}
	return p
}

// niceStep rounds a tick step to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*pow {
			return m * pow
		}
	}
	return 10 * pow
}

// settingsList is the plan's non-default settings, sorted by name.
func settingsList(p *analysis.Plan) []analysis.KV {
	out := make([]analysis.KV, 0, len(p.Settings))
	for k, v := range p.Settings {
		out = append(out, analysis.KV{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func itoaInt(n int) string { return strconv.Itoa(n) }

// ratioText compares B with A: "4.2× faster", "1.3× slower", "same".
func ratioText(a, b float64) string {
	if a <= 0 || b <= 0 {
		return ""
	}
	switch r := a / b; {
	case r >= 1.05:
		return analysis.Factor(r) + "× faster"
	case r <= 1/1.05:
		return analysis.Factor(1/r) + "× slower"
	}
	return "about the same"
}

// costRatioText compares estimated costs: "31× lower".
func costRatioText(a, b float64) string {
	if a <= 0 || b <= 0 {
		return ""
	}
	switch r := a / b; {
	case r >= 1.05:
		return analysis.Factor(r) + "× lower"
	case r <= 1/1.05:
		return analysis.Factor(1/r) + "× higher"
	}
	return "about the same"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// laneFill is a side's colour in the run plot: A grey-blue, B orange.
func laneFill(class string) string {
	if class == "side-b" {
		return "#d4552b"
	}
	return "#2557d6"
}

func nodeName(n *analysis.Node) string {
	if n == nil {
		return "—"
	}
	return nodeTitle(n)
}

func nodeDepth(n *analysis.Node) string {
	if n == nil {
		return ""
	}
	return "node-name " + depthClass(n)
}

// changeText says what a pair of aligned nodes shows: the node as it became, one that
// appeared or went, or nothing.
func changeText(p analysis.Pair) string {
	switch {
	case p.A == nil:
		return "new in B"
	case p.B == nil:
		return "gone in B"
	case p.Changed:
		return p.A.Label() + " → " + p.B.Label()
	}
	return ""
}

func pairMS(p analysis.Pair) string {
	return pairOf(p, func(n *analysis.Node) string { return msText(n.ExclusiveMS) })
}

func pairCost(p analysis.Pair) string {
	return pairOf(p, func(n *analysis.Node) string { return countText(n.ExclusiveCost) })
}

func pairRows(p analysis.Pair) string {
	return pairOf(p, func(n *analysis.Node) string { return countText(n.TotalRows()) })
}

func pairPages(p analysis.Pair) string {
	return pairOf(p, func(n *analysis.Node) string { return int64Text(n.ExclusiveBuffer.Total()) })
}

func pairOf(p analysis.Pair, f func(*analysis.Node) string) string {
	a, b := "—", "—"
	if p.A != nil {
		a = f(p.A)
	}
	if p.B != nil {
		b = f(p.B)
	}
	return a + " → " + b
}

// planLine sums a plan up in a line: its scans, and its time or cost.
func planLine(p *analysis.Plan) string {
	if p == nil {
		return "—"
	}
	var scans []string
	for _, n := range p.Nodes {
		if n.Relation != "" {
			scans = append(scans, nodeTitle(n))
		}
	}
	what := "cost " + countText(p.Root.TotalCost)
	if p.Analyzed {
		what = msText(p.ExecutionMS)
	}
	return strings.Join(scans, "; ") + " (" + what + ")"
}
