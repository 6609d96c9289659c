package analysis

import (
	"context"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"tally"
	"tally/reservations"
)

// Candidate is an index to try, built from choices — never from free text: a table the
// analysis role may read, its columns in order, included columns, and a partial predicate
// from the table's list.
type Candidate struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns"`
	Include []string `json:"include,omitempty"`
	// Predicate is the ID of one of the table's Predicates; empty for a full index.
	Predicate string `json:"predicate,omitempty"`
}

// Limits of a candidate.
const (
	MaxCandidateColumns = 4
	MaxCandidateInclude = 4
)

// Table is a table a candidate index may go on.
type Table struct {
	Name       string
	Rows       int64 // the planner's estimate
	Columns    []Column
	Predicates []Predicate
	// Indexes are its indexes as they are defined now.
	Indexes []Index
}

// Column is one column of a Table.
type Column struct {
	Name     string
	Type     string
	Nullable bool
}

// Predicate is one partial-index condition offered for a table; SQL is built here from the
// column's quoted name and a value from a fixed list.
type Predicate struct {
	ID  string
	SQL string
}

// Index is an existing index.
type Index struct {
	Name, Definition string
	Valid            bool
}

// unindexable are column types a btree index cannot take.
var unindexable = []string{"json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle"}

// enumerated lists, per table and column, the values a partial predicate may compare with:
// the states the domain knows, not whatever the data holds.
var enumerated = map[string]map[string][]string{
	"reservations":   {"status": reservations.Statuses},
	"ledger_entries": {"account": {"receivable", "revenue", "fees"}},
	"river_job":      {"state": {"available", "scheduled", "running", "retryable", "completed", "cancelled", "discarded", "pending"}},
}

// Tables lists the tables a candidate index may go on, with their columns, predicates and
// current indexes.
func (s *Service) Tables(ctx context.Context) ([]Table, error) {
	cols, err := s.q.QueryAnalysisColumns(ctx)
	if err != nil {
		return nil, err
	}
	var out []Table
	for _, c := range cols {
		if len(out) == 0 || out[len(out)-1].Name != c.TableName {
			out = append(out, Table{Name: c.TableName, Rows: c.TableRows})
		}
		t := &out[len(out)-1]
		t.Columns = append(t.Columns, Column{Name: c.ColumnName, Type: c.ColumnType, Nullable: c.Nullable})
	}
	idx, err := s.q.QueryAnalysisIndexes(ctx)
	if err != nil {
		return nil, err
	}
	for i := range out {
		t := &out[i]
		for _, x := range idx {
			if x.TableName == t.Name {
				t.Indexes = append(t.Indexes, Index{Name: x.IndexName, Definition: x.Definition, Valid: x.Valid})
			}
		}
		t.Predicates = predicatesOf(*t)
	}
	return out, nil
}

// predicatesOf offers, for each enumerated column, "= value" for each value and, for
// reservations, the open statuses; and "IS NOT NULL" for each nullable column.
func predicatesOf(t Table) []Predicate {
	var out []Predicate
	for _, c := range t.Columns {
		values := enumerated[t.Name][c.Name]
		for _, v := range values {
			out = append(out, Predicate{ID: c.Name + "=" + v, SQL: ident(c.Name) + " = " + literal(v)})
		}
		if t.Name == "reservations" && c.Name == "status" {
			out = append(out, Predicate{ID: "status=open", SQL: ident(c.Name) + " IN (" + literal(reservations.StatusHeld) + ", " + literal(reservations.StatusApproved) + ")"})
		}
	}
	for _, c := range t.Columns {
		if c.Nullable {
			out = append(out, Predicate{ID: c.Name + ":not-null", SQL: ident(c.Name) + " IS NOT NULL"})
		}
	}
	return out
}

