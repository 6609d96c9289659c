package jobs

import (
	"encoding/json"

	"github.com/riverqueue/river"
)

// Notice events: what happened to a reservation that its customer is told about.
const (
	EventApproved  = "approved"
	EventRejected  = "rejected"
	EventCancelled = "cancelled"
	EventExpired   = "expired"
)

// NotifyCustomerArgs tells a customer that their reservation changed, through the partner API.
type NotifyCustomerArgs struct {
	ReservationID int64  `json:"reservation_id"`
	Event         string `json:"event"`
	CustomerEmail string `json:"customer_email"`
}

// Kind is the job's name in River.
func (NotifyCustomerArgs) Kind() string { return "notify_customer" }

// InsertOpts: the partner queue, 5 attempts.
func (NotifyCustomerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePartner, MaxAttempts: 5}
}

// IdempotencyKey is the same every time the job runs, so the partner sends one notice.
func (a NotifyCustomerArgs) IdempotencyKey() string {
	return "notice-" + itoa(a.ReservationID) + "-" + a.Event
}

// PartnerPayoutArgs asks the partner to pay out a settled reservation.
type PartnerPayoutArgs struct {
	ReservationID int64  `json:"reservation_id"`
	AmountCents   int64  `json:"amount_cents"`
	Currency      string `json:"currency"`
}

// Kind is the job's name in River.
func (PartnerPayoutArgs) Kind() string { return "partner_payout" }

// InsertOpts: the partner queue, 10 attempts.
func (PartnerPayoutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePartner, MaxAttempts: 10}
}

// IdempotencyKey is derived from the reservation: however often the job runs, one payout.
func (a PartnerPayoutArgs) IdempotencyKey() string { return "payout-" + itoa(a.ReservationID) }

// ExpireHoldsArgs expires held reservations whose hold has passed.
type ExpireHoldsArgs struct{}

// Kind is the job's name in River.
func (ExpireHoldsArgs) Kind() string { return "expire_holds" }

// InsertOpts: the maintenance queue. Runs that overlap are safe (SKIP LOCKED).
func (ExpireHoldsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance}
}

// ForReservation are the insert options of a reservation's job: the reservation in the
// metadata, so that the reservation's page finds its jobs (River takes metadata only from
// the options given at insert, not from the args' InsertOpts).
func ForReservation(id int64) *river.InsertOpts {
	return &river.InsertOpts{Metadata: []byte(ReservationMetadata(id))}
}

// ReservationMetadata is the metadata, and the JobList filter, of a reservation's jobs.
func ReservationMetadata(id int64) string {
	b, _ := json.Marshal(map[string]int64{"reservation_id": id})
	return string(b)
}
