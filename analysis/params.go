package analysis

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"tally"
)

// Param is one parameter ($n) of a statement: its name (from the catalogue, or $n for a
// pasted statement), its PostgreSQL type, and the value given, as text; nil is NULL.
type Param struct {
	Name  string  `json:"name"`
	Type  string  `json:"type"`
	Value *string `json:"value"`
}

// Display is the value as the form shows it: empty for NULL.
func (p Param) Display() string {
	if p.Value == nil {
		return ""
	}
	return *p.Value
}

// maxParamValue bounds a parameter's text, in characters.
const maxParamValue = 2000

// PostgreSQL type OIDs the parameters may have.
const (
	oidBool        = 16
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidFloat4      = 700
	oidFloat8      = 701
	oidUnknown     = 705
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidInterval    = 1186
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
	oidJSON        = 114
	oidInt4Array   = 1007
	oidInt8Array   = 1016
	oidTextArray   = 1009
)

var typeNames = map[uint32]string{
	oidBool: "boolean", oidInt8: "bigint", oidInt2: "smallint", oidInt4: "integer", oidText: "text", oidFloat4: "real",
	oidFloat8: "double precision", oidUnknown: "text", oidBPChar: "character", oidVarchar: "character varying",
	oidDate: "date", oidTimestamp: "timestamp", oidTimestamptz: "timestamptz", oidInterval: "interval",
	oidNumeric: "numeric", oidUUID: "uuid", oidJSONB: "jsonb", oidJSON: "json", oidInt4Array: "integer[]",
	oidInt8Array: "bigint[]", oidTextArray: "text[]", 0: "text",
}

// typeName names a parameter type for the form; "" when parameters of that type are not taken.
func typeName(oid uint32) string { return typeNames[oid] }

// normalize checks a parameter's text against its type and returns it as PostgreSQL will
// read it, so that a malformed value is refused here, with a sentence, before anything runs.
func normalize(name string, oid uint32, v string) (string, error) {
	v = strings.TrimSpace(v)
	bad := func(format string, args ...any) error {
		return tally.Errorf(tally.EINVALID, "%s: "+format, append([]any{name}, args...)...)
	}
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", bad("not text.")
	}
	if utf8.RuneCountInString(v) > maxParamValue {
		return "", bad("too long (at most %d characters).", maxParamValue)
	}
	intOf := func(s string, bits int) (string, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, bits)
		if err != nil {
			return "", bad("%q is not a whole number that fits a %s.", short(s), typeName(oid))
		}
		return strconv.FormatInt(n, 10), nil
	}
	switch oid {
	case oidInt2:
		return intOf(v, 16)
	case oidInt4:
		return intOf(v, 32)
	case oidInt8:
		return intOf(v, 64)
	case oidFloat4, oidFloat8, oidNumeric:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "", bad("%q is not a number.", short(v))
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case oidBool:
		switch strings.ToLower(v) {
		case "true", "t", "yes", "on", "1":
			return "true", nil
		case "false", "f", "no", "off", "0":
			return "false", nil
		}
		return "", bad("%q is not true or false.", short(v))
	case oidText, oidVarchar, oidBPChar, oidUnknown, 0:
		return v, nil
	case oidDate:
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return "", bad("%q is not a date like 2026-01-31.", short(v))
		}
		return t.Format("2006-01-02"), nil
	case oidTimestamp, oidTimestamptz:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC().Format(time.RFC3339Nano), nil
			}
		}
		return "", bad("%q is not a time like 2026-01-31 14:00 (UTC) or 2026-01-31T14:00:00+01:00.", short(v))
	case oidInterval:
		d, err := time.ParseDuration(v)
		if err != nil {
			return "", bad("%q is not a duration like 90s, 15m or 2h.", short(v))
		}
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " seconds", nil
	case oidUUID:
		u, err := uuid.Parse(v)
		if err != nil {
			return "", bad("%q is not a UUID.", short(v))
		}
		return u.String(), nil
	case oidJSONB, oidJSON:
		if !json.Valid([]byte(v)) {
			return "", bad("not JSON.")
		}
		var b bytes.Buffer
		if err := json.Compact(&b, []byte(v)); err != nil {
			return "", bad("not JSON.")
		}
		return b.String(), nil
	case oidInt4Array, oidInt8Array:
		items := splitList(v)
		out := make([]string, len(items))
		for i, it := range items {
			n, err := intOf(it, map[uint32]int{oidInt4Array: 32, oidInt8Array: 64}[oid])
			if err != nil {
				return "", err
			}
			out[i] = n
		}
		return "{" + strings.Join(out, ",") + "}", nil
	case oidTextArray:
		items := splitList(v)
		out := make([]string, len(items))
		for i, it := range items {
			it = strings.TrimSpace(it)
			if len(it) >= 2 && it[0] == '"' && it[len(it)-1] == '"' {
				it = it[1 : len(it)-1]
			}
			out[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(it) + `"`
		}
		return "{" + strings.Join(out, ",") + "}", nil
	}
	return "", bad("parameters of this type (OID %d) cannot be given here.", oid)
}

// splitList reads a list parameter: "1, 2, 3", or "{1,2,3}" as PostgreSQL writes arrays.
func splitList(v string) []string {
	v = strings.TrimSpace(v)
	v = strings.TrimSuffix(strings.TrimPrefix(v, "{"), "}")
	if strings.TrimSpace(v) == "" {
		return nil
	}
	return strings.Split(v, ",")
}

func short(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}
