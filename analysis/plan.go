package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Plan is one EXPLAIN (FORMAT JSON) output, parsed, with the figures the plan view shows
// worked out: wall-clock inclusive and exclusive time per node, shares, misestimates, hints.
type Plan struct {
	Root *Node
	// Nodes are the plan's nodes in pre-order (a parent before its children), Root first.
	Nodes []*Node
	// Analyzed is true when the statement ran (EXPLAIN ANALYZE): actual rows and loops exist.
	Analyzed bool
	// Timed is true when per-node actual times exist (ANALYZE with TIMING on).
	Timed           bool
	PlanningMS      float64
	ExecutionMS     float64
	PlanningBuffers Buffers
	// Settings are the planner settings that differ from their defaults (EXPLAIN SETTINGS).
	Settings map[string]string
	// JITMS is the time JIT compilation took, when it ran.
	JITMS float64
	// TriggerMS is the time spent in triggers (none for a read-only statement).
	TriggerMS float64
	Hints     []Hint
	// Raw is the JSON as PostgreSQL wrote it.
	Raw []byte
}

// Buffers counts 8 kB pages a node touched: hit in shared buffers, read from the operating
// system (or disk), dirtied, written; local ones for temporary tables; temp ones spilled.
type Buffers struct {
	SharedHit, SharedRead, SharedDirtied, SharedWritten int64
	LocalHit, LocalRead, LocalDirtied, LocalWritten     int64
	TempRead, TempWritten                               int64
}

// Total is every page the node touched, shared and local, hit or read.
func (b Buffers) Total() int64 { return b.SharedHit + b.SharedRead + b.LocalHit + b.LocalRead }

func (b Buffers) minus(o Buffers) Buffers {
	sub := func(x, y int64) int64 { return max(x-y, 0) }
	return Buffers{
		SharedHit: sub(b.SharedHit, o.SharedHit), SharedRead: sub(b.SharedRead, o.SharedRead),
		SharedDirtied: sub(b.SharedDirtied, o.SharedDirtied), SharedWritten: sub(b.SharedWritten, o.SharedWritten),
		LocalHit: sub(b.LocalHit, o.LocalHit), LocalRead: sub(b.LocalRead, o.LocalRead),
		LocalDirtied: sub(b.LocalDirtied, o.LocalDirtied), LocalWritten: sub(b.LocalWritten, o.LocalWritten),
		TempRead: sub(b.TempRead, o.TempRead), TempWritten: sub(b.TempWritten, o.TempWritten),
	}
}

