package matching

import "testing"

func TestRulesMayNotLoop(t *testing.T) {
	for _, src := range []string{
		`all(1..999, {all(1..999, {# > 0})})`,
		`any(groups, {# == "DIBAO"})`,
		`len(1..100000) > 0`,
		`count(groups, {true}) > 1`,
		`repeat("a", 1000000) != ""`,
		`len(map(groups, {# + #})) > 0`,
	} {
		if err := CheckRule(src); err == nil {
			t.Errorf("%s accepted", src)
		}
	}
	for _, src := range []string{
		`age >= 60 && "DIBAO" in groups`,
		`householdSize >= 3 || region startsWith "500103"`,
		`len(groups) > 1 && incomePerCapitaFen < 70000`,
		`lower(category) == "basic_living" || item == "MEAL_ASSISTANCE"`,
	} {
		if err := CheckRule(src); err != nil {
			t.Errorf("%s refused: %v", src, err)
		}
	}
}
