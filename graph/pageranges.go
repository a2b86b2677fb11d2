package graph

import (
	"context"
	"encoding/json"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/matchsvc"
)

// PageRanges checks every `first` argument of the operation (1 to the
// list's maximum) before anything executes, and before the complexity
// limit: `first: 100000` is the range error `first: -1` gets, not a cost
// the complexity walk made of it. Register it before the complexity limit.
//
// Each fragment is checked once, however often it is spread, so the walk
// is linear in the document.
type PageRanges struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = PageRanges{}

// ExtensionName implements graphql.HandlerExtension.
func (PageRanges) ExtensionName() string { return "PageRanges" }

// Validate implements graphql.HandlerExtension.
func (PageRanges) Validate(graphql.ExecutableSchema) error { return nil }

// maxFirst is the largest `first` of a field; aidhub.MaxPage for the
// connections.
var maxFirst = map[string]int{
	"Query.matches":            matchsvc.MaxMatches,
	"Query.matchesForResource": matchsvc.MaxMatches,
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (PageRanges) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := rangeWalker{doc: oc.Doc, vars: oc.Variables, seen: map[string]bool{}}
	return w.walk(oc.Operation.SelectionSet, nil)
}

type rangeWalker struct {
	doc  *ast.QueryDocument
	vars map[string]any
	seen map[string]bool // fragments already checked
}

func (w *rangeWalker) walk(set ast.SelectionSet, path ast.Path) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			p := append(path[:len(path):len(path)], ast.PathName(s.Alias))
			if err := w.check(s, p); err != nil {
				return err
			}
			if err := w.walk(s.SelectionSet, p); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := w.walk(s.SelectionSet, path); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if w.seen[s.Name] {
				continue
			}
			w.seen[s.Name] = true
			if frag := w.doc.Fragments.ForName(s.Name); frag != nil {
				if err := w.walk(frag.SelectionSet, path); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (w *rangeWalker) check(f *ast.Field, path ast.Path) *gqlerror.Error {
	if f.Definition == nil {
		return nil
	}
	arg := f.Arguments.ForName("first")
	def := f.Definition.Arguments.ForName("first")
	if arg == nil || def == nil || def.Type.Name() != "Int" {
		return nil
	}
	v, err := arg.Value.Value(w.vars)
	if err != nil || v == nil {
		return nil // not a value validation let through; the resolver decides
	}
	n, ok := intValue(v)
	max := aidhub.MaxPage
	if m, found := maxFirst[f.ObjectDefinition.Name+"."+f.Name]; found {
		max = m
	}
	if ok && n >= 1 && n <= int64(max) {
		return nil
	}
	ae := aidhub.Invalid("first", "must be 1 to %d, got %s", max, formatInt(v, n, ok))
	gqlErr := &gqlerror.Error{Err: ae, Message: aidhub.ErrorMessage(ae), Path: path}
	if f.Position != nil {
		gqlErr.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	return gqlErr
}

func intValue(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

func formatInt(v any, n int64, ok bool) string {
	if ok {
		return strconv.FormatInt(n, 10)
	}
	if s, isNum := v.(json.Number); isNum {
		return s.String()
	}
	return "a value out of range"
}
