package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"tally/reservations"
	"tally/views"
)

func (s *Server) slotList(c echo.Context) error {
	ctx := c.Request().Context()
	resourceID, err := optionalID("resource", c.QueryParam("resource"))
	if err != nil {
		return err
	}
	res, err := s.bookings.Resources(ctx)
	if err != nil {
		return err
	}
	resources := make([]views.ResourceLine, len(res))
	for i, r := range res {
		resources[i] = views.ResourceLine{ID: r.ID, Name: r.Name, Kind: r.Kind, Slots: r.Slots, Capacity: r.Capacity, Reserved: r.Reserved}
	}
	list, err := s.bookings.UpcomingSlots(ctx, resourceID, nil, 100)
	if err != nil {
		return err
	}
	slots := make([]views.SlotLine, len(list))
	for i, sl := range list {
		slots[i] = views.SlotLine{ID: sl.ID, Resource: sl.Resource, StartsAt: sl.StartsAt, Capacity: sl.Capacity,
			Reserved: sl.Reserved, Price: reservations.Money(sl.PriceCents, sl.Currency)}
	}
	var selected int64
	if resourceID != nil {
		selected = *resourceID
	}
	return render(c, http.StatusOK, views.Slots(s.page(c, "Slots", "slots"), resources, slots, selected))
}
