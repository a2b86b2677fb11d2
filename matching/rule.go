package matching

// Resource rules are expressions in expr (github.com/expr-lang/expr), a
// well-kept, widely used expression language for Go: it type-checks a rule
// against the need's fields when the resource is loaded (a misspelt name or
// a comparison of a number with a string is refused then, with a message
// that points at it), compiles it once to bytecode, has no side effects and
// bounds memory while running. A home-made parser would give none of that
// for a language charities write by hand.

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

// RuleEnv is what a resource rule sees of a need, with the names a rule
// uses: age, female, incomePerCapitaFen, householdSize, severity, groups
// (the codes the catalog knows, in catalog order), region (the division
// code), category, item ("" for none) and household (a household-level
// need, whose age and female are its applicant's). For example
//
//	age >= 60 && "DIBAO" in groups
//	householdSize >= 3 || region startsWith "500103"
type RuleEnv struct {
	Age                int      `expr:"age"`
	Female             bool     `expr:"female"`
	IncomePerCapitaFen int64    `expr:"incomePerCapitaFen"`
	HouseholdSize      int      `expr:"householdSize"`
	Severity           int      `expr:"severity"`
	Groups             []string `expr:"groups"`
	Region             string   `expr:"region"`
	Category           string   `expr:"category"`
	Item               string   `expr:"item"`
	Household          bool     `expr:"household"`
}

// MaxRuleLength bounds a rule's source.
const MaxRuleLength = 2000

// CheckRule reports why a rule would be refused, nil when it is fine ("" is
// no rule): for the catalog to check a rule when a resource is saved.
func CheckRule(src string) error {
	_, err := compileRule(src)
	return err
}

// compileRule checks a rule and compiles it; "" is no rule (nil program).
func compileRule(src string) (*vm.Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	if len(src) > MaxRuleLength {
		return nil, fmt.Errorf("rule is %d characters long; at most %d", len(src), MaxRuleLength)
	}
	// The guard walks the parsed rule before the type checker sees it: a
	// checker's time can grow exponentially with the rule (see loopGuard),
	// and a patch would run only after a first check.
	guard := &loopGuard{}
	if tree, err := parser.Parse(src); err == nil {
		ast.Walk(&tree.Node, guard)
		if guard.found != "" {
			return nil, fmt.Errorf("rule uses %s; rules compare the need's fields and may not loop (use `in` for groups)", guard.found)
		}
	}
	p, err := expr.Compile(src, expr.Env(RuleEnv{}), expr.AsBool(), expr.MaxNodes(500))
	if err != nil {
		return nil, newRuleError(err)
	}
	return p, nil
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
// candidate of every need; one that loops would stall matching for
// everyone. It also bounds the calls of functions with several forms
// (trim, trimPrefix, trimSuffix, sort): expr checks the arguments of such a
// call once per form it tries, so checking takes exponential time in how
// deep they nest.
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

// evalRule runs a compiled rule; an evaluation error is a failed rule with
// the error as its reason.
func evalRule(m *vm.VM, p *vm.Program, env *RuleEnv) (bool, error) {
	out, err := m.Run(p, env)
	if err != nil {
		return false, err
	}
	ok, _ := out.(bool)
	return ok, nil
}
