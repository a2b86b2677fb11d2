package graph

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// lexedWork is validationWork computed from the tokens of a document
// instead of its syntax tree: lexing allocates nothing and costs a fifteenth
// of parsing, which is what refusing a 10,000-token document costs. ok is
// false when the document is not one lexedWork understands (a syntax
// error, more than maxTokens tokens): gqlgen's parser then says why.
//
// The count is the one validationWork makes on the parsed document, which
// the tests hold it to: the selections validation walks (each operation
// and fragment definition with every fragment it reaches, each once) and
// the pairs of fields of one response name compared in each selection set.
func lexedWork(query string, max, maxTokens int) (work int, ok bool) {
	r := tokenReader{lex: lexer.New(&ast.Source{Input: query}), maxTokens: maxTokens}
	r.next()
	frags := map[string]*frag{}
	var roots []*frag
	for r.ok && r.tok.Kind != lexer.EOF {
		root := &frag{}
		switch {
		case r.tok.Kind == lexer.BraceL:
		case r.tok.Kind == lexer.Name && (r.tok.Value == "query" || r.tok.Value == "mutation" || r.tok.Value == "subscription"):
			r.next()
			if r.tok.Kind == lexer.Name {
				r.next()
			}
			if r.tok.Kind == lexer.ParenL {
				r.skipBalanced()
			}
			r.skipDirectives()
		case r.tok.Kind == lexer.Name && r.tok.Value == "fragment":
			r.next()
			name := r.tok.Value
			r.expect(lexer.Name)
			if r.tok.Value != "on" {
				return 0, false
			}
			r.next()
			r.expect(lexer.Name)
			r.skipDirectives()
			if _, dup := frags[name]; !dup {
				frags[name] = root
			}
		default:
			return 0, false
		}
		if r.tok.Kind != lexer.BraceL {
			return 0, false
		}
		s := selectionCounter{r: &r, max: max, pairs: &work}
		s.set(func(size int, spread string) {
			root.size += size
			if spread != "" {
				root.spreads = append(root.spreads, spread)
			}
		})
		roots = append(roots, root)
		if work > max {
			return work, true
		}
	}
	if !r.ok {
		return 0, false
	}
	for _, root := range roots {
		if work = reached(root, frags, work, max); work > max {
			break
		}
	}
	return work, true
}

type tokenReader struct {
	lex       lexer.Lexer
	tok       lexer.Token
	ok        bool
	n         int
	maxTokens int
}

func (r *tokenReader) next() {
	for {
		tok, err := r.lex.ReadToken()
		r.n++
		r.tok, r.ok = tok, err == nil && (r.maxTokens <= 0 || r.n <= r.maxTokens)
		if !r.ok || tok.Kind != lexer.Comment {
			return
		}
	}
}

func (r *tokenReader) expect(kind lexer.Type) {
	if r.tok.Kind != kind {
		r.ok = false
		return
	}
	r.next()
}

// skipBalanced skips from an opening ( [ or { to its closing token: the
// arguments, variable definitions and values, which validation walks in
// time linear in their size.
func (r *tokenReader) skipBalanced() {
	depth := 0
	for r.ok {
		switch r.tok.Kind {
		case lexer.ParenL, lexer.BracketL, lexer.BraceL:
			depth++
		case lexer.ParenR, lexer.BracketR, lexer.BraceR:
			depth--
		case lexer.EOF:
			r.ok = false
			return
		}
		r.next()
		if depth == 0 {
			return
		}
	}
}

func (r *tokenReader) skipDirectives() {
	for r.ok && r.tok.Kind == lexer.At {
		r.next()
		r.expect(lexer.Name)
		if r.tok.Kind == lexer.ParenL {
			r.skipBalanced()
		}
	}
}

// selectionCounter reads selection sets, adding the pairs of fields of one
// response name each compares (as overlapPairs) to *pairs.
type selectionCounter struct {
	r     *tokenReader
	max   int
	pairs *int
}

type nameGroup struct{ k, sum, sumSq int }

// set reads a selection set (the reader at its "{") and reports to out
// each selection in it and under it (size 1) and each fragment spread.
// It returns the number of its direct selections.
func (s *selectionCounter) set(out func(size int, spread string)) int {
	groups := map[string]*nameGroup{}
	direct := s.members(groups, out)
	for _, g := range groups {
		*s.pairs = capAdd(*s.pairs, g.k*(g.k-1)/2+(g.sum*g.sum-g.sumSq)/2)
	}
	return direct
}

// members reads the selections between "{" and "}" into groups (those of
// inline fragments too) and returns how many there are directly.
func (s *selectionCounter) members(groups map[string]*nameGroup, out func(size int, spread string)) int {
	r := s.r
	r.expect(lexer.BraceL)
	direct := 0
	group := func(name string) *nameGroup {
		g := groups[name]
		if g == nil {
			g = &nameGroup{}
			groups[name] = g
		}
		g.k++
		return g
	}
	for r.ok && r.tok.Kind != lexer.BraceR {
		if *s.pairs > s.max {
			r.ok = false // stop reading: the answer is known
			return direct
		}
		direct++
		out(1, "")
		switch r.tok.Kind {
		case lexer.Name:
			name := r.tok.Value
			r.next()
			if r.tok.Kind == lexer.Colon {
				r.next()
				r.expect(lexer.Name)
			}
			if r.tok.Kind == lexer.ParenL {
				r.skipBalanced()
			}
			r.skipDirectives()
			g := group(name)
			if r.tok.Kind == lexer.BraceL {
				size := s.set(out)
				g.sum += size
				g.sumSq += size * size
			}
		case lexer.Spread:
			r.next()
			if r.tok.Kind == lexer.Name && r.tok.Value != "on" {
				name := r.tok.Value
				r.next()
				r.skipDirectives()
				group("..." + name)
				out(0, name)
				continue
			}
			if r.tok.Kind == lexer.Name { // on Type
				r.next()
				r.expect(lexer.Name)
			}
			r.skipDirectives()
			if r.tok.Kind != lexer.BraceL {
				r.ok = false
				return direct
			}
			s.members(groups, out)
		default:
			r.ok = false
			return direct
		}
	}
	r.expect(lexer.BraceR)
	return direct
}
