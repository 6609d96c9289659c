package analysis

import (
	"strings"
	"unicode/utf8"

	"tally"
)

// MaxStatement bounds a pasted statement, in characters.
const MaxStatement = 20_000

// The first words a read-only statement may start with; EXPLAIN wraps only these (and the
// writes, which are refused).
var readStarts = map[string]bool{"select": true, "with": true, "values": true, "table": true}

// denied are functions refused in an analysed statement, whatever the role and the read-only
// transaction would do with them. set_config could set the role back to the connecting user
// (SET LOCAL ROLE is only a setting) and with it leave the read-only role; the *_to_xml ones
// run SQL given as text, hidden from the plan; the session advisory locks outlive the rolled
// back transaction; dblink reaches other databases; the backend signals reach other sessions.
var denied = map[string]string{
	"set_config":                  "changes the session's settings",
	"query_to_xml":                "runs SQL given as text",
	"query_to_xmlschema":          "runs SQL given as text",
	"query_to_xml_and_xmlschema":  "runs SQL given as text",
	"cursor_to_xml":               "reads a cursor",
	"cursor_to_xmlschema":         "reads a cursor",
	"pg_advisory_lock":            "takes a lock that outlives the transaction",
	"pg_advisory_lock_shared":     "takes a lock that outlives the transaction",
	"pg_try_advisory_lock":        "takes a lock that outlives the transaction",
	"pg_try_advisory_lock_shared": "takes a lock that outlives the transaction",
	"pg_cancel_backend":           "acts on other sessions",
	"pg_terminate_backend":        "acts on other sessions",
	"lo_import":                   "reads server files",
	"lo_export":                   "writes server files",
}

// writeWords start a statement that changes something.
var writeWords = map[string]bool{
	"insert": true, "update": true, "delete": true, "merge": true, "copy": true, "truncate": true, "create": true,
	"drop": true, "alter": true, "grant": true, "revoke": true, "vacuum": true, "analyze": true, "analyse": true,
	"call": true, "do": true, "lock": true, "set": true, "reset": true, "begin": true, "start": true, "commit": true,
	"rollback": true, "end": true, "abort": true, "prepare": true, "execute": true, "deallocate": true, "declare": true,
	"fetch": true, "move": true, "close": true, "listen": true, "notify": true, "unlisten": true, "discard": true,
	"refresh": true, "reindex": true, "cluster": true, "comment": true, "security": true, "load": true,
	"checkpoint": true, "import": true, "reassign": true, "savepoint": true, "release": true,
}

// token is one lexical element of a statement: enough of PostgreSQL's lexer to find the
// statement's words outside strings and comments.
type token struct {
	kind byte   // 'w' word, 'q' quoted identifier, 's' string, 'p' $n parameter, ';', or the punctuation itself
	text string // a word lowercased, a quoted identifier as written inside its quotes
	pos  int
}

// lex splits sql into tokens, skipping whitespace, comments, and the contents of strings.
func lex(sql string) ([]token, error) {
	var out []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case strings.HasPrefix(sql[i:], "--"):
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(sql)
			}
		case strings.HasPrefix(sql[i:], "/*"):
			depth, j := 0, i
			for j < len(sql) {
				if strings.HasPrefix(sql[j:], "/*") {
					depth, j = depth+1, j+2
				} else if strings.HasPrefix(sql[j:], "*/") {
					depth, j = depth-1, j+2
					if depth == 0 {
						break
					}
				} else {
					j++
				}
			}
			if depth != 0 {
				return nil, tally.Errorf(tally.EINVALID, "A /* comment */ is not closed.")
			}
			i = j
		case (c == 'u' || c == 'U') && i+1 < len(sql) && sql[i+1] == '&':
			return nil, tally.Errorf(tally.EINVALID, "Refused: Unicode escapes (U&'…', U&\"…\") are not accepted in an analysed statement; write the characters themselves.")
		case c == '\'':
			j, err := endQuote(sql, i, '\'', false)
			if err != nil {
				return nil, err
			}
			out, i = append(out, token{kind: 's', pos: i}), j
		case (c == 'e' || c == 'E') && i+1 < len(sql) && sql[i+1] == '\'':
			j, err := endQuote(sql, i+1, '\'', true)
			if err != nil {
				return nil, err
			}
			out, i = append(out, token{kind: 's', pos: i}), j
		case c == '"':
			j, err := endQuote(sql, i, '"', false)
			if err != nil {
				return nil, err
			}
			out, i = append(out, token{kind: 'q', text: strings.ReplaceAll(sql[i+1:j-1], `""`, `"`), pos: i}), j
		case c == '$' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9':
			j := i + 1
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			out, i = append(out, token{kind: 'p', text: sql[i+1 : j], pos: i}), j
		case c == '$':
			// A dollar-quoted string: $$…$$ or $tag$…$tag$ (a digit after $ is a parameter).
			j := i + 1
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			if j >= len(sql) || sql[j] != '$' {
				out, i = append(out, token{kind: '$', pos: i}), i+1
				continue
			}
			tag := sql[i : j+1]
			end := strings.Index(sql[j+1:], tag)
			if end < 0 {
				return nil, tally.Errorf(tally.EINVALID, "A %s-quoted string is not closed.", tag)
			}
			out, i = append(out, token{kind: 's', pos: i}), j+1+end+len(tag)
		case isWordByte(c) && (c < '0' || c > '9'):
			j := i
			for j < len(sql) && (isWordByte(sql[j]) || sql[j] == '$') {
				j++
			}
			out, i = append(out, token{kind: 'w', text: strings.ToLower(sql[i:j]), pos: i}), j
		case c >= '0' && c <= '9':
			j := i
			for j < len(sql) && (isWordByte(sql[j]) || sql[j] == '.') {
				j++
			}
			out, i = append(out, token{kind: 'n', pos: i}), j
		default:
			out, i = append(out, token{kind: c, pos: i}), i+1
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// endQuote returns the index after the quote closing the one at sql[i]; a doubled quote is
// part of the text, and so is a backslash-escaped one in an E” string.
func endQuote(sql string, i int, q byte, backslash bool) (int, error) {
	for j := i + 1; j < len(sql); j++ {
		switch {
		case backslash && sql[j] == '\\':
			j++
		case sql[j] == q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1, nil
		}
	}
	if q == '"' {
		return 0, tally.Errorf(tally.EINVALID, "A quoted name (\"…) is not closed.")
	}
	return 0, tally.Errorf(tally.EINVALID, "A string ('…) is not closed.")
}

