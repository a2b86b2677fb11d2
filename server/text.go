package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/aidhub/aidhub"
)

// screenBody refuses a GraphQL request whose body (POST) or parameters
// (GET) hold text that is not UTF-8: invalid bytes, or an escaped lone
// surrogate such as "\ud800". encoding/json would silently turn either
// into U+FFFD and the hub would store it; instead the request is refused
// with 400 and BAD_USER_INPUT naming the field, before GraphQL sees it,
// so nothing of it is applied. A valid body costs one utf8.Valid pass.
//
// It also refuses, in the same pass over the body, a list of more than
// maxList values anywhere in it (longList), before anything decodes it.
func screenBody(maxList int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Text that is not UTF-8 makes a body that is not JSON, so not a
		// GraphQL request: 400 whatever the media type. A list too long is
		// refused like variable coercion failures (the transport's rule).
		var bad, long *aidhub.Error
		switch {
		case r.Method == http.MethodGet:
			if bad = queryStringText(r.URL.RawQuery); bad == nil {
				long = queryStringLists(r.URL.RawQuery, maxList)
			}
		case r.Body != nil && r.Header.Get("Upgrade") == "":
			var buf bytes.Buffer
			if r.ContentLength > 0 && r.ContentLength <= 1<<20 {
				buf.Grow(int(r.ContentLength) + 1) // one allocation, not doubling to 2 MiB
			}
			_, err := buf.ReadFrom(r.Body)
			body := buf.Bytes()
			// The transport reads what was read, then the same error
			// (a body over the limit answers 413 there).
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
			if err == nil {
				if bad = bodyText(body); bad == nil {
					if path, rawQuery := longList(body, maxList); path != nil {
						var query string
						_ = json.Unmarshal(rawQuery, &query)
						long = tooLong(path, query, maxList)
					}
				}
			}
		}
		if bad != nil {
			writeScreenError(w, r, bad, false)
			return
		}
		if long != nil {
			writeScreenError(w, r, long, true)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}

// writeScreenError answers a request screenBody refused, without data: 400,
// or for a GraphQL request refused before it runs (asGraphQL) 200 with
// application/json as the transport answers those.
func writeScreenError(w http.ResponseWriter, r *http.Request, err *aidhub.Error, asGraphQL bool) {
	if info := infoFrom(r.Context()); info != nil {
		info.addCode(err.Code)
	}
	ct, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		ct = mediaJSON
	}
	status := http.StatusBadRequest
	if asGraphQL && ct == mediaJSON {
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{
			"message":    aidhub.ErrorMessage(err),
			"extensions": map[string]string{"code": err.Code, "field": err.Field},
		}},
	})
}

func notText(field, where string) *aidhub.Error {
	return aidhub.Invalid(field, "is not UTF-8 text (%s); send text as UTF-8", where)
}

// queryStringText checks the parameters of a GET request.
func queryStringText(raw string) *aidhub.Error {
	if !strings.Contains(raw, "%") || !strings.ContainsAny(raw, "89ABCDEFabcdef") {
		return nil // percent-escapes of bytes ≥ 0x80 start with %8 … %F
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil // the transport refuses a malformed query string
	}
	for _, name := range []string{"query", "operationName", "variables", "extensions"} {
		v := q.Get(name)
		switch {
		case name == "variables" || name == "extensions":
			if bad := jsonText([]byte(v), []string{name}); bad != nil {
				return bad
			}
		case !utf8.ValidString(v):
			return locateInQuery(name, v)
		}
	}
	return nil
}

// queryStringLists checks the variables of a GET request for long lists.
func queryStringLists(raw string, max int) *aidhub.Error {
	if !strings.Contains(raw, "variables=") {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil
	}
	if path, _ := longList([]byte(q.Get("variables")), max); path != nil {
		return tooLong(append([]string{"variables"}, path...), q.Get("query"), max)
	}
	return nil
}

// bodyText checks a POST body, a JSON object.
func bodyText(body []byte) *aidhub.Error {
	if utf8.Valid(body) && !mayHoldSurrogate(body) {
		return nil
	}
	return jsonText(body, nil)
}

// mayHoldSurrogate reports whether b holds anything like the escape of a
// UTF-16 surrogate (\uD800 to \uDFFF); jsonText then looks closer.
func mayHoldSurrogate(b []byte) bool {
	for {
		i := bytes.Index(b, []byte(`\u`))
		if i < 0 || i+3 >= len(b) {
			return false
		}
		if (b[i+2] == 'd' || b[i+2] == 'D') && strings.IndexByte("89abcdefABCDEF", b[i+3]) >= 0 {
			return true
		}
		b = b[i+2:]
	}
}

