package main

import "fmt"

// rssRows are Tally's resident memory idle and under the approve load (VmRSS from /proc).
func (b *bench) rssRows() []Row {
	idle := Row{Group: "rss", Figure: "RSS of tally serve, idle", Value: fmt.Sprintf("%.0f MB", b.rss.idleBeforeSignIn), Target: "< 100 MB",
		Verdict: verdict(b.rss.idleBeforeSignIn < 100), Data: map[string]float64{"mb": b.rss.idleBeforeSignIn, "after_sign_ins_mb": b.rss.idle},
		Note: fmt.Sprintf("started (migrated, workers running), no request yet; %.0f MB after %d sign-ins (each hashes a password with argon2id in 46 MiB)",
			b.rss.idle, b.set.Sessions*3/2)}
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
