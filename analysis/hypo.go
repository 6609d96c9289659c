package analysis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// HypoPG says whether the hypothetical mode can run, and if not, what to do about it.
type HypoPG struct {
	// Version is the extension's version in this database; empty when it is not created.
	Version string
	// Available is the version the server could create; empty when the package is missing.
	Available string
	// CanHide says whether HypoPG can hide a real index from the planner (1.4 and later),
	// which lets the real mode interleave its A and B runs.
	CanHide bool
	// ServerMajor is PostgreSQL's major version, for the package's name.
	ServerMajor int
}

// Ready says whether hypothetical comparisons can run.
func (h HypoPG) Ready() bool { return h.Version != "" }

// Advice says what to do when HypoPG is missing: install the package, or create the extension.
func (h HypoPG) Advice() string {
	switch {
	case h.Ready():
		return ""
	case h.Available == "":
		return fmt.Sprintf("HypoPG is not installed on the database server: install the package (apt-get install postgresql-%d-hypopg), then run CREATE EXTENSION hypopg as a superuser (or migrate again).", h.ServerMajor)
	}
	return fmt.Sprintf("HypoPG %s is installed on the server but not created in this database: run CREATE EXTENSION hypopg as a superuser.", h.Available)
}

// HypoPG reads whether the hypothetical mode is possible.
func (s *Service) HypoPG(ctx context.Context) (HypoPG, error) {
	r, err := s.q.QueryAnalysisHypoPG(ctx)
	if err != nil {
		return HypoPG{}, err
	}
	return HypoPG{Version: r.CreatedVersion, Available: r.AvailableVersion, CanHide: r.CanHide, ServerMajor: int(r.ServerVersion / 10000)}, nil
}

// Prediction is what the planner expects with the candidate as a hypothetical index: the
// estimated cost of each side, the size HypoPG estimates, and whether plan B uses it.
type Prediction struct {
	CostA      float64 `json:"cost_a"`
	CostB      float64 `json:"cost_b"`
	IndexBytes int64   `json:"index_bytes"`
	IndexName  string  `json:"index_name"`
	IndexUsed  bool    `json:"index_used"`
	PlanA      []byte  `json:"plan_a"`
	PlanB      []byte  `json:"plan_b"`
}

// hypothetical explains st without and with the candidate as a HypoPG index, on one session:
// HypoPG's indexes live only in the backend that made them, and only plain EXPLAIN (without
// ANALYZE) sees them. Nothing is built and nothing is locked.
func (s *Service) hypothetical(ctx context.Context, ss *session, st Statement, ddl string, timeout time.Duration) (Prediction, error) {
	var p Prediction
	err := ss.readOnly(ctx, timeout, func(tx pgx.Tx) error {
		plain := Options{}
		var err error
		if p.PlanA, err = explain(ctx, tx, st.SQL, st.oids, st.values(), plain); err != nil {
			return runError(err, timeout)
		}
		var oid uint32
		if err := tx.QueryRow(ctx, "SELECT indexrelid, indexname FROM hypopg_create_index($1)", ddl).Scan(&oid, &p.IndexName); err != nil {
			return fmt.Errorf("hypopg_create_index: %w", err)
		}
		if p.PlanB, err = explain(ctx, tx, st.SQL, st.oids, st.values(), plain); err != nil {
			return runError(err, timeout)
		}
		if err := tx.QueryRow(ctx, "SELECT hypopg_relation_size($1)", oid).Scan(&p.IndexBytes); err != nil {
			return fmt.Errorf("hypopg_relation_size: %w", err)
		}
		_, err = tx.Exec(ctx, "SELECT hypopg_reset()")
		return err
	})
	if err != nil {
		return Prediction{}, err
	}
	a, err := ParsePlan(p.PlanA)
	if err != nil {
		return Prediction{}, err
	}
	b, err := ParsePlan(p.PlanB)
	if err != nil {
		return Prediction{}, err
	}
	p.CostA, p.CostB = a.Root.TotalCost, b.Root.TotalCost
	p.IndexUsed = usesIndex(b, p.IndexName)
	return p, nil
}

// usesIndex says whether any node of p reads the index named.
func usesIndex(p *Plan, name string) bool {
	for _, n := range p.Nodes {
		if n.Index == name {
			return true
		}
	}
	return false
}