// Node is one plan node. The fields from PostgreSQL are as it reports them (actual time and
// rows per loop); the derived ones (Inclusive, Exclusive, Share, …) are wall-clock figures for
// the whole statement.
type Node struct {
	// ID is the node's place in pre-order, from 0 at the root.
	ID       int
	Depth    int
	Parent   *Node
	Children []*Node

	Type string // "Seq Scan", "Hash Join", …
	// Relationship is how the node feeds its parent: Outer, Inner, Subquery, InitPlan, SubPlan, Member.
	Relationship string
	// SubplanName names an InitPlan, SubPlan or CTE: "CTE recent", "InitPlan 1 (returns $0)".
	SubplanName   string
	Relation      string
	Schema        string
	Alias         string
	Index         string
	JoinType      string
	Strategy      string // of an aggregate: Plain, Sorted, Hashed, Mixed
	PartialMode   string // Partial, Finalize
	ScanDirection string
	CTEName       string
	FunctionName  string
	Command       string // of a SetOp
	ParallelAware bool

	StartupCost, TotalCost float64
	PlanRows               float64
	PlanWidth              int64

	// Actual figures, per loop, as EXPLAIN ANALYZE reports them.
	ActualStartupMS, ActualTotalMS float64
	ActualRows                     float64
	Loops                          float64
	// NeverExecuted: the statement ran but this node did not (loops=0).
	NeverExecuted bool

	WorkersPlanned, WorkersLaunched int64
	Workers                         []Worker

	Filter, IndexCond, RecheckCond, JoinFilter, HashCond, MergeCond, OneTimeFilter string
	// Rows removed, per loop as reported.
	RowsRemovedByFilter, RowsRemovedByJoinFilter, RowsRemovedByIndexRecheck float64

	SortKey                      []string
	PresortedKey                 []string
	SortMethod, SortSpaceType    string
	SortSpaceKB                  int64
	GroupKey                     []string
	HashBuckets, HashBatches     int64
	OriginalHashBatches          int64
	PeakMemoryKB                 int64
	DiskUsageKB                  int64 // hash aggregate spill
	HashAggBatches               int64
	HeapFetches                  float64
	ExactHeapBlocks, LossyBlocks int64
	CacheHits, CacheMisses       int64 // Memoize
	Output                       []string

	// Buffers are the node's and its children's, as PostgreSQL reports them.
	Buffers         Buffers
	IOReadMS        float64
	IOWriteMS       float64
	ExclusiveBuffer Buffers

	// Other holds the keys this model does not name, so that nothing PostgreSQL said is lost.
	Other []KV

	// Processes is how many processes shared the node's work: the workers launched by the
	// Gather above it plus the leader, or 1.
	Processes float64
	// InclusiveMS is the node's wall-clock time with its children: time per loop × loops,
	// divided among the processes that ran it in parallel.
	InclusiveMS float64
	// ExclusiveMS is InclusiveMS without the children's time: the node's own work. CTEs and
	// InitPlans count where they run (the CTE Scan reading a CTE, the node using an InitPlan's
	// value), not under the node they hang from.
	ExclusiveMS float64
	// Share is ExclusiveMS over the statement's execution time (or, without timing, the share
	// of the estimated cost).
	Share float64
	// ExclusiveCost is the node's estimated cost without its children's.
	ExclusiveCost float64
	// Misestimate is how far the estimated rows (per loop) are from the actual ones, as a
	// factor ≥ 1; Underestimated says the planner expected fewer rows than came.
	Misestimate    float64
	Underestimated bool
	// StoppedEarly says the node gave fewer rows than estimated because a LIMIT above it had
	// enough: its estimate is not compared.
	StoppedEarly bool
}

// Worker is one parallel worker's share of a node's work.
type Worker struct {
	Number                         int64
	ActualStartupMS, ActualTotalMS float64
	ActualRows, Loops              float64
	SortMethod, SortSpaceType      string
	SortSpaceKB                    int64
	Buffers                        Buffers
}

// KV is a key of a plan node and its value, as text.
type KV struct{ Key, Value string }

// TotalRows is the rows the node produced over all its loops.
func (n *Node) TotalRows() float64 { return n.ActualRows * n.Loops }

// RowsRemoved is the rows its filters and rechecks removed, over all loops.
func (n *Node) RowsRemoved() float64 {
	return (n.RowsRemovedByFilter + n.RowsRemovedByJoinFilter + n.RowsRemovedByIndexRecheck) * n.Loops
}

// Label is the node as EXPLAIN's text form names it: "Parallel Seq Scan", "Hash Left Join",
// "Index Scan Backward", "Partial HashAggregate".
func (n *Node) Label() string {
	t := n.Type
	switch t {
	case "Aggregate":
		switch n.Strategy {
		case "Hashed":
			t = "HashAggregate"
		case "Sorted":
			t = "GroupAggregate"
		case "Mixed":
			t = "MixedAggregate"
		}
	case "SetOp":
		if n.Strategy == "Hashed" {
			t = "HashSetOp"
		}
	}
	if n.PartialMode != "" && n.PartialMode != "Simple" {
		t = n.PartialMode + " " + t
	}
	if n.JoinType != "" && n.JoinType != "Inner" {
		switch t {
		case "Nested Loop":
			t += " " + n.JoinType + " Join"
		case "Hash Join", "Merge Join":
			t = strings.TrimSuffix(t, " Join") + " " + n.JoinType + " Join"
		}
	}
	if n.ScanDirection == "Backward" {
		t += " Backward"
	}
	if n.ParallelAware {
		t = "Parallel " + t
	}
	return t
}

// Subject is what the node works on: "reservations r using reservations_pkey", a CTE or a
// function; empty for joins, sorts and the like.
func (n *Node) Subject() string {
	var b strings.Builder
	if n.Index != "" {
		b.WriteString("using " + n.Index)
	}
	on := n.Relation
	if on == "" && n.CTEName != "" {
		on = "CTE " + n.CTEName
	}
	if on == "" && n.FunctionName != "" {
		on = n.FunctionName + "()"
	}
	if on != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString("on " + on)
		if n.Alias != "" && n.Alias != n.Relation && n.Alias != n.CTEName && n.Alias != n.FunctionName {
			b.WriteString(" " + n.Alias)
		}
	}
	return b.String()
}

