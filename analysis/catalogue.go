package analysis

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"tally/queries"
	"tally/reservations"
)

// Query is one of the application's own read queries, as the catalogue offers it.
type Query struct {
	// Name is the sqlc query's name, which is also its exported constant's: ReservationListNewest.
	Name string
	// Page is where the application runs it: "Reservations list", "Dashboard", …
	Page string
	// Note says what it does there.
	Note string
	// SQL is sqlc's exported query text, exactly what the application sends.
	SQL  string
	Args []Arg
	// Refused, when set, says why the analysis role cannot run it (it reads users).
	Refused string
}

// Arg is one parameter of a catalogue query, as sqlc names it.
type Arg struct {
	Name string // snake_case, as in the .sql file: slot_id
	// Type is the parameter's type as the Go code passes it: bigint, text, timestamptz, …
	Type string
	// Nullable args may be left empty (NULL), which the list's filters read as "any".
	Nullable bool
	// Kind says what the value is when the name does not: "slot" for ReservationFilterSlot's id.
	Kind string
}

// readsUsers is why the queries that name staff by email are not run: the analysis role may
// not read users.
const readsUsers = "it reads the users table (staff emails), which the analysis role may not read."

// catalogue is the read queries behind the console's pages. Args come from sqlc's generated
// parameter structs (see argsOf), so they follow the .sql files; the names of single
// arguments, which sqlc passes bare, are given here.
var catalogue = []Query{
	{Name: "ReservationListNewest", Page: "Reservations list", Note: "The list as it opens: newest first, every filter optional, keyset pages.", SQL: queries.ReservationListNewest},
	{Name: "ReservationListOldest", Page: "Reservations list", Note: "Oldest first.", SQL: queries.ReservationListOldest},
	{Name: "ReservationListBySlotAsc", Page: "Reservations list", Note: "Sorted by slot start, earliest first.", SQL: queries.ReservationListBySlotAsc},
	{Name: "ReservationListBySlotDesc", Page: "Reservations list", Note: "Sorted by slot start, latest first.", SQL: queries.ReservationListBySlotDesc},
	{Name: "ReservationListByAmountAsc", Page: "Reservations list", Note: "Sorted by amount, smallest first.", SQL: queries.ReservationListByAmountAsc},
	{Name: "ReservationListByAmountDesc", Page: "Reservations list", Note: "Sorted by amount, largest first.", SQL: queries.ReservationListByAmountDesc},
	{Name: "ReservationListByStatusAsc", Page: "Reservations list", Note: "Sorted by status.", SQL: queries.ReservationListByStatusAsc},
	{Name: "ReservationListByStatusDesc", Page: "Reservations list", Note: "Sorted by status, descending.", SQL: queries.ReservationListByStatusDesc},
	{Name: "ReservationListByCustomerAsc", Page: "Reservations list", Note: "Sorted by customer name.", SQL: queries.ReservationListByCustomerAsc},
	{Name: "ReservationListByCustomerDesc", Page: "Reservations list", Note: "Sorted by customer name, descending.", SQL: queries.ReservationListByCustomerDesc},
	{Name: "ReservationCountByStatus", Page: "Reservations list", Note: "The status tabs' counts, up to a cap.", SQL: queries.ReservationCountByStatus},
	{Name: "ReservationCountByStatusUnjoined", Page: "Reservations list", Note: "The tabs' counts, up to a cap, for filters that need no slot: without the join.", SQL: queries.ReservationCountByStatusUnjoined},
	{Name: "ReservationCountTracked", Page: "Reservations list", Note: "The tabs' counts of the whole list or of one resource, from the counts triggers keep.", SQL: queries.ReservationCountTracked, Args: []Arg{{Name: "resource_id"}}},
	{Name: "CustomerIDsMatching", Page: "Reservations list", Note: "A search's customers, through the trigram indexes.", SQL: queries.CustomerIDsMatching},
	{Name: "ReservationsOfCustomers", Page: "Reservations list", Note: "The reservations of the customers a search found.", SQL: queries.ReservationsOfCustomers},
	{Name: "ReservationPayoutProblemIDs", Page: "Reservations list", Note: "The reservations whose payout is failing or was cancelled, for the payout filter.", SQL: queries.ReservationPayoutProblemIDs, Args: []Arg{{Name: "row_limit"}}},
	{Name: "ReservationFilterSlot", Page: "Reservations list", Note: "Names the slot the list is narrowed to.", SQL: queries.ReservationFilterSlot, Args: []Arg{{Name: "id", Kind: "slot"}}},
	{Name: "ReservationListByIDs", Page: "Reservations list", Note: "The rows a bulk settle names in its result.", SQL: queries.ReservationListByIDs, Args: []Arg{{Name: "ids", Kind: "reservations"}}},
	{Name: "ReservationDetail", Page: "Reservation page", Note: "One reservation with its slot, resource, customer and staff.", SQL: queries.ReservationDetail, Args: []Arg{{Name: "id", Kind: "reservation"}}, Refused: readsUsers},
	{Name: "ReservationGet", Page: "Reservation page", Note: "One reservation as stored.", SQL: queries.ReservationGet, Args: []Arg{{Name: "id", Kind: "reservation"}}},
	{Name: "LedgerEntryListByReservation", Page: "Reservation page", Note: "A reservation's ledger entries.", SQL: queries.LedgerEntryListByReservation, Args: []Arg{{Name: "reservation_id", Kind: "reservation"}}},
	{Name: "AuditListByRecord", Page: "Reservation page", Note: "A record's history.", SQL: queries.AuditListByRecord},
	{Name: "ReservationStatsSince", Page: "Dashboard", Note: "Today's held, approved and settled counts and amounts, per currency.", SQL: queries.ReservationStatsSince, Args: []Arg{{Name: "since"}}},
	{Name: "PartnerCircuitGet", Page: "Dashboard", Note: "The partner circuit breaker's state.", SQL: queries.PartnerCircuitGet, Args: []Arg{{Name: "partner"}}},
	{Name: "AuditListLatest", Page: "Audit log", Note: "The audit log, newest first, with its filters.", SQL: queries.AuditListLatest},
	{Name: "SlotListUpcoming", Page: "Slots", Note: "Upcoming slots, optionally of one resource.", SQL: queries.SlotListUpcoming},
	{Name: "ResourceList", Page: "Slots", Note: "Resources with their upcoming capacity and seats reserved.", SQL: queries.ResourceList},
	{Name: "SlotGet", Page: "New reservation", Note: "A slot, and whether it has started.", SQL: queries.SlotGet, Args: []Arg{{Name: "id", Kind: "slot"}}},
	{Name: "CustomerSearch", Page: "New reservation", Note: "The customer picker's search.", SQL: queries.CustomerSearch},
	{Name: "CustomerGet", Page: "New reservation", Note: "One customer.", SQL: queries.CustomerGet, Args: []Arg{{Name: "id", Kind: "customer"}}},
	{Name: "SettlementReportLines", Page: "Settlement reports", Note: "One day's settlements with fees and payouts, for the CSV.", SQL: queries.SettlementReportLines, Refused: readsUsers},
	{Name: "SettlementReportList", Page: "Settlement reports", Note: "The reports, newest first.", SQL: queries.SettlementReportList},
	{Name: "SettlementReportGet", Page: "Settlement reports", Note: "One day's report.", SQL: queries.SettlementReportGet, Args: []Arg{{Name: "day"}}},
	{Name: "RiverJobCountByStateQueue", Page: "Jobs console", Note: "Jobs per state and queue, each count capped.", SQL: queries.RiverJobCountByStateQueue},
	{Name: "RiverJobEstimateByStateQueue", Page: "Jobs console", Note: "The planner's estimate of jobs per state and queue, from extended statistics.", SQL: queries.RiverJobEstimateByStateQueue},
	{Name: "RiverJobOldestAvailable", Page: "Jobs console", Note: "Each queue's oldest available job: its lag.", SQL: queries.RiverJobOldestAvailable, Args: []Arg{{Name: "queues"}}},
	{Name: "RiverJobFailureGroups", Page: "Jobs console", Note: "Failed jobs grouped by kind and masked error, with the money at stake.", SQL: queries.RiverJobFailureGroups},
	{Name: "RiverJobCountMatching", Page: "Jobs console", Note: "How many jobs a filter matches, capped.", SQL: queries.RiverJobCountMatching},
	{Name: "RiverJobMinutes", Page: "Jobs console", Note: "Per-minute throughput and latency buckets for the charts.", SQL: queries.RiverJobMinutes},
	{Name: "RiverJobPayoutProblems", Page: "Jobs console", Note: "Reservations whose payout is failing or was cancelled.", SQL: queries.RiverJobPayoutProblems},
}

