package server

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/aidhub/aidhub"
)

// longList looks through a JSON document, byte by byte and without
// decoding it, for an array of more than max values. Decoding 45,000 IDs
// and coercing them to their variable's type costs tens of milliseconds
// and megabytes; counting them costs about a millisecond a MiB. It returns
// the path of the first such array from the top of the document (nil when
// there is none or the document is not JSON), and the raw "query" string
// of the document, which names the argument the list is given to
// (graph.ListLimits then applies the smaller maxima of each argument, on
// lists decoded at most max long).
func longList(body []byte, max int) (path []string, query []byte) {
	if max <= 0 {
		return nil, nil
	}
	type frame struct {
		array     bool
		count     int
		key       []byte // the key being read or whose value is being read
		expectKey bool
	}
	var stack []frame
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch c {
		case ' ', '\t', '\n', '\r', ',', ':':
			if len(stack) > 0 && !stack[len(stack)-1].array {
				switch c {
				case ',':
					stack[len(stack)-1].expectKey = true
				case ':':
					stack[len(stack)-1].expectKey = false
				}
			}
			continue
		case ']', '}':
			if len(stack) == 0 {
				return nil, nil // not JSON: the transport refuses it
			}
			stack = stack[:len(stack)-1]
			continue
		}
		// A key or the start of a value.
		if n := len(stack); n > 0 && path == nil {
			top := &stack[n-1]
			if top.array {
				top.count++
				if top.count > max {
					path = make([]string, 0, n)
					for _, f := range stack {
						if f.array {
							path = append(path, "["+strconv.Itoa(f.count-1)+"]")
						} else {
							var k string
							if json.Unmarshal(f.key, &k) != nil {
								k = "?"
							}
							path = append(path, k)
						}
					}
					// Without the index of the value over max.
					path = path[:len(path)-1]
				}
			}
		}
		switch c {
		case '{':
			stack = append(stack, frame{expectKey: true})
		case '[':
			stack = append(stack, frame{array: true})
		case '"':
			end := stringEnd(body, i)
			if end < 0 {
				return nil, nil
			}
			if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].expectKey {
				stack[n-1].key = body[i : end+1]
			} else if n == 1 && string(stack[0].key) == `"query"` {
				query = body[i : end+1]
			}
			i = end
			if path != nil && query != nil {
				return path, query
			}
		default: // a number, true, false or null: skip to its end
			for i+1 < len(body) && !strings.ContainsRune(" \t\n\r,:]}", rune(body[i+1])) {
				i++
			}
		}
	}
	return path, query
}

// stringEnd returns the index of the quote closing the JSON string that
// opens at body[i], or -1.
func stringEnd(body []byte, i int) int {
	for j := i + 1; j < len(body); j++ {
		switch body[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

// tooLong is the refusal of the list at path (from the body's top), named
// by the argument the query gives it to.
func tooLong(path []string, query string, max int) *aidhub.Error {
	field := fieldName(path)
	if len(path) >= 2 && path[0] == "variables" {
		if query != "" {
			if arg := variableUse(query, path[1]); arg != "" {
				field = arg
				for _, p := range path[2:] {
					if !strings.HasPrefix(p, "[") {
						field += "."
					}
					field += p
				}
			}
		}
	}
	return &aidhub.Error{
		Code:    aidhub.EBADINPUT,
		Field:   field,
		Message: fmt.Sprintf("a list of more than %d values; no list may hold more", max),
		Details: map[string]any{"maxLength": max},
	}
}

// variableUse returns the path of the first argument (or input field) the
// query gives variable name to: "filter.organizationIds" for
// `searchResources(filter: {organizationIds: $ids})`; "" if none.
func variableUse(query, name string) string {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return ""
	}
	var inValue func(v *ast.Value, path string) string
	inValue = func(v *ast.Value, path string) string {
		if v == nil {
			return ""
		}
		switch v.Kind {
		case ast.Variable:
			if v.Raw == name {
				return path
			}
		case ast.ListValue:
			for i, c := range v.Children {
				if p := inValue(c.Value, fmt.Sprintf("%s[%d]", path, i)); p != "" {
					return p
				}
			}
		case ast.ObjectValue:
			for _, c := range v.Children {
				if p := inValue(c.Value, path+"."+c.Name); p != "" {
					return p
				}
			}
		}
		return ""
	}
	var inSet func(set ast.SelectionSet) string
	inSet = func(set ast.SelectionSet) string {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				for _, a := range sel.Arguments {
					if p := inValue(a.Value, a.Name); p != "" {
						return p
					}
				}
				if p := inSet(sel.SelectionSet); p != "" {
					return p
				}
			case *ast.InlineFragment:
				if p := inSet(sel.SelectionSet); p != "" {
					return p
				}
			}
		}
		return ""
	}
	for _, op := range doc.Operations {
		if p := inSet(op.SelectionSet); p != "" {
			return p
		}
	}
	for _, f := range doc.Fragments {
		if p := inSet(f.SelectionSet); p != "" {
			return p
		}
	}
	return ""
}