// IsScan says whether the node reads a table (or an index of one).
func (n *Node) IsScan() bool { return strings.HasSuffix(n.Type, "Scan") && n.Relation != "" }

// ParsePlan reads EXPLAIN (FORMAT JSON) output and works out the derived figures.
func ParsePlan(raw []byte) (*Plan, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var top []map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	if len(top) != 1 {
		return nil, fmt.Errorf("reading the plan: %d plans, want 1", len(top))
	}
	doc := top[0]
	rootMap, ok := doc["Plan"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("reading the plan: no Plan")
	}
	p := &Plan{Raw: slices.Clone(raw)}
	_, p.Analyzed = doc["Execution Time"]
	p.PlanningMS = num(doc["Planning Time"])
	p.ExecutionMS = num(doc["Execution Time"])
	if pl, ok := doc["Planning"].(map[string]any); ok {
		p.PlanningBuffers = readBuffers(pl)
	}
	if st, ok := doc["Settings"].(map[string]any); ok {
		p.Settings = map[string]string{}
		for k, v := range st {
			p.Settings[k] = str(v)
		}
	}
	if jit, ok := doc["JIT"].(map[string]any); ok {
		if tm, ok := jit["Timing"].(map[string]any); ok {
			p.JITMS = num(tm["Total"])
		}
	}
	if trs, ok := doc["Triggers"].([]any); ok {
		for _, t := range trs {
			if tm, ok := t.(map[string]any); ok {
				p.TriggerMS += num(tm["Time"])
			}
		}
	}
	p.Root = p.readNode(rootMap, nil, 0)
	p.derive()
	p.Hints = hintsFor(p)
	return p, nil
}

// Keys the model names; everything else goes to Node.Other.
var knownKeys = map[string]bool{
	"Node Type": true, "Parent Relationship": true, "Subplan Name": true, "Relation Name": true, "Schema": true,
	"Alias": true, "Index Name": true, "Join Type": true, "Strategy": true, "Partial Mode": true, "Scan Direction": true,
	"CTE Name": true, "Function Name": true, "Command": true, "Parallel Aware": true, "Startup Cost": true,
	"Total Cost": true, "Plan Rows": true, "Plan Width": true, "Actual Startup Time": true, "Actual Total Time": true,
	"Actual Rows": true, "Actual Loops": true, "Workers Planned": true, "Workers Launched": true, "Workers": true,
	"Filter": true, "Index Cond": true, "Recheck Cond": true, "Join Filter": true, "Hash Cond": true, "Merge Cond": true,
	"One-Time Filter": true, "Rows Removed by Filter": true, "Rows Removed by Join Filter": true,
	"Rows Removed by Index Recheck": true, "Sort Key": true, "Presorted Key": true, "Sort Method": true,
	"Sort Space Used": true, "Sort Space Type": true, "Group Key": true, "Hash Buckets": true, "Hash Batches": true,
	"Original Hash Batches": true, "Peak Memory Usage": true, "Disk Usage": true, "HashAgg Batches": true,
	"Heap Fetches": true, "Exact Heap Blocks": true, "Lossy Heap Blocks": true, "Cache Hits": true,
	"Cache Misses": true, "Output": true, "Plans": true, "I/O Read Time": true, "I/O Write Time": true,
	"Shared Hit Blocks": true, "Shared Read Blocks": true, "Shared Dirtied Blocks": true, "Shared Written Blocks": true,
	"Local Hit Blocks": true, "Local Read Blocks": true, "Local Dirtied Blocks": true, "Local Written Blocks": true,
	"Temp Read Blocks": true, "Temp Written Blocks": true,
}