func init() {
	q := reflect.TypeOf((*queries.Queries)(nil))
	for i := range catalogue {
		c := &catalogue[i]
		m, ok := q.MethodByName(c.Name)
		if !ok {
			panic("analysis: the catalogue names " + c.Name + ", which package queries does not have")
		}
		args := argsOf(m.Type)
		// Bare arguments keep the names given above, and take their types from Go.
		for j := range args {
			if j < len(c.Args) {
				args[j].Name = c.Args[j].Name
				args[j].Kind = c.Args[j].Kind
			}
		}
		c.Args = args
	}
}

// argsOf reads a sqlc method's parameters: the fields of its Params struct, in $n order, or
// its one bare argument.
func argsOf(m reflect.Type) []Arg {
	var out []Arg
	for i := 2; i < m.NumIn(); i++ { // receiver, ctx, then the arguments
		t := m.In(i)
		if t.Kind() == reflect.Struct && strings.HasSuffix(t.Name(), "Params") {
			for j := 0; j < t.NumField(); j++ {
				f := t.Field(j)
				out = append(out, Arg{Name: snake(f.Name), Type: sqlType(f.Type), Nullable: nullable(f.Type)})
			}
			continue
		}
		out = append(out, Arg{Name: fmt.Sprintf("arg%d", i-1), Type: sqlType(t), Nullable: nullable(t)})
	}
	return out
}

