package analysis

import (
	"fmt"
	"sort"
	"strings"
)

// Text writes the plan the way EXPLAIN's text format does, from the JSON: one run gives
// both forms (running the statement again for its text would give another run's numbers).
func (p *Plan) Text() string {
	var b strings.Builder
	for _, n := range p.Nodes {
		head, detail := "", strings.Repeat(" ", 2)
		if n.Depth > 0 {
			pad := strings.Repeat(" ", 6*(n.Depth-1)+2)
			if n.SubplanName != "" {
				fmt.Fprintf(&b, "%s%s\n", strings.Repeat(" ", 6*(n.Depth-1)+2), n.SubplanName)
				pad += "  "
			}
			head = pad + "->  "
			detail = strings.Repeat(" ", len(head)+2)
		}
		label := n.Label()
		if s := n.Subject(); s != "" {
			label += " " + s
		}
		fmt.Fprintf(&b, "%s%s  (cost=%.2f..%.2f rows=%.0f width=%d)", head, label, n.StartupCost, n.TotalCost, n.PlanRows, n.PlanWidth)
		switch {
		case n.NeverExecuted:
			b.WriteString(" (never executed)")
		case p.Analyzed && p.Timed:
			fmt.Fprintf(&b, " (actual time=%.3f..%.3f rows=%.0f loops=%.0f)", n.ActualStartupMS, n.ActualTotalMS, n.ActualRows, n.Loops)
		case p.Analyzed:
			fmt.Fprintf(&b, " (actual rows=%.0f loops=%.0f)", n.ActualRows, n.Loops)
		}
		b.WriteString("\n")
		for _, d := range n.Details() {
			fmt.Fprintf(&b, "%s%s: %s\n", detail, d.Key, d.Value)
		}
	}
	if len(p.Settings) > 0 {
		keys := make([]string, 0, len(p.Settings))
		for k := range p.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s = '%s'", k, p.Settings[k])
		}
		fmt.Fprintf(&b, "Settings: %s\n", strings.Join(parts, ", "))
	}
	if pb := p.PlanningBuffers; pb.Total() > 0 {
		fmt.Fprintf(&b, "Planning:\n  Buffers: %s\n", pb.String())
	}
	if p.PlanningMS > 0 || p.Analyzed {
		fmt.Fprintf(&b, "Planning Time: %.3f ms\n", p.PlanningMS)
	}
	if p.Analyzed {
		fmt.Fprintf(&b, "Execution Time: %.3f ms\n", p.ExecutionMS)
	}
	return b.String()
}

// String writes the buffers as EXPLAIN's text form does: "shared hit=12 read=3, temp written=40".
func (b Buffers) String() string {
	var parts []string
	group := func(name string, kv ...any) {
		var xs []string
		for i := 0; i+1 < len(kv); i += 2 {
			if v := kv[i+1].(int64); v > 0 {
				xs = append(xs, fmt.Sprintf("%s=%d", kv[i], v))
			}
		}
		if len(xs) > 0 {
			parts = append(parts, name+" "+strings.Join(xs, " "))
		}
	}
	group("shared", "hit", b.SharedHit, "read", b.SharedRead, "dirtied", b.SharedDirtied, "written", b.SharedWritten)
	group("local", "hit", b.LocalHit, "read", b.LocalRead, "dirtied", b.LocalDirtied, "written", b.LocalWritten)
	group("temp", "read", b.TempRead, "written", b.TempWritten)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Details are a node's conditions, sort and hash figures, buffers and the rest, as labelled
// lines: what the plan view lists under the node, and the text form under its line.
func (n *Node) Details() []KV {
	var out []KV
	add := func(k, v string) {
		if v != "" {
			out = append(out, KV{Key: k, Value: v})
		}
	}
	addF := func(k string, v float64) {
		if v > 0 {
			add(k, count(v))
		}
	}
	add("Output", strings.Join(n.Output, ", "))
	add("Index Cond", n.IndexCond)
	add("Hash Cond", n.HashCond)
	add("Merge Cond", n.MergeCond)
	add("Recheck Cond", n.RecheckCond)
	add("Join Filter", n.JoinFilter)
	addF("Rows Removed by Join Filter", n.RowsRemovedByJoinFilter)
	add("Filter", n.Filter)
	addF("Rows Removed by Filter", n.RowsRemovedByFilter)
	addF("Rows Removed by Index Recheck", n.RowsRemovedByIndexRecheck)
	add("One-Time Filter", n.OneTimeFilter)
	add("Sort Key", strings.Join(n.SortKey, ", "))
	add("Presorted Key", strings.Join(n.PresortedKey, ", "))
	if n.SortMethod != "" {
		add("Sort Method", fmt.Sprintf("%s  %s: %dkB", n.SortMethod, n.SortSpaceType, n.SortSpaceKB))
	}
	add("Group Key", strings.Join(n.GroupKey, ", "))
	if n.HashBuckets > 0 {
		add("Buckets", fmt.Sprintf("%d  Batches: %d (originally %d)  Memory Usage: %dkB", n.HashBuckets, n.HashBatches, n.OriginalHashBatches, n.PeakMemoryKB))
	} else if n.PeakMemoryKB > 0 {
		add("Memory Usage", fmt.Sprintf("%dkB", n.PeakMemoryKB))
	}
	if n.HashAggBatches > 0 || n.DiskUsageKB > 0 {
		add("Batches", fmt.Sprintf("%d  Disk Usage: %dkB", n.HashAggBatches, n.DiskUsageKB))
	}
	if n.Type == "Index Only Scan" && n.Loops > 0 {
		add("Heap Fetches", count(n.HeapFetches))
	}
	if n.ExactHeapBlocks > 0 || n.LossyBlocks > 0 {
		add("Heap Blocks", fmt.Sprintf("exact=%d lossy=%d", n.ExactHeapBlocks, n.LossyBlocks))
	}
	if n.CacheHits > 0 || n.CacheMisses > 0 {
		add("Cache", fmt.Sprintf("hits=%d misses=%d", n.CacheHits, n.CacheMisses))
	}
	if n.WorkersPlanned > 0 {
		add("Workers", fmt.Sprintf("planned %d, launched %d", n.WorkersPlanned, n.WorkersLaunched))
	}
	for _, w := range n.Workers {
		v := fmt.Sprintf("actual time=%.3f..%.3f rows=%.0f loops=%.0f", w.ActualStartupMS, w.ActualTotalMS, w.ActualRows, w.Loops)
		if w.SortMethod != "" {
			v += fmt.Sprintf("  Sort Method: %s  %s: %dkB", w.SortMethod, w.SortSpaceType, w.SortSpaceKB)
		}
		add(fmt.Sprintf("Worker %d", w.Number), v)
	}
	if n.Buffers != (Buffers{}) {
		add("Buffers", n.Buffers.String())
	}
	if n.IOReadMS > 0 || n.IOWriteMS > 0 {
		add("I/O Timings", fmt.Sprintf("read=%.3f write=%.3f", n.IOReadMS, n.IOWriteMS))
	}
	for _, kv := range n.Other {
		if kv.Value != "false" { // "Async Capable: false" and the like say nothing
			add(kv.Key, kv.Value)
		}
	}
	return out
}