func (p *Plan) readNode(m map[string]any, parent *Node, depth int) *Node {
	n := &Node{
		ID: len(p.Nodes), Depth: depth, Parent: parent,
		Type: str(m["Node Type"]), Relationship: str(m["Parent Relationship"]), SubplanName: str(m["Subplan Name"]),
		Relation: str(m["Relation Name"]), Schema: str(m["Schema"]), Alias: str(m["Alias"]), Index: str(m["Index Name"]),
		JoinType: str(m["Join Type"]), Strategy: str(m["Strategy"]), PartialMode: str(m["Partial Mode"]),
		ScanDirection: str(m["Scan Direction"]), CTEName: str(m["CTE Name"]), FunctionName: str(m["Function Name"]),
		Command: str(m["Command"]), ParallelAware: m["Parallel Aware"] == true,
		StartupCost: num(m["Startup Cost"]), TotalCost: num(m["Total Cost"]), PlanRows: num(m["Plan Rows"]),
		PlanWidth:       int64(num(m["Plan Width"])),
		ActualStartupMS: num(m["Actual Startup Time"]), ActualTotalMS: num(m["Actual Total Time"]),
		ActualRows: num(m["Actual Rows"]), Loops: num(m["Actual Loops"]),
		WorkersPlanned: int64(num(m["Workers Planned"])), WorkersLaunched: int64(num(m["Workers Launched"])),
		Filter: str(m["Filter"]), IndexCond: str(m["Index Cond"]), RecheckCond: str(m["Recheck Cond"]),
		JoinFilter: str(m["Join Filter"]), HashCond: str(m["Hash Cond"]), MergeCond: str(m["Merge Cond"]),
		OneTimeFilter:       str(m["One-Time Filter"]),
		RowsRemovedByFilter: num(m["Rows Removed by Filter"]), RowsRemovedByJoinFilter: num(m["Rows Removed by Join Filter"]),
		RowsRemovedByIndexRecheck: num(m["Rows Removed by Index Recheck"]),
		SortKey:                   strs(m["Sort Key"]), PresortedKey: strs(m["Presorted Key"]),
		SortMethod: str(m["Sort Method"]), SortSpaceType: str(m["Sort Space Type"]), SortSpaceKB: int64(num(m["Sort Space Used"])),
		GroupKey: strs(m["Group Key"]), HashBuckets: int64(num(m["Hash Buckets"])), HashBatches: int64(num(m["Hash Batches"])),
		OriginalHashBatches: int64(num(m["Original Hash Batches"])), PeakMemoryKB: int64(num(m["Peak Memory Usage"])),
		DiskUsageKB: int64(num(m["Disk Usage"])), HashAggBatches: int64(num(m["HashAgg Batches"])),
		HeapFetches: num(m["Heap Fetches"]), ExactHeapBlocks: int64(num(m["Exact Heap Blocks"])),
		LossyBlocks: int64(num(m["Lossy Heap Blocks"])), CacheHits: int64(num(m["Cache Hits"])),
		CacheMisses: int64(num(m["Cache Misses"])), Output: strs(m["Output"]),
		Buffers: readBuffers(m), IOReadMS: num(m["I/O Read Time"]), IOWriteMS: num(m["I/O Write Time"]),
	}
	_, analysed := m["Actual Loops"]
	n.NeverExecuted = analysed && n.Loops == 0
	if ws, ok := m["Workers"].([]any); ok {
		for _, w := range ws {
			wm, ok := w.(map[string]any)
			if !ok {
				continue
			}
			n.Workers = append(n.Workers, Worker{
				Number: int64(num(wm["Worker Number"])), ActualStartupMS: num(wm["Actual Startup Time"]),
				ActualTotalMS: num(wm["Actual Total Time"]), ActualRows: num(wm["Actual Rows"]), Loops: num(wm["Actual Loops"]),
				SortMethod: str(wm["Sort Method"]), SortSpaceType: str(wm["Sort Space Type"]),
				SortSpaceKB: int64(num(wm["Sort Space Used"])), Buffers: readBuffers(wm),
			})
		}
	}
	for k, v := range m {
		if !knownKeys[k] {
			n.Other = append(n.Other, KV{Key: k, Value: text(v)})
		}
	}
	sort.Slice(n.Other, func(i, j int) bool { return n.Other[i].Key < n.Other[j].Key })
	p.Nodes = append(p.Nodes, n)
	if kids, ok := m["Plans"].([]any); ok {
		for _, k := range kids {
			if km, ok := k.(map[string]any); ok {
				n.Children = append(n.Children, p.readNode(km, n, depth+1))
			}
		}
	}
	return n
}

