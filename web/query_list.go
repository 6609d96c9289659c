package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"tally/analysis"
	"tally/views"
)

// queryList is the console's first page: the catalogue, the paste form, recent comparisons.
func (s *Server) queryList(c echo.Context) error {
	ctx := c.Request().Context()
	hypo, err := s.analysis.HypoPG(ctx)
	if err != nil {
		return err
	}
	recent, err := s.analysis.List(ctx, 0)
	if err != nil {
		return err
	}
	if len(recent) > 10 {
		recent = recent[:10]
	}
	return render(c, http.StatusOK, views.QueryList(s.page(c, "Query analysis", "queries"),
		views.QueryCatalogue{Queries: analysis.Catalogue(), HypoPG: hypo, Recent: recent}))
}

// queryComparisonList lists the saved comparisons, newest first, by pages.
func (s *Server) queryComparisonList(c echo.Context) error {
	before, err := idOrZero("before", c.QueryParam("before"))
	if err != nil {
		return err
	}
	lines, err := s.analysis.List(c.Request().Context(), before)
	if err != nil {
		return err
	}
	older := ""
	if len(lines) == analysis.ListPage {
		older = fmt.Sprintf("/queries/comparisons?before=%d", lines[len(lines)-1].ID)
	}
	return render(c, http.StatusOK, views.QueryComparisons(s.page(c, "Saved comparisons", "queries"), lines, older))
}
