package matching

// Resource rules are expressions in the shared rule language (package
// rules, over expr): type-checked against a need's fields when the resource
// is loaded, compiled once, guarded against rules that loop.

import (
	"github.com/expr-lang/expr/vm"

	"github.com/aidhub/aidhub/rules"
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
const MaxRuleLength = rules.MaxLength

// RuleError is a rule that does not compile (see rules.RuleError): one
// sentence and its position.
type RuleError = rules.RuleError

// CheckRule reports why a rule would be refused, nil when it is fine ("" is
// no rule): for the catalog to check a rule when a resource is saved.
func CheckRule(src string) error {
	_, err := compileRule(src)
	return err
}

// compileRule checks a rule and compiles it against RuleEnv; "" is no rule
// (nil program).
func compileRule(src string) (*vm.Program, error) {
	return rules.Compile(src, RuleEnv{})
}

// evalRule runs a compiled rule; an evaluation error is a failed rule with
// the error as its reason.
func evalRule(m *vm.VM, p *vm.Program, env *RuleEnv) (bool, error) {
	return rules.Run(m, p, env)
}