func readBuffers(m map[string]any) Buffers {
	i := func(k string) int64 { return int64(num(m[k])) }
	return Buffers{
		SharedHit: i("Shared Hit Blocks"), SharedRead: i("Shared Read Blocks"), SharedDirtied: i("Shared Dirtied Blocks"),
		SharedWritten: i("Shared Written Blocks"), LocalHit: i("Local Hit Blocks"), LocalRead: i("Local Read Blocks"),
		LocalDirtied: i("Local Dirtied Blocks"), LocalWritten: i("Local Written Blocks"),
		TempRead: i("Temp Read Blocks"), TempWritten: i("Temp Written Blocks"),
	}
}

// derive works out the wall-clock figures, bottom up. The rules follow what PostgreSQL's
// instrumentation counts:
//   - actual time is per loop: × loops gives the node's total over every loop;
//   - under a Gather, each process (the workers and the leader) reports its loops, and the
//     per-loop figure is their average: the total divided by the processes is wall-clock;
//   - a child's time is inside its parent's, except an InitPlan's (CTEs are InitPlans too),
//     which runs where its value or rows are first needed: a CTE's time is inside the CTE
//     Scans that read it (the first to read takes the most), an InitPlan's inside the node
//     whose expressions use its $n (or its parent, when the plan does not show which).
func (p *Plan) derive() {
	for _, n := range p.Nodes {
		n.Processes = 1
		if g := gatherAbove(n); g != nil {
			n.Processes = float64(g.WorkersLaunched + 1)
		}
		if p.Analyzed && !n.NeverExecuted {
			if n.ActualTotalMS > 0 || n.ActualStartupMS > 0 {
				p.Timed = true
			}
			n.InclusiveMS = n.ActualTotalMS * n.Loops / n.Processes
			est, act := max(n.PlanRows, 1), max(n.ActualRows, 1)
			switch {
			case act >= est:
				n.Misestimate, n.Underestimated = act/est, act > est
			case cutByLimit(n):
				// Fewer rows than estimated because a LIMIT above stopped asking: not a
				// misestimate (the estimate is of the rows the node would give in full).
				n.StoppedEarly, n.Misestimate = true, 1
			default:
				n.Misestimate = est / act
			}
		}
	}
	// Own time and buffers: the inclusive figures less the children that run inside.
	for _, n := range p.Nodes {
		n.ExclusiveMS, n.ExclusiveBuffer = n.InclusiveMS, n.Buffers
		n.ExclusiveCost = n.TotalCost
		for _, c := range n.Children {
			if c.Relationship == "InitPlan" {
				continue
			}
			n.ExclusiveMS -= c.InclusiveMS
			n.ExclusiveBuffer = n.ExclusiveBuffer.minus(c.Buffers)
			n.ExclusiveCost -= c.TotalCost
		}
	}
	// InitPlans and CTEs: taken from where they ran.
	for _, n := range p.Nodes {
		if n.Relationship != "InitPlan" || n.Parent == nil {
			continue
		}
		if cte, ok := strings.CutPrefix(n.SubplanName, "CTE "); ok {
			// The CTE runs as its scans pull rows; in pre-order (about the order they run),
			// each scan is charged what is left of the CTE's time, up to its own.
			left, leftBuf := n.InclusiveMS, n.Buffers
			for _, m := range p.Nodes {
				if m.Type != "CTE Scan" || m.CTEName != cte {
					continue
				}
				take := min(left, m.ExclusiveMS)
				m.ExclusiveMS -= take
				left -= take
				took := m.ExclusiveBuffer.capped(leftBuf)
				m.ExclusiveBuffer = m.ExclusiveBuffer.minus(took)
				leftBuf = leftBuf.minus(took)
			}
			continue
		}
		user := initPlanUser(n)
		user.ExclusiveMS -= n.InclusiveMS
		user.ExclusiveBuffer = user.ExclusiveBuffer.minus(n.Buffers)
	}
	total := p.ExecutionMS
	if p.Root != nil && p.Root.InclusiveMS > total {
		total = p.Root.InclusiveMS
	}
	var cost float64
	for _, n := range p.Nodes {
		n.ExclusiveMS = max(n.ExclusiveMS, 0)
		n.ExclusiveCost = max(n.ExclusiveCost, 0)
		cost += n.ExclusiveCost
	}
	for _, n := range p.Nodes {
		switch {
		case p.Timed && total > 0:
			n.Share = n.ExclusiveMS / total
		case !p.Timed && cost > 0:
			n.Share = n.ExclusiveCost / cost
		}
	}
}

