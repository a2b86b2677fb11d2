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
	p, err := expr.Compile(src, expr.Env(RuleEnv{}), expr.AsBool(), expr.MaxNodes(500))
	if err != nil {
		return nil, fmt.Errorf("rule does not compile: %v", err)
	}
	return p, nil
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
