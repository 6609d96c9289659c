// Package static holds the browser assets, embedded in the binary: htmx (vendored from the
// npm package htmx.org, version in the file name), Tally's stylesheet and its one script.
package static

import "embed"

// FS holds the files served under /static/.
//
//go:embed *.js *.css
var FS embed.FS