// capped is b with each count at most the one in limit.
func (b Buffers) capped(limit Buffers) Buffers {
	return Buffers{
		SharedHit: min(b.SharedHit, limit.SharedHit), SharedRead: min(b.SharedRead, limit.SharedRead),
		SharedDirtied: min(b.SharedDirtied, limit.SharedDirtied), SharedWritten: min(b.SharedWritten, limit.SharedWritten),
		LocalHit: min(b.LocalHit, limit.LocalHit), LocalRead: min(b.LocalRead, limit.LocalRead),
		LocalDirtied: min(b.LocalDirtied, limit.LocalDirtied), LocalWritten: min(b.LocalWritten, limit.LocalWritten),
		TempRead: min(b.TempRead, limit.TempRead), TempWritten: min(b.TempWritten, limit.TempWritten),
	}
}

// cutByLimit says whether a Limit above n may have stopped it early: no node in between reads
// its whole input before giving a row (a sort, a hash, an aggregate, a materialisation).
func cutByLimit(n *Node) bool {
	for cur := n; cur.Parent != nil; cur = cur.Parent {
		if cur.Relationship == "InitPlan" || cur.Relationship == "SubPlan" {
			return false // run for its own sake, not for the rows above
		}
		switch cur.Parent.Type {
		case "Limit":
			return true
		case "Sort", "Hash", "Aggregate", "WindowAgg", "Materialize", "SetOp":
			return false // read their whole input first (an incremental sort reads one group)
		}
	}
	return false
}

// gatherAbove is the Gather or Gather Merge whose workers run n, if any.
func gatherAbove(n *Node) *Node {
	for a := n.Parent; a != nil; a = a.Parent {
		if a.Type == "Gather" || a.Type == "Gather Merge" {
			return a
		}
	}
	return nil
}

// initParam finds the parameters an InitPlan sets: "$0" (PostgreSQL up to 15, in its name
// "InitPlan 1 (returns $0,$1)"), or "(InitPlan 1)" as PostgreSQL 16 and later refer to it.
var initReturns = regexp.MustCompile(`\$\d+`)

// initPlanUser is the node an InitPlan's time is counted in: the first node under its parent
// (in pre-order, the InitPlan's own subtree aside) whose expressions use its value, or the
// parent itself.
func initPlanUser(ip *Node) *Node {
	refs := initReturns.FindAllString(ip.SubplanName, -1)
	if name, _, ok := strings.Cut(ip.SubplanName, " (returns"); ok {
		refs = append(refs, "("+name+")")
	} else if ip.SubplanName != "" {
		refs = append(refs, "("+ip.SubplanName+")")
	}
	uses := func(n *Node) bool {
		for _, e := range append([]string{n.Filter, n.IndexCond, n.RecheckCond, n.JoinFilter, n.HashCond, n.MergeCond, n.OneTimeFilter}, n.Output...) {
			for _, r := range refs {
				if i := strings.Index(e, r); i >= 0 && (!strings.HasPrefix(r, "$") || !followedByDigit(e, i+len(r))) {
					return true
				}
			}
		}
		return false
	}
	var walk func(n *Node) *Node
	walk = func(n *Node) *Node {
		for _, c := range n.Children {
			if c == ip {
				continue
			}
			if uses(c) {
				if deeper := walk(c); deeper != nil {
					return deeper
				}
				return c
			}
			if found := walk(c); found != nil {
				return found
			}
		}
		return nil
	}
	if found := walk(ip.Parent); found != nil {
		return found
	}
	return ip.Parent
}

func followedByDigit(s string, i int) bool { return i < len(s) && s[i] >= '0' && s[i] <= '9' }

func num(v any) float64 {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case float64:
		return x
	}
	return 0
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func strs(v any) []string {
	xs, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, str(x))
	}
	return out
}

// text writes any JSON value compactly, for Node.Other.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
