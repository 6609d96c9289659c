package main

import "fmt"

// rssRows are Tally's resident memory idle and under the approve load (VmRSS from /proc).
func (b *bench) rssRows() []Row {
	idle := Row{Group: "rss", Figure: "RSS of tally serve, idle", Value: fmt.Sprintf("%.0f MB", b.rss.idle), Target: "< 100 MB",
		Verdict: verdict(b.rss.idle < 100), Data: map[string]float64{"mb": b.rss.idle, "before_sign_in_mb": b.rss.idleBeforeSignIn},
		Note: fmt.Sprintf("after start and 48 sign-ins, before any load; %.0f MB before the sign-ins (each hashes with argon2id, 46 MiB)", b.rss.idleBeforeSignIn)}
	load := Row{Group: "rss", Figure: "RSS of tally serve, approve load", Target: "< 300 MB", Data: map[string]float64{"mb": b.rss.load, "hwm_mb": b.rss.hwm}}
	if b.rss.load == 0 {
		load.Verdict, load.Error = errored, "not measured (the approve figures did not run)"
	} else {
		load.Value = fmt.Sprintf("%.0f MB", b.rss.load)
		load.Verdict = verdict(b.rss.load < 300)
		load.Note = fmt.Sprintf("largest VmRSS sampled every 100 ms during the HTTP approve runs; VmHWM (peak of the whole run, pages included) %.0f MB", b.rss.hwm)
	}
	return []Row{idle, load}
}
