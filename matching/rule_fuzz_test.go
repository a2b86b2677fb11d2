package matching

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"
)

// nestRule writes a rule that nests wrap n times around inner, wrap's %s
// standing for the level below: the shape of the rules that grow a value
// exponentially with their length.
func nestRule(wrap, inner, test string, n int) string {
	s := inner
	for range n {
		s = fmt.Sprintf(wrap, s)
	}
	return fmt.Sprintf(test, s)
}

// doublingLets writes `let a0 = region + region; let a1 = a0 + a0; …`,
// n lets: a value 2^n times the region in a rule of n lines.
func doublingLets(n int) string {
	var b strings.Builder
	b.WriteString("let a0 = region + region; ")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "let a%d = a%d + a%d; ", i, i-1, i-1)
	}
	fmt.Fprintf(&b, "len(a%d) > 0", n-1)
	return b.String()
}

// ruleSeeds are rules that must compile, and rules that must not: the
// nasty ones are those that would run long or build huge values.
var ruleSeeds = []string{
	`age >= 60 && "DIBAO" in groups`,
	`householdSize >= 3 || region startsWith "500103"`,
	`len(groups) > 1 && incomePerCapitaFen < 70000`,
	`lower(category) == "basic_living" || item == "MEAL_ASSISTANCE"`,
	`!household && age >= 16 && age < 60`,
	`female && age >= 50`,
	"", "   ", "\n", "true", "false", "1", `"yes"`, "nil", "age", "age >=", "(", ")", "[", "{", `"`, "`",
	"age >= 9223372036854775807", "age >= 99999999999999999999999999999", "incomePerCapitaFen < 1e308",
	"age / 0 > 1", "age % 0 == 0", "2 ** 1024 > age", "-9223372036854775808 < age", "age >= 0x7fffffffffffffff",
	"region[99999999999] == \"5\"", "region[-99999999:99999999] == \"\"", "groups[9223372036854775807] == nil",
	"region matches \"(a*)*b\"", "region matches \"(\"", "region matches (region + region)",
	`region == "` + "\xff\xfe" + `"`, "age \xc3\x28 1", "\xed\xa0\x80", "age >= 60 && \x00",
	`all(1..999, {all(1..999, {# > 0})})`, `any(groups, {# == "DIBAO"})`, `len(1..100000) > 0`,
	`count(groups, {true}) > 1`, `repeat("a", 1000000) != ""`, `"a" | repeat(1000000) != ""`,
	`len(map(groups, {# + #})) > 0`, `reduce(groups, # + #acc, "") != ""`, `len(flatten([groups, groups])) > 0`,
	doublingLets(26), doublingLets(64),
	nestRule(`join(split(%s, ""), region)`, "region", "len(%s) > 0", 20),
	nestRule(`replace(%s, "", region)`, "region", "len(%s) > 0", 20),
	nestRule(`toJSON(%s)`, "region", "len(%s) > 0", 200),
	nestRule(`toBase64(%s)`, "region", "len(%s) > 0", 150),
	nestRule(`string(split(%s, ""))`, "region", "len(%s) > 0", 80),
	nestRule(`string(splitAfter(%s, ""))`, "region", "len(%s) > 0", 80),
	nestRule(`trimSuffix(%s)`, "region", "len(%s) > 0", 30),
	nestRule(`trim(%s, "a")`, "region", "len(%s) > 0", 60),
	nestRule(`string(sort(%s))`, "groups", "len(%s) > 0", 12),
	nestRule(`lower(upper(%s))`, "region", "len(%s) > 0", 100),
	nestRule(`(age > 1 ? %s : region)`, "region", "len(%s) > 0", 100),
	nestRule(`(%s)`, "age", "%s > 0", 990),
	nestRule(`!%s`, "true", "%s", 1990),
	nestRule(`[%s]`, "age", "len(%s) > 0", 600),
	nestRule(`{"a": %s}`, "1", "len(%s) > 0", 300),
	nestRule(`(%s + age)`, "age", "%s > 0", 300),
	nestRule(`fromJSON(%s)`, `"1"`, "%s != nil", 300),
	`fromJSON("` + strings.Repeat("[", 900) + strings.Repeat("]", 900) + `") != nil`,
	`region == "` + strings.Repeat("5", 1990) + `"`,
	strings.Repeat("age > 1 && ", 180) + "true",
	strings.Repeat("a", MaxRuleLength+1),
	strings.Repeat("(", 100000),
}

