package graph

import (
	"context"
	"hash/maphash"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// The query shape limits' codes (errorcodes.go) are registered as protocol
// errors so GraphQL-over-HTTP answers them with 4xx before anything executes.
func init() {
	errcode.RegisterErrorType(CodeDepthLimit, errcode.KindProtocol)
	errcode.RegisterErrorType(CodeAliasLimit, errcode.KindProtocol)
	errcode.RegisterErrorType(CodeSelectionLimit, errcode.KindProtocol)
}

// ShapeLimits refuses operations nested deeper than MaxDepth, with more
// than MaxAliases aliased fields (the cheap way to multiply work that the
// complexity limit counts only once per alias), or with more than
// MaxSelections fields once every fragment spread is expanded.
//
// The last is what keeps a fragment fan-out cheap to refuse: fragment F0
// spreading F1 twice, F1 spreading F2 twice, … is a few hundred bytes that
// expand to 2^n fields, and gqlgen's complexity walk expands every spread.
// ShapeLimits measures each fragment once (memoized by name), so its cost
// follows the size of the document, not of the expansion; register it
// before the complexity limit so that a fan-out never reaches that walk.
//
// Validation itself costs more than the document weighs in two ways:
// gqlparser walks every operation and every fragment definition with each
// fragment it reaches, so 900 fragments that spread one another (40 kB,
// under the token limit) take half a second; and it compares the fields
// of one selection set that share a response name pair by pair, so
// `{ viewer { role role … } }` with 9,000 `role` (45 kB) takes seconds.
// Before gqlgen parses and validates a document of 256 bytes or more,
// ShapeLimits reads its tokens (linear, bounded by MaxTokens, allocating
// little: lexedWork) and counts both, stopping at MaxValidated; a document
// it passed is remembered, so the next request with it pays one look-up.
type ShapeLimits struct {
	MaxDepth      int
	MaxAliases    int
	MaxSelections int
	MaxValidated  int
	MaxTokens     int

	checked *lru.LRU[struct{}]
	seed    maphash.Seed
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = &ShapeLimits{}

// minScreened is the size under which a document cannot hold enough
// fragments or fields of one name to be slow to validate: 80 fields named
// id make 3,160 pairs, 8 fragments a few hundred steps.
const minScreened = 256

// MutateOperationParameters implements graphql.OperationParameterMutator:
// it refuses a document whose validation would take more than
// MaxValidated steps (validationWork).
func (l *ShapeLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if l.MaxValidated <= 0 || len(p.Query) < minScreened {
		return nil
	}
	// Remembered by a keyed hash, not by the document: 1,000 documents
	// of up to 1 MiB each would be a lot to keep.
	key := strconv.FormatUint(maphash.String(l.seed, p.Query), 36)
	if _, ok := l.checked.Get(ctx, key); ok {
		return nil
	}
	n, ok := lexedWork(p.Query, l.MaxValidated, l.MaxTokens)
	if !ok {
		// Not a document lexedWork reads: count on the syntax tree,
		// lest an odd spelling pass unscreened.
		doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, l.MaxTokens)
		if err != nil {
			return nil // gqlgen's parser says what is wrong
		}
		n = validationWork(doc, l.MaxValidated)
	}
	if n > l.MaxValidated {
		err := gqlerror.Errorf("the document takes more than %d steps to validate: each fragment is checked again "+
			"wherever it is spread and fields of one name are compared pair by pair; use fewer fragments or "+
			"fewer fields of one name", l.MaxValidated)
		errcode.Set(err, CodeSelectionLimit)
		return err
	}
	l.checked.Add(ctx, key, struct{}{})
	return nil
}

// validationWork estimates the steps of validating doc: the selections the
// walk visits (validationWalk) and the pairs of fields of one response
// name compared in each selection set (overlapPairs). It stops past max.
// lexedWork makes the same count from tokens and is tested against it.
func validationWork(doc *ast.QueryDocument, max int) int {
	n := validationWalk(doc, max)
	if n > max {
		return n
	}
	for _, op := range doc.Operations {
		if n = overlapPairs(op.SelectionSet, n, max); n > max {
			return n
		}
	}
	for _, f := range doc.Fragments {
		if n = overlapPairs(f.SelectionSet, n, max); n > max {
			return n
		}
	}
	return n
}

// overlapPairs adds to n the comparisons OverlappingFieldsCanBeMerged makes
// in set and the sets under it: each pair of fields of one response name
// (those of inline fragments merged in), and for a pair with selections,
// each pair of their direct selections; each pair of spreads of one
// fragment. It stops past max.
func overlapPairs(set ast.SelectionSet, n, max int) int {
	type group struct{ k, sum, sumSq int }
	groups := map[string]*group{}
	var collect func(set ast.SelectionSet)
	var subs []ast.SelectionSet
	collect = func(set ast.SelectionSet) {
		for _, sel := range set {
			var name string
			size := 0
			switch sel := sel.(type) {
			case *ast.Field:
				name = sel.Alias
				if name == "" {
					name = sel.Name
				}
				size = len(sel.SelectionSet)
				if size > 0 {
					subs = append(subs, sel.SelectionSet)
				}
			case *ast.InlineFragment:
				collect(sel.SelectionSet)
				continue
			case *ast.FragmentSpread:
				name = "..." + sel.Name
			}
			g := groups[name]
			if g == nil {
				g = &group{}
				groups[name] = g
			}
			g.k++
			g.sum += size
			g.sumSq += size * size
		}
	}
	collect(set)
	for _, g := range groups {
		n = capAdd(n, g.k*(g.k-1)/2+(g.sum*g.sum-g.sumSq)/2)
		if n > max {
			return n
		}
	}
	for _, sub := range subs {
		if n = overlapPairs(sub, n, max); n > max {
			return n
		}
	}
	return n
}

// frag is a selection set as the validation counts see it: the selections
// it holds and the fragments it spreads.
type frag struct {
	size    int
	spreads []string
}

// reached adds to total the size of root and of every fragment it reaches,
// each once, as gqlparser's validator walks them; it stops past max.
func reached(root *frag, frags map[string]*frag, total, max int) int {
	seen := map[string]bool{}
	stack := root.spreads
	total = capAdd(total, root.size)
	for len(stack) > 0 && total <= max {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f := frags[name]
		if f == nil || seen[name] {
			continue
		}
		seen[name] = true
		total = capAdd(total, f.size)
		stack = append(stack, f.spreads...)
	}
	return total
}

// validationWalk counts the selections gqlparser's validator visits in doc:
// each operation and each fragment definition is walked with every
// fragment it reaches, each of those once. It stops counting past max.
func validationWalk(doc *ast.QueryDocument, max int) int {
	frags := make(map[string]*frag, len(doc.Fragments))
	var measure func(set ast.SelectionSet, f *frag)
	measure = func(set ast.SelectionSet, f *frag) {
		for _, sel := range set {
			f.size++
			switch sel := sel.(type) {
			case *ast.Field:
				measure(sel.SelectionSet, f)
			case *ast.InlineFragment:
				measure(sel.SelectionSet, f)
			case *ast.FragmentSpread:
				f.spreads = append(f.spreads, sel.Name)
			}
		}
	}
	for _, d := range doc.Fragments {
		if _, ok := frags[d.Name]; !ok {
			f := &frag{}
			measure(d.SelectionSet, f)
			frags[d.Name] = f
		}
	}
	total := 0
	walk := func(root *frag) { total = reached(root, frags, total, max) }
	for _, op := range doc.Operations {
		root := &frag{}
		measure(op.SelectionSet, root)
		if walk(root); total > max {
			return total
		}
	}
	for _, d := range doc.Fragments {
		if walk(frags[d.Name]); total > max {
			return total
		}
	}
	return total
}

// ExtensionName implements graphql.HandlerExtension.
func (*ShapeLimits) ExtensionName() string { return "ShapeLimits" }

// Validate implements graphql.HandlerExtension.
func (l *ShapeLimits) Validate(graphql.ExecutableSchema) error {
	l.checked, l.seed = lru.New[struct{}](1000), maphash.MakeSeed()
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (l *ShapeLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	s := measureShape(oc.Doc, oc.Operation.SelectionSet)
	if l.MaxSelections > 0 && s.fields > l.MaxSelections {
		err := gqlerror.Errorf("the operation selects %s fields once its fragments are expanded; at most %d allowed",
			countString(s.fields), l.MaxSelections)
		errcode.Set(err, CodeSelectionLimit)
		return err
	}
	if s.depth > l.MaxDepth {
		err := gqlerror.Errorf("the operation is nested %d levels deep; at most %d allowed", s.depth, l.MaxDepth)
		errcode.Set(err, CodeDepthLimit)
		return err
	}
	if s.aliases > l.MaxAliases {
		err := gqlerror.Errorf("the operation uses %s aliases; at most %d allowed", countString(s.aliases), l.MaxAliases)
		errcode.Set(err, CodeAliasLimit)
		return err
	}
	return nil
}

// shapeCap is where the counts of a shape stop growing: a fan-out of 2^64
// fields must not wrap around to a small number.
const shapeCap = 1 << 40

func countString(n int) string {
	if n >= shapeCap {
		return "more than a trillion"
	}
	return strconv.Itoa(n)
}

func capAdd(a, b int) int { return min(a+b, shapeCap) }

// shape is what a selection set expands to: the levels it nests (a field
// with a sub-selection adds one), and the fields and aliased fields it
// selects, each spread of a fragment counting the fragment's fields again.
type shape struct {
	depth, fields, aliases int
}

// measureShape measures set within doc. Every fragment is measured once and
// its shape reused at each spread, so the cost is linear in the document.
func measureShape(doc *ast.QueryDocument, set ast.SelectionSet) shape {
	w := shapeWalker{doc: doc, memo: map[string]shape{}, onPath: map[string]bool{}}
	return w.set(set)
}

type shapeWalker struct {
	doc    *ast.QueryDocument
	memo   map[string]shape
	onPath map[string]bool // fragments being measured, against cycles (validation refuses them first)
}

// set returns the shape of a selection set relative to its own level: a
// set of leaf fields has depth 1.
func (w *shapeWalker) set(set ast.SelectionSet) shape {
	var out shape
	for _, sel := range set {
		var s shape
		switch sel := sel.(type) {
		case *ast.Field:
			s = shape{depth: 1, fields: 1}
			if sel.Alias != "" && sel.Alias != sel.Name {
				s.aliases = 1
			}
			if len(sel.SelectionSet) > 0 {
				child := w.set(sel.SelectionSet)
				s.depth += child.depth
				s.fields = capAdd(s.fields, child.fields)
				s.aliases = capAdd(s.aliases, child.aliases)
			}
		case *ast.InlineFragment:
			s = w.set(sel.SelectionSet)
		case *ast.FragmentSpread:
			s = w.fragment(sel.Name)
		}
		out.depth = max(out.depth, s.depth)
		out.fields = capAdd(out.fields, s.fields)
		out.aliases = capAdd(out.aliases, s.aliases)
	}
	return out
}

func (w *shapeWalker) fragment(name string) shape {
	if s, ok := w.memo[name]; ok {
		return s
	}
	frag := w.doc.Fragments.ForName(name)
	if frag == nil || w.onPath[name] {
		return shape{}
	}
	w.onPath[name] = true
	s := w.set(frag.SelectionSet)
	delete(w.onPath, name)
	w.memo[name] = s
	return s
}
