package tally_test

import (
	"go/build"
	"slices"
	"testing"
)

// TestLayers keeps the packages in their layers (STYLE 11): pages reach the database only
// through the domain packages, and the domain knows nothing of pages.
func TestLayers(t *testing.T) {
	rules := []struct {
		dir       string
		forbidden []string
	}{
		{"web", []string{"tally/queries"}},
		{"views", []string{"tally/queries", "tally/web"}},
		{"reservations", []string{"tally/web", "tally/views"}},
		{"accounts", []string{"tally/web", "tally/views"}},
		{"audit", []string{"tally/web", "tally/views"}},
		{"jobs", []string{"tally/web", "tally/views"}},
		{"operations", []string{"tally/web", "tally/views"}},
		{"analysis", []string{"tally/web", "tally/views"}},
	}
	for _, r := range rules {
		pkg, err := build.Default.ImportDir(r.dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", r.dir, err)
		}
		for _, imp := range pkg.Imports { // the package's own files, not its tests
			if slices.Contains(r.forbidden, imp) {
				t.Errorf("package %s imports %s", r.dir, imp)
			}
		}
	}
}