func nullable(t reflect.Type) bool {
	// pgtype.Date has its own NULL; a nil []byte (jsonb) is NULL.
	return t.Kind() == reflect.Pointer || t.Name() == "Date" || t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
}

// sqlType names the PostgreSQL type a Go parameter type is sent as.
func sqlType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeOf(time.Time{}):
		return "timestamptz"
	case t.Name() == "Date":
		return "date"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return "jsonb"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Int64:
		return "bigint[]"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "text[]"
	}
	switch t.Kind() {
	case reflect.Int64:
		return "bigint"
	case reflect.Int32:
		return "integer"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "boolean"
	case reflect.Float64:
		return "double precision"
	}
	return t.String()
}

// snake turns a Go field name into the .sql file's name: SlotID → slot_id, AfterStatusKey →
// after_status_key.
func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prevLower := unicode.IsLower(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1]) && rs[i+1] != 's'
			if prevLower || nextLower {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Catalogue lists the queries, grouped by page in the order above.
func Catalogue() []Query { return append([]Query(nil), catalogue...) }

// Lookup finds a catalogue query by name.
func Lookup(name string) (Query, bool) {
	for _, q := range catalogue {
		if q.Name == name {
			return q, true
		}
	}
	return Query{}, false
}

// Sample is what the catalogue's parameter sets are filled from: common and rare values in
// the newest reservations (queries.QueryAnalysisSample).
type Sample = queries.QueryAnalysisSampleRow

// Sample reads the common and rare values of the data as it is now.
func (s *Service) Sample(ctx context.Context) (Sample, error) {
	return s.q.QueryAnalysisSample(ctx)
}

// ParamSet is one way to fill a query's parameters: the defaults the page uses, or a common
// value and a rare one of a skewed column.
type ParamSet struct {
	ID     string
	Label  string
	Values []string // in $n order; "" is NULL
}

// ParamSets are the sets that matter for q on data like sample: the defaults first.
func (q Query) ParamSets(sample Sample, now time.Time) []ParamSet {
	base := make([]string, len(q.Args))
	for i, a := range q.Args {
		base[i] = defaultValue(q, a, sample, now)
	}
	sets := []ParamSet{{ID: "default", Label: "As the page opens", Values: base}}
	with := func(id, label, kind, value string) {
		for i, a := range q.Args {
			if argKind(a) == kind && value != "" && value != "0" {
				v := append([]string(nil), base...)
				v[i] = value
				sets = append(sets, ParamSet{ID: id, Label: label, Values: v})
				return
			}
		}
	}
	of := fmt.Sprintf(" of the newest %s", count(float64(sample.Sampled)))
	with("busy-slot", fmt.Sprintf("Busiest slot #%d (%s reservations%s)", sample.BusySlot, count(float64(sample.BusySlotN)), of), "slot", itoa(sample.BusySlot))
	with("quiet-slot", fmt.Sprintf("Quiet slot #%d (%s)", sample.QuietSlot, count(float64(sample.QuietSlotN))), "slot", itoa(sample.QuietSlot))
	with("common-status", fmt.Sprintf("Common status %s (%s%s)", sample.CommonStatus, count(float64(sample.CommonStatusN)), of), "status", sample.CommonStatus)
	with("rare-status", fmt.Sprintf("Rare status %s (%s)", sample.RareStatus, count(float64(sample.RareStatusN))), "status", sample.RareStatus)
	with("busy-customer", fmt.Sprintf("Busiest customer #%d (%s reservations)", sample.BusyCustomer, count(float64(sample.BusyCustomerN))), "customer", itoa(sample.BusyCustomer))
	with("quiet-customer", fmt.Sprintf("Quiet customer #%d (%s)", sample.QuietCustomer, count(float64(sample.QuietCustomerN))), "customer", itoa(sample.QuietCustomer))
	with("busy-resource", fmt.Sprintf("Busiest resource #%d (%s reservations)", sample.BusyResource, count(float64(sample.BusyResourceN))), "resource", itoa(sample.BusyResource))
	with("quiet-resource", fmt.Sprintf("Quiet resource #%d (%s)", sample.QuietResource, count(float64(sample.QuietResourceN))), "resource", itoa(sample.QuietResource))
	if name, _, _ := strings.Cut(sample.BusyCustomerName, " "); name != "" {
		with("search-name", fmt.Sprintf("Search %q (a customer's name)", name), "search", name)
	}
	with("search-none", "Search that matches nothing", "search", "zzz-no-such-name")
	return sets
}

// argKind is what an argument's value is: its Kind when given, else read from its name.
func argKind(a Arg) string {
	if a.Kind != "" {
		return a.Kind
	}
	switch a.Name {
	case "slot_id":
		return "slot"
	case "customer_id":
		return "customer"
	case "resource_id":
		return "resource"
	}
	return a.Name
}

// defaultValue is the value the page itself would pass, or one from the data where the
// query needs one.
func defaultValue(q Query, a Arg, s Sample, now time.Time) string {
	day := now.UTC().Truncate(24 * time.Hour)
	lastSettled := s.LastSettledAt.UTC().Truncate(24 * time.Hour)
	switch argKind(a) {
	case "row_limit":
		if q.Name == "SlotListUpcoming" {
			return "100"
		}
		return "50"
	case "cap":
		return strconv.Itoa(reservations.CountCap + 1)
	case "statuses":
		return "{" + strings.Join(reservations.Statuses, ",") + "}"
	case "states":
		if q.Name == "RiverJobCountMatching" {
			return "{retryable,discarded}"
		}
		return "{available,scheduled,running,retryable,pending,completed,cancelled,discarded}"
	case "queues":
		return "{default,partner,maintenance}"
	case "payout_kind":
		return "partner_payout"
	case "payout_problem":
		return "false"
	case "max_rows":
		return "100"
	case "since":
		if q.Name == "SettlementReportLines" {
			return lastSettled.Format(time.RFC3339)
		}
		if q.Name == "ReservationStatsSince" {
			return day.Format(time.RFC3339)
		}
		if q.Name == "RiverJobMinutes" {
			return now.UTC().Add(-time.Hour).Truncate(time.Minute).Format(time.RFC3339)
		}
		return ""
	case "until":
		if q.Name == "RiverJobMinutes" {
			return now.UTC().Add(time.Minute).Truncate(time.Minute).Format(time.RFC3339)
		}
		return lastSettled.Add(24 * time.Hour).Format(time.RFC3339)
	case "day":
		return lastSettled.Format("2006-01-02")
	case "reservation":
		return itoa(s.NewestID)
	case "reservation_id":
		return itoa(s.NewestID)
	case "reservations":
		var ids []string
		for id := s.NewestID; id > 0 && id > s.NewestID-20; id-- {
			ids = append(ids, itoa(id))
		}
		return strings.Join(ids, ",")
	case "slot":
		if !a.Nullable {
			return itoa(s.BusySlot)
		}
	case "customer":
		if !a.Nullable {
			return itoa(s.BusyCustomer)
		}
	case "record_type":
		return "reservation"
	case "record_id":
		if !a.Nullable {
			return itoa(s.NewestID)
		}
	case "partner":
		return "partner"
	}
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