// ident quotes an identifier the way PostgreSQL reads it.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// literal quotes a string constant (standard_conforming_strings is on since PostgreSQL 9.1).
func literal(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

// tableOf finds the candidate's table among tables.
func tableOf(tables []Table, name string) (Table, bool) {
	for _, t := range tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// Validate checks c against the tables the analysis role may read: every name must be one of
// theirs, and the predicate one of the table's list.
func (c Candidate) Validate(tables []Table) error {
	t, ok := tableOf(tables, c.Table)
	if !ok {
		return tally.Errorf(tally.EINVALID, "Choose a table for the candidate index.")
	}
	if len(c.Columns) == 0 {
		return tally.Errorf(tally.EINVALID, "Choose at least one column for the candidate index.")
	}
	if len(c.Columns) > MaxCandidateColumns || len(c.Include) > MaxCandidateInclude {
		return tally.Errorf(tally.EINVALID, "A candidate index has at most %d columns and %d included ones.", MaxCandidateColumns, MaxCandidateInclude)
	}
	seen := map[string]bool{}
	for _, name := range append(slices.Clone(c.Columns), c.Include...) {
		i := slices.IndexFunc(t.Columns, func(col Column) bool { return col.Name == name })
		if i < 0 {
			return tally.Errorf(tally.EINVALID, "%s has no column %q.", t.Name, name)
		}
		if seen[name] {
			return tally.Errorf(tally.EINVALID, "Column %s is chosen twice.", name)
		}
		seen[name] = true
		if slices.Contains(c.Columns, name) && slices.Contains(unindexable, t.Columns[i].Type) {
			return tally.Errorf(tally.EINVALID, "%s is of type %s, which a btree index cannot hold.", name, t.Columns[i].Type)
		}
	}
	if c.Predicate != "" && !slices.ContainsFunc(t.Predicates, func(p Predicate) bool { return p.ID == c.Predicate }) {
		return tally.Errorf(tally.EINVALID, "Choose the partial condition from the list.")
	}
	return nil
}

// definition is the index's definition after "ON": table (columns) INCLUDE (…) WHERE …, from
// quoted identifiers and the predicate's own SQL. c must be valid against tables.
func (c Candidate) definition(tables []Table) string {
	t, _ := tableOf(tables, c.Table)
	quote := func(names []string) string {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = ident(n)
		}
		return strings.Join(q, ", ")
	}
	var b strings.Builder
	b.WriteString(ident(c.Table) + " (" + quote(c.Columns) + ")")
	if len(c.Include) > 0 {
		b.WriteString(" INCLUDE (" + quote(c.Include) + ")")
	}
	for _, p := range t.Predicates {
		if p.ID == c.Predicate {
			b.WriteString(" WHERE " + p.SQL)
		}
	}
	return b.String()
}

// DDL is the statement that builds the candidate for real, under the name given.
func (c Candidate) DDL(tables []Table, name string) string {
	return "CREATE INDEX CONCURRENTLY " + ident(name) + " ON " + c.definition(tables)
}

// hypotheticalDDL is the statement HypoPG reads to make the candidate up.
func (c Candidate) hypotheticalDDL(tables []Table) string {
	return "CREATE INDEX ON " + c.definition(tables)
}

// Describe names the candidate for people: reservations (slot_id, status) INCLUDE (…) WHERE ….
func (c Candidate) Describe(tables []Table) string { return c.definition(tables) }

// Repeats names an existing valid index of the table with the same columns in the same
// order, or "".
func (c Candidate) Repeats(tables []Table) string {
	t, _ := tableOf(tables, c.Table)
	want := "(" + strings.Join(quoteAll(c.Columns), ", ") + ")"
	for _, x := range t.Indexes {
		if x.Valid && strings.Contains(x.Definition, "USING btree "+want) && c.Predicate == "" && len(c.Include) == 0 &&
			!strings.Contains(x.Definition, " WHERE ") {
			return x.Name
		}
	}
	return ""
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		// pg_get_indexdef quotes only where needed: plain lower-case names stay bare.
		if strings.ToLower(n) == n && !strings.ContainsAny(n, " \"-") {
			out[i] = n
		} else {
			out[i] = ident(n)
		}
	}
	return out
}
