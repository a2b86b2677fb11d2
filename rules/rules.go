// Package rules is the rule language the engines share: expressions in expr
// (github.com/expr-lang/expr), a well-kept, widely used expression language
// for Go. It type-checks a rule against the fields of an environment when
// the rule is saved (a misspelt name or a comparison of a number with a
// string is refused then, with a message that points at it), compiles it
// once to bytecode, has no side effects and bounds memory while running. A
// home-made parser would give none of that for a language people write by
// hand. This package adds what every engine needs on top: a bound on the
// rule's length, a guard against rules whose running time or values can
// grow beyond their length, and errors of one sentence with a position.
// Matching's resource eligibility and the early-warning types use it, each
// with its own environment.
package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// MaxLength bounds a rule's source.
const MaxLength = 2000

// MaxNodes bounds the size of a compiled rule.
const MaxNodes = 500

// Compile checks a rule and compiles it against env (a struct value whose
// fields, named by their expr tags, are what the rule may read) to a
// program that yields a bool; "" (or blank) is no rule: a nil program and
// no error. A rule that does not compile is a *RuleError; one that is too
// long or may loop is refused with a plain error saying why. opts are added
// after the defaults.
func Compile(src string, env any, opts ...expr.Option) (*vm.Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	if err := Guard(src); err != nil {
		return nil, err
	}
	options := append([]expr.Option{expr.Env(env), expr.AsBool(), expr.MaxNodes(MaxNodes)}, opts...)
	p, err := expr.Compile(src, options...)
	if err != nil {
		return nil, newRuleError(err)
	}
	return p, nil
}

// Guard refuses a rule that is too long or that may loop (see loopGuard),
// nil for anything else, including a rule that does not parse (the
// compiler says why). It walks the parsed rule before the type checker sees
// it: a checker's time can grow exponentially with the rule, and a patch
// would run only after a first check.
func Guard(src string) error {
	if len(src) > MaxLength {
		return fmt.Errorf("rule is %d characters long; at most %d", len(src), MaxLength)
	}
	guard := &loopGuard{}
	if tree, err := parser.Parse(src); err == nil {
		ast.Walk(&tree.Node, guard)
		if guard.found != "" {
			return fmt.Errorf("rule uses %s; rules compare fields and may not loop (use `in` for lists such as groups)", guard.found)
		}
	}
	return nil
}

// Identifiers returns the names a compiled rule reads, each once, in the
// order they first appear (nil for no rule): what a warning shows as the
// facts behind it.
func Identifiers(p *vm.Program) []string {
	if p == nil {
		return nil
	}
	var c identifiers
	node := p.Node()
	ast.Walk(&node, &c)
	return c.names
}

type identifiers struct{ names []string }

func (c *identifiers) Visit(node *ast.Node) {
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok || id.Value == "" {
		return
	}
	for _, n := range c.names {
		if n == id.Value {
			return
		}
	}
	c.names = append(c.names, id.Value)
}

// RuleError is a rule that does not compile: one sentence, and where in
// the rule when the compiler knows (Line and Column count from 1; 0 when
// unknown), instead of the compiler's multi-line output with its snippet.
type RuleError struct {
	Message      string
	Line, Column int
}

func (e *RuleError) Error() string {
	if e.Line == 0 {
		return "rule does not compile: " + e.Message
	}
	return fmt.Sprintf("rule does not compile: %s (line %d, column %d)", e.Message, e.Line, e.Column)
}

// Position reports where the rule fails, 0, 0 when unknown.
func (e *RuleError) Position() (line, column int) { return e.Line, e.Column }

func newRuleError(err error) *RuleError {
	re := &RuleError{Message: err.Error()}
	var fe *file.Error
	if errors.As(err, &fe) {
		re.Message = fe.Message
		if fe.Snippet != "" { // bound to the source: Line and Column are known
			re.Line, re.Column = fe.Line, fe.Column+1
		}
	}
	// One line, of a readable length, whatever the compiler said.
	if i := strings.IndexByte(re.Message, '\n'); i >= 0 {
		re.Message = re.Message[:i]
	}
	re.Message = strings.TrimSpace(re.Message)
	if r := []rune(re.Message); len(r) > 200 {
		re.Message = string(r[:200]) + "…"
	}
	return re
}

// loopGuard refuses what can make a rule's running time grow beyond its
// length: predicates over lists (all, any, filter, map, …), ranges and
// string repetition, and what can build a value exponentially larger than
// the rule: variables (let a1 = a0 + a0; let a2 = a1 + a1; …) and the
// functions whose result can be many times their argument (join, replace,
// split, splitAfter, toJSON, toBase64), nested. A rule runs for every
// candidate of every need, or for every household in a monitoring pass; one
// that loops would stall the engine for everyone. It also bounds the calls
// of functions with several forms (trim, trimPrefix, trimSuffix, sort):
// expr checks the arguments of such a call once per form it tries, so
// checking takes exponential time in how deep they nest.
type loopGuard struct {
	found      string
	overloaded int
}

// maxOverloadedCalls bounds a rule's calls of functions with several forms.
const maxOverloadedCalls = 3

func (g *loopGuard) Visit(node *ast.Node) {
	if g.found != "" {
		return
	}
	switch n := (*node).(type) {
	case *ast.PredicateNode:
		g.found = "a predicate ({…})"
	case *ast.VariableDeclaratorNode:
		g.found = "a variable (let)"
	case *ast.BinaryNode:
		if n.Operator == ".." {
			g.found = "a range (..)"
		}
	case *ast.BuiltinNode:
		switch n.Name {
		case "all", "any", "none", "one", "filter", "map", "count", "sum", "find", "findIndex", "findLast",
			"findLastIndex", "groupBy", "sortBy", "reduce", "repeat",
			"join", "replace", "split", "splitAfter", "toJSON", "toBase64":
			g.found = n.Name + "()"
		default:
			if i, ok := builtin.Index[n.Name]; ok && len(builtin.Builtins[i].Types) > 1 {
				if g.overloaded++; g.overloaded > maxOverloadedCalls {
					g.found = fmt.Sprintf("more than %d calls of trim(), trimPrefix(), trimSuffix() and sort()", maxOverloadedCalls)
				}
			}
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			switch id.Value {
			case "repeat", "join", "replace", "split", "splitAfter", "toJSON", "toBase64":
				g.found = id.Value + "()"
			}
		}
	}
}

// Run runs a compiled rule on env with the reusable machine m; an
// evaluation error is a failed rule with the error as its reason.
func Run(m *vm.VM, p *vm.Program, env any) (bool, error) {
	out, err := m.Run(p, env)
	if err != nil {
		return false, err
	}
	ok, _ := out.(bool)
	return ok, nil
}