// CheckStatement refuses, before anything runs, what is plainly not one read-only statement:
// several statements, a statement that writes or is not a query, a data-modifying WITH, a row
// lock, a denied function. It returns the statement without a trailing semicolon. What it lets through still runs read-only, under the analysis role, with
// a timeout, and rolled back: this is the first of four walls, the one that explains itself
// best.
func CheckStatement(sql string) (string, error) {
	if !utf8.ValidString(sql) || strings.ContainsRune(sql, 0) {
		return "", tally.Errorf(tally.EINVALID, "The statement holds characters that are not text.")
	}
	if n := utf8.RuneCountInString(sql); n > MaxStatement {
		return "", tally.Errorf(tally.EINVALID, "The statement is too long (%d characters; at most %d).", n, MaxStatement)
	}
	toks, err := lex(sql)
	if err != nil {
		return "", err
	}
	if len(toks) == 0 {
		return "", tally.Errorf(tally.EINVALID, "Paste a statement to analyse.")
	}
	end := len(sql)
	for i, t := range toks {
		if t.kind != ';' {
			continue
		}
		for _, rest := range toks[i+1:] {
			if rest.kind != ';' {
				return "", tally.Errorf(tally.EINVALID, "Refused: one statement at a time, and this holds more than one (a ; is followed by more). Nothing was run.")
			}
		}
		toks, end = toks[:i], t.pos
		break
	}
	if len(toks) == 0 {
		return "", tally.Errorf(tally.EINVALID, "Paste a statement to analyse.")
	}
	first := toks[0]
	switch {
	case first.kind == '(' || first.kind == 'w' && readStarts[first.text]:
	case first.kind == 'w' && first.text == "explain":
		return "", tally.Errorf(tally.EINVALID, "Paste the statement without EXPLAIN: Tally adds EXPLAIN (ANALYZE, BUFFERS) itself.")
	case first.kind == 'w' && writeWords[first.text]:
		return "", tally.Errorf(tally.EUNPROCESSABLE, "Refused: %s is not a read-only statement. Only SELECT, WITH, VALUES and TABLE statements are analysed; nothing was run.", strings.ToUpper(first.text))
	default:
		return "", tally.Errorf(tally.EINVALID, "A statement to analyse starts with SELECT, WITH, VALUES or TABLE.")
	}
	for i, t := range toks {
		word := t.kind == 'w' || t.kind == 'q'
		if word {
			name := t.text
			if why, ok := denied[name]; ok {
				return "", tally.Errorf(tally.EUNPROCESSABLE, "Refused: %s %s, which an analysed statement may not do. Nothing was run.", name, why)
			}
			if strings.HasPrefix(name, "dblink") {
				return "", tally.Errorf(tally.EUNPROCESSABLE, "Refused: %s reaches another database, which an analysed statement may not do. Nothing was run.", name)
			}
		}
		if t.kind == 'p' && (len(t.text) > 3 || t.text > "100" && len(t.text) == 3) {
			return "", tally.Errorf(tally.EINVALID, "$%s: a statement has at most 100 parameters.", t.text)
		}
		if t.kind == 'w' && t.text == "for" && i+1 < len(toks) && toks[i+1].kind == 'w' {
			next := toks[i+1].text
			if next == "update" || next == "share" || next == "no" || next == "key" {
				return "", tally.Errorf(tally.EUNPROCESSABLE, "Refused: FOR %s locks the rows it reads, and analysis only reads. Nothing was run.", strings.ToUpper(next))
			}
		}
		if t.kind == '(' && i+1 < len(toks) && toks[i+1].kind == 'w' {
			switch next := toks[i+1].text; next {
			case "insert", "update", "delete", "merge":
				return "", tally.Errorf(tally.EUNPROCESSABLE, "Refused: the statement holds a %s (a data-modifying WITH), and analysis only reads. Nothing was run.", strings.ToUpper(next))
			}
		}
	}
	return strings.TrimSpace(sql[:end]), nil
}
