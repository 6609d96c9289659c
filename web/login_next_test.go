package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
)

// checkNext fails unless got is a redirect target that stays on this site whatever a browser
// makes of it: one "/" and then neither "/" nor "\", no control character, and no scheme
// or host when parsed.
func checkNext(t *testing.T, next, got string) {
	t.Helper()
	if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
		t.Fatalf("safeNext(%q) = %q: not a single leading slash", next, got)
	}
	if strings.ContainsFunc(got, unicode.IsControl) || strings.Contains(got, "\\") {
		t.Fatalf("safeNext(%q) = %q: holds a control character or a backslash", next, got)
	}
	u, err := url.Parse(got)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		t.Fatalf("safeNext(%q) = %q: parses as %#v (%v)", next, got, u, err)
	}
	if path, err := url.PathUnescape(u.EscapedPath()); err != nil || strings.HasPrefix(path, "//") || strings.ContainsAny(path, "\\") {
		t.Fatalf("safeNext(%q) = %q: decodes to %q", next, got, path)
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, seed := range []string{
		"", "/", "/reservations?status=held&q=kim", "/reservations/42#top", "//evil.example", "/\t/evil.example/",
		"/%2F%2Fevil.example", "/%5Cevil.example", "\\\\evil.example", "https://evil.example/", "/%09/evil", "/a/../b",
		"/\u0085/evil", "/?next=%0d%0aSet-Cookie:x", "javascript:alert(1)", "/%zz", "/é", " /x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, next string) {
		checkNext(t, next, safeNext(next))
	})
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"/reservations?status=held&q=kim": "/reservations?status=held&q=kim",
		"/reservations/42":                "/reservations/42",
		"/reservations/42#history":        "/reservations/42",
		"/users?q=a%20b":                  "/users?q=a%20b",
		"/audit?actor=x%2Fy":              "/audit?actor=x%2Fy",
		"/":                               "/",
		"":                                "/",
		"reservations":                    "/",
		"//evil.example/":                 "/",
		"/\t/evil.example/":               "/",
		"/\n/evil.example/":               "/",
		"/\\evil.example/":                "/",
		"/%2F%2Fevil.example/":            "/",
		"/%2F/evil.example/":              "/",
		"/%5Cevil.example/":               "/",
		"/%5C%5Cevil.example/":            "/",
		"/%09/evil.example/":              "/",
		"/x?y=%0D%0ALocation:%20//evil":   "/",
		"https://evil.example/":           "/",
		"/\x7f/evil.example":              "/",
		"/\u0085evil":                     "/",
		"/%":                              "/",
	} {
		got := safeNext(next)
		if got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
		checkNext(t, next, got)
	}
}
