// Package static holds the browser assets, embedded in the binary: htmx (vendored from the
// npm package htmx.org, version in the file name), Tally's stylesheet and its one script.
package static

import "embed"

// FS holds the files served under /static/.
//
//go:embed *.js *.css *.svg
var FS embed.FS

// Favicon is Tally's icon, also served at /favicon.ico, where browsers look on their own.
//
//go:embed favicon.svg
var Favicon []byte