// FuzzCompileRule checks the eligibility-rule compiler on arbitrary
// source: no panic; blank is no rule, over MaxRuleLength is refused;
// compiling takes well under two seconds whatever the rule; a refusal says why
// in a message of bounded length; and a rule it accepts runs, for needs of
// every shape, in well under two seconds and without allocating more than a
// few megabytes, always to a yes or no (or an evaluation error), the same
// each time.
func FuzzCompileRule(f *testing.F) {
	for _, s := range ruleSeeds {
		f.Add(s)
	}
	envs := []RuleEnv{
		{},
		{Age: 67, Female: true, IncomePerCapitaFen: 45000, HouseholdSize: 3, Severity: 4, Groups: []string{"DIBAO", "ELDERLY"},
			Region: "500103001001", Category: "BASIC_LIVING", Item: "MEAL_ASSISTANCE", Household: true},
		{Age: -1 << 31, IncomePerCapitaFen: -1 << 63, HouseholdSize: 1 << 31, Severity: -1,
			Groups: strings.Split(strings.Repeat("TEKUN_DISABILITY_LEVEL_ONE,", 40), ","),
			Region: strings.Repeat("5", 12), Category: strings.Repeat("重", 40), Item: "\xff\xfe"},
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1<<16 {
			t.Skip("larger than any request body's field")
		}
		start := time.Now()
		p, err := compileRule(src)
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("compiling %q took %v", src, took)
		}
		if strings.TrimSpace(src) == "" {
			if p != nil || err != nil {
				t.Fatalf("blank rule %q: %v, %v", src, p, err)
			}
			return
		}
		if len(src) > MaxRuleLength && err == nil {
			t.Fatalf("a rule of %d characters compiled", len(src))
		}
		if err2 := CheckRule(src); (err2 == nil) != (err == nil) {
			t.Fatalf("CheckRule(%q) = %v but compileRule = %v", src, err2, err)
		}
		if err != nil {
			if p != nil {
				t.Fatalf("compileRule(%q) returned a program and %v", src, err)
			}
			if msg := err.Error(); msg == "" || len(msg) > 1000 {
				t.Fatalf("compileRule(%q): a message of %d bytes", src, len(msg))
			}
			return
		}
		if p == nil {
			t.Fatalf("compileRule(%q): neither program nor error", src)
		}
		var m vm.VM
		for i := range envs {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			ok, err := evalRule(&m, p, &envs[i])
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if took > 2*time.Second {
				t.Fatalf("rule %q ran for %v", src, took)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
				t.Fatalf("rule %q allocated %d MiB in one run", src, grew>>20)
			}
			if err != nil && ok {
				t.Fatalf("rule %q: true with error %v", src, err)
			}
			if strings.Contains(src, "now()") {
				continue // the one thing that may differ between runs
			}
			if ok2, err2 := evalRule(&m, p, &envs[i]); ok2 != ok || (err2 == nil) != (err == nil) {
				t.Fatalf("rule %q: %v, %v then %v, %v", src, ok, err, ok2, err2)
			}
		}
	})
}

// TestRulesMayNotGrow: rules that build values exponentially larger than
// themselves, or that take the type checker exponential time, are refused,
// at once. Each of these ran for seconds to hours, or ran out of memory,
// before the guard knew them.
func TestRulesMayNotGrow(t *testing.T) {
	for _, src := range []string{
		doublingLets(26),
		`let x = region; x == "500103"`,
		nestRule(`join(split(%s, ""), region)`, "region", "len(%s) > 0", 20),
		nestRule(`replace(%s, "", region)`, "region", "len(%s) > 0", 20),
		nestRule(`toJSON(%s)`, "region", "len(%s) > 0", 200),
		nestRule(`toBase64(%s)`, "region", "len(%s) > 0", 150),
		nestRule(`string(split(%s, ""))`, "region", "len(%s) > 0", 80),
		nestRule(`trimSuffix(%s)`, "region", "len(%s) > 0", 30),
		nestRule(`trim(%s, "a")`, "region", "len(%s) > 0", 60),
		nestRule(`string(sort(%s))`, "groups", "len(%s) > 0", 12),
		`region | split("") | join(region) != ""`,
	} {
		start := time.Now()
		err := CheckRule(src)
		if err == nil {
			t.Errorf("%.60s… accepted", src)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%.60s… took %v to refuse", src, took)
		}
	}
	for _, src := range []string{
		`trim(lower(category)) == "basic_living"`,
		`trimPrefix(region, "5001") startsWith "03"`,
		`len(sort(groups)) > 1`,
	} {
		if err := CheckRule(src); err != nil {
			t.Errorf("%s refused: %v", src, err)
		}
	}
}
