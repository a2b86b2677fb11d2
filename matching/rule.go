package matching

// Resource rules are expressions in expr (github.com/expr-lang/expr), a
// well-kept, widely used expression language for Go: it type-checks a rule
// against the need's fields when the resource is loaded (a misspelt name or
// a comparison of a number with a string is refused then, with a message
// that points at it), compiles it once to bytecode, has no side effects and
// bounds memory while running. A home-made parser would give none of that
// for a language charities write by hand.

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
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
	guard := &loopGuard{}
	p, err := expr.Compile(src, expr.Env(RuleEnv{}), expr.AsBool(), expr.MaxNodes(500), expr.Patch(guard))
	if err != nil {
		return nil, fmt.Errorf("rule does not compile: %v", err)
	}
	if guard.found != "" {
		return nil, fmt.Errorf("rule uses %s; rules compare the need's fields and may not loop (use `in` for groups)", guard.found)
	}
	return p, nil
}

// loopGuard refuses what can make a rule's running time grow beyond its
// length: predicates over lists (all, any, filter, map, …), ranges and
// string repetition. A rule runs for every candidate of every need; one
// that loops would stall matching for everyone.
type loopGuard struct{ found string }

func (g *loopGuard) Visit(node *ast.Node) {
	if g.found != "" {
		return
	}
	switch n := (*node).(type) {
	case *ast.PredicateNode:
		g.found = "a predicate ({…})"
	case *ast.BinaryNode:
		if n.Operator == ".." {
			g.found = "a range (..)"
		}
	case *ast.BuiltinNode:
		switch n.Name {
		case "all", "any", "none", "one", "filter", "map", "count", "sum", "find", "findIndex", "findLast",
			"findLastIndex", "groupBy", "sortBy", "reduce", "repeat":
			g.found = n.Name + "()"
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "repeat" {
			g.found = "repeat()"
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