// jsonText finds the first string of a JSON document that is not text and
// names it by its path from the body ("query", "$in.title" for variables,
// "extensions.x"); a problem in the query is named by the argument whose
// literal holds it. It returns nil when every string is text or the
// document is not JSON (the transport refuses that).
func jsonText(doc []byte, prefix []string) *aidhub.Error {
	type frame struct {
		array     bool
		index     int
		key       string
		expectKey bool
	}
	var stack []frame
	path := func() []string {
		p := append([]string(nil), prefix...)
		for _, f := range stack {
			if f.array {
				p = append(p, "["+strconv.Itoa(f.index)+"]")
			} else {
				p = append(p, f.key)
			}
		}
		return p
	}
	// done is called after each complete value.
	done := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].expectKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or not JSON: the transport refuses that
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				stack = append(stack, frame{expectKey: true})
			case '[':
				stack = append(stack, frame{array: true})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			span := doc[start:dec.InputOffset()]
			isKey := len(stack) > 0 && !stack[len(stack)-1].array && stack[len(stack)-1].expectKey
			if at, ok := notTextAt(span); ok {
				p := path()
				if isKey {
					return notText(fieldName(p), "a key of this object")
				}
				if len(p) == 1 && p[0] == "query" {
					return locateQueryInJSON(span, at)
				}
				return notText(fieldName(p), "byte "+strconv.Itoa(int(start)+at)+" of the body")
			}
			if isKey {
				stack[len(stack)-1].key, stack[len(stack)-1].expectKey = tok, false
				continue
			}
			done()
		default:
			done()
		}
	}
}

// fieldName writes a body path as a field: variables as "$name.field[2]",
// other keys as "extensions.name".
func fieldName(p []string) string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case i == 0 && s == "variables" && len(p) > 1:
			b.WriteString("$")
			continue
		case strings.HasPrefix(s, "["):
		case i > 0 && !(i == 1 && p[0] == "variables"):
			b.WriteString(".")
		}
		b.WriteString(s)
	}
	return b.String()
}

// notTextAt returns the offset in span (a JSON string token, perhaps with
// separators before it) of the first invalid byte or lone surrogate escape.
func notTextAt(span []byte) (int, bool) {
	i := bytes.IndexByte(span, '"')
	if i < 0 {
		return 0, false
	}
	for i++; i < len(span); {
		c := span[i]
		switch {
		case c == '"':
			return 0, false
		case c == '\\' && i+1 < len(span) && span[i+1] == 'u':
			r, ok := hex4(span[i+2:])
			if !ok {
				return 0, false // not JSON: the transport refuses it
			}
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return i, true
			case r >= 0xD800 && r <= 0xDBFF:
				if i+7 < len(span) && span[i+6] == '\\' && span[i+7] == 'u' {
					if lo, ok := hex4(span[i+8:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						i += 12
						continue
					}
				}
				return i, true
			}
			i += 6
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(span[i:])
			if r == utf8.RuneError && size == 1 {
				return i, true
			}
			i += size
		}
	}
	return 0, false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 16)
	return rune(n), err == nil
}

// locateQueryInJSON names where in the query the string token span holds
// something that is not text at byte at.
func locateQueryInJSON(span []byte, at int) *aidhub.Error {
	open := bytes.IndexByte(span, '"')
	var prefix, query string
	if json.Unmarshal(append(append([]byte(nil), span[open:at]...), '"'), &prefix) != nil ||
		json.Unmarshal(span[open:], &query) != nil {
		return notText("query", "in the query")
	}
	return locate(query, utf8.RuneCountInString(prefix))
}

// locateInQuery does the same for a query that came as a GET parameter.
func locateInQuery(name, v string) *aidhub.Error {
	if name != "query" {
		return notText(name, "a parameter of the URL")
	}
	i := 0
	for i < len(v) {
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	return locate(strings.ToValidUTF8(v, "\uFFFD"), utf8.RuneCountInString(v[:i]))
}

// locate names the argument of query (with the invalid text replaced)
// whose literal holds rune offset off: "input.title" in
// `createResource(input: {title: "…"})`; otherwise the query's line and
// column.
func locate(query string, off int) *aidhub.Error {
	line, col := 1, 1
	for i, r := range []rune(query) {
		if i == off {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	where := fmt.Sprintf("line %d, column %d of the query", line, col)
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return notText("query", where)
	}
	var in func(set ast.SelectionSet) string
	in = func(set ast.SelectionSet) string {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				for _, a := range sel.Arguments {
					if p := valueAt(a.Value, a.Name, off); p != "" {
						return p
					}
				}
				if p := in(sel.SelectionSet); p != "" {
					return p
				}
			case *ast.InlineFragment:
				if p := in(sel.SelectionSet); p != "" {
					return p
				}
			}
		}
		return ""
	}
	for _, op := range doc.Operations {
		for _, v := range op.VariableDefinitions {
			if p := valueAt(v.DefaultValue, "$"+v.Variable, off); p != "" {
				return notText(p, where)
			}
		}
		if p := in(op.SelectionSet); p != "" {
			return notText(p, where)
		}
	}
	for _, f := range doc.Fragments {
		if p := in(f.SelectionSet); p != "" {
			return notText(p, where)
		}
	}
	return notText("query", where)
}

// valueAt returns the path of the string literal within v that holds rune
// offset off, or "".
func valueAt(v *ast.Value, path string, off int) string {
	if v == nil {
		return ""
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		if v.Position != nil && v.Position.Start <= off && off < v.Position.End {
			return path
		}
	case ast.ListValue:
		for i, c := range v.Children {
			if p := valueAt(c.Value, fmt.Sprintf("%s[%d]", path, i), off); p != "" {
				return p
			}
		}
	case ast.ObjectValue:
		for _, c := range v.Children {
			if p := valueAt(c.Value, path+"."+c.Name, off); p != "" {
				return p
			}
		}
	}
	return ""
}
