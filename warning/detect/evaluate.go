package detect

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr/vm"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/rules"
)

// Evaluator evaluates households against a set of warning types, compiled
// once. It is safe for concurrent use: each call takes its own scratch.
type Evaluator struct {
	types    []evalType
	th       ThresholdSource
	dibaoFen int64
	scratch  sync.Pool
}

// evalType is a type with its rule (or Also) compiled and the facts it reads.
type evalType struct {
	t     Type
	rule  *vm.Program // Rule, or Threshold.Also; nil: none
	facts []string    // the facts the rule reads, in the order it names them
}

type evalScratch struct {
	vm    vm.VM
	facts Facts
}

// Option configures an Evaluator.
type Option func(*Evaluator)

// WithDibaoStandard sets the local monthly 低保 standard per person, in fen,
// that rules read as dibaoStandardFen (default DefaultDibaoStandardFen).
func WithDibaoStandard(fen int64) Option { return func(e *Evaluator) { e.dibaoFen = fen } }

// NewEvaluator compiles the rules of types (each must Validate; the groups
// are not checked again) for evaluation against th's thresholds.
func NewEvaluator(types []Type, th ThresholdSource, opts ...Option) (*Evaluator, error) {
	e := &Evaluator{th: th, dibaoFen: DefaultDibaoStandardFen, types: make([]evalType, 0, len(types))}
	for _, o := range opts {
		o(e)
	}
	for i := range types {
		t := types[i]
		if t.Threshold != nil && th == nil {
			return nil, fmt.Errorf("compile warning type %s: a threshold type needs a threshold source", t.Code)
		}
		if err := t.Validate(KnownCodes{}); err != nil {
			return nil, fmt.Errorf("compile warning type %s: %w", t.Code, err)
		}
		src := t.Rule
		if t.Threshold != nil {
			src = t.Threshold.Also
		}
		p, err := compileFacts(src)
		if err != nil {
			return nil, fmt.Errorf("compile warning type %s: %w", t.Code, err)
		}
		et := evalType{t: t, rule: p}
		for _, name := range rules.Identifiers(p) {
			if _, ok := factIndex[name]; ok {
				et.facts = append(et.facts, name)
			}
		}
		e.types = append(e.types, et)
	}
	e.scratch.New = func() any { return new(evalScratch) }
	return e, nil
}

// Evaluate returns the warnings household h raises in month m on day today:
// for every enabled type that applies to one of its groups, a Rule type
// when its rule holds, a Threshold type when the household's measure (less
// its peers' median, when positive and the type is peer-adjusted) reaches
// the threshold of its cell and Also holds. Nil when none: a pass over
// every household allocates only for the few that warn.
func (e *Evaluator) Evaluate(h *Household, m Month, today aidhub.Day) []Hit {
	s := e.scratch.Get().(*evalScratch)
	defer e.scratch.Put(s)
	haveFacts := false
	holds := func(et *evalType) bool {
		if et.rule == nil {
			return true
		}
		if !haveFacts {
			factsInto(&s.facts, h, m, today, e.dibaoFen, nil)
			haveFacts = true
		}
		ok, err := rules.Run(&s.vm, et.rule, &s.facts)
		return ok && err == nil // a rule that fails to run (a division by zero) does not warn
	}
	var hits []Hit
	for i := range e.types {
		et := &e.types[i]
		if !et.t.Enabled || !appliesTo(et.t.Groups, h.Groups) {
			continue
		}
		if et.t.Threshold == nil {
			if holds(et) {
				hits = append(hits, e.hit(et, h, m, today, nil))
			}
			continue
		}
		if r, ok := e.reaches(et, h, m); ok && holds(et) {
			hits = append(hits, e.hit(et, h, m, today, &r))
		}
	}
	return hits
}

// reached is a threshold type's comparison.
type reached struct {
	value, peer, adjusted float64
	peerKnown             bool
	th                    Threshold
}

// reaches compares h's measure in m with its cell's threshold.
func (e *Evaluator) reaches(et *evalType, h *Household, m Month) (reached, bool) {
	tr := et.t.Threshold
	var r reached
	var ok bool
	if r.value, ok = h.History.Measure(tr.Measure, m); !ok {
		return r, false
	}
	cell := Cell{District: h.District(), Group: h.Group()}
	r.adjusted = r.value
	if tr.PeerAdjusted {
		if r.peer, r.peerKnown = e.th.Peer(tr.Measure, cell, m); r.peerKnown {
			r.adjusted = r.value - max(0, r.peer)
		}
	}
	r.th = e.th.For(&et.t, cell, m)
	return r, r.adjusted >= r.th.Value
}

// appliesTo reports whether a type for groups applies to a household of
// has: every household when groups is empty, else one in common.
func appliesTo(groups, has []string) bool {
	if len(groups) == 0 {
		return true
	}
	for _, g := range groups {
		if slices.Contains(has, g) {
			return true
		}
	}
	return false
}

// evidence collects, per fact, the signals of the events it counted: it is
// filled only for a hit (a nil *evidence records nothing).
type evidence struct {
	ids map[string][]int64
}

func (ev *evidence) add(fact string, id int64) {
	if ev == nil || id == 0 {
		return
	}
	ev.ids[fact] = append(ev.ids[fact], id)
}

func (ev *evidence) addAll(fact string, ids [4]int64) {
	for _, id := range ids {
		ev.add(fact, id)
	}
}

// hit builds the warning of type et for h, with its evidence. It runs for
// the few households that warn, so it may allocate.
func (e *Evaluator) hit(et *evalType, h *Household, m Month, today aidhub.Day, r *reached) Hit {
	ev := &evidence{ids: map[string][]int64{}}
	var f Facts
	factsInto(&f, h, m, today, e.dibaoFen, ev)
	hit := Hit{Type: et.t.Code, Month: m}
	if len(et.facts) > 0 {
		hit.Facts = make(map[string]any, len(et.facts))
	}
	for _, name := range et.facts {
		v, _ := f.fact(name)
		if list, ok := v.([]string); ok {
			v = slices.Clone(list) // not the household's own slice
		}
		hit.Facts[name] = v
		hit.SignalIDs = append(hit.SignalIDs, ev.ids[name]...)
	}
	if et.t.Subject != "" {
		if s, ok := subjectEvent(h.Events, et.t.Subject, today, hit.SignalIDs); ok {
			hit.PersonID = s.PersonID
			hit.SignalIDs = append(hit.SignalIDs, s.SignalID)
		}
	}
	slices.Sort(hit.SignalIDs)
	hit.SignalIDs = slices.Compact(hit.SignalIDs)
	hit.Months = monthsRead(et, m, &f)
	if r != nil {
		th := r.th
		hit.Measure, hit.Value, hit.Adjusted, hit.Threshold = et.t.Threshold.Measure, r.value, r.adjusted, &th
		if r.peerKnown {
			hit.PeerMedian = r.peer
		}
	}
	hit.Explanation, hit.ExplanationZh = explain(et, h, &f, r, &hit)
	return hit
}

// subjectEvent is the most recent event of kind within RecentDays, among
// the events the rule counted (used) when there are any of the kind: the
// person who lost a job, not a relative re-employed since.
func subjectEvent(events []Event, kind string, today aidhub.Day, used []int64) (Event, bool) {
	var best, bestUsed Event
	for i := range events {
		e := &events[i]
		if e.Kind != kind || !recent(e.Day, today) {
			continue
		}
		if later(e, &best) {
			best = *e
		}
		if slices.Contains(used, e.SignalID) && later(e, &bestUsed) {
			bestUsed = *e
		}
	}
	if bestUsed.Kind != "" {
		return bestUsed, true
	}
	return best, best.Kind != ""
}

// Facts read from the month's amounts, and those that also read the 3
// baseline months before it.
var (
	monthFacts    = []string{"incomeFen", "incomeKnown", "incomePerCapitaFen", "medicalFen", "educationFen", "arrearsFen"}
	baselineFacts = []string{"baselineIncomeFen", "incomeDrop", "medicalShare", "educationShare", "arrearsShare", "rigidShare"}
)

// monthsRead are the months whose amounts the hit read: m, the 3 baseline
// months for a measure, the months of a run of arrears.
func monthsRead(et *evalType, m Month, f *Facts) []Month {
	var months []Month
	baseline := et.t.Threshold != nil // every measure reads the baseline
	for _, name := range et.facts {
		switch {
		case slices.Contains(baselineFacts, name):
			baseline = true
		case slices.Contains(monthFacts, name):
			months = append(months, m)
		case name == "arrearsMonths":
			for k := range f.ArrearsMonths {
				months = append(months, m-Month(k))
			}
		}
	}
	if baseline {
		months = append(months, m-3, m-2, m-1, m)
	}
	slices.Sort(months)
	return slices.Compact(months)
}

// explain writes the hit's one sentence in English and in Chinese.
func explain(et *evalType, h *Household, f *Facts, r *reached, hit *Hit) (en, zh string) {
	var b, bz strings.Builder
	fmt.Fprintf(&b, "%s in %s: ", et.t.NameEn, hit.Month)
	fmt.Fprintf(&bz, "%s（%s）：", et.t.NameZh, hit.Month)
	if r != nil {
		measureEn, measureZh := explainMeasure(et.t.Threshold, &h.History, hit.Month, r)
		scopeEn, scopeZh := explainThreshold(&r.th, hit.Month)
		b.WriteString(measureEn + "; " + scopeEn)
		bz.WriteString(measureZh + "；" + scopeZh)
		if len(et.facts) > 0 {
			b.WriteString("; and ")
			bz.WriteString("；且")
		}
	}
	for i, name := range et.facts {
		if i > 0 {
			b.WriteString(", ")
			bz.WriteString("，")
		}
		v, _ := f.fact(name)
		l := factLabels[name]
		fmt.Fprintf(&b, "%s %s", l[0], factValue(name, v, false))
		fmt.Fprintf(&bz, "%s%s", l[1], factValue(name, v, true))
	}
	b.WriteString(".")
	bz.WriteString("。")
	return b.String(), bz.String()
}

// explainMeasure says the measure's value with its amounts, and what the
// peers' median took off it.
func explainMeasure(tr *ThresholdRule, hist *History, m Month, r *reached) (en, zh string) {
	base, baseOK := hist.Baseline(m)
	baseEn, baseZh := "¥"+aidhub.Yuan(base), "¥"+aidhub.Yuan(base)
	if !baseOK {
		baseEn = "no known baseline income, counted as ¥" + aidhub.Yuan(MinIncomeFen)
		baseZh = "近期收入不明，按¥" + aidhub.Yuan(MinIncomeFen) + "计"
	}
	amount := func(s []int64) int64 { return max(hist.at(s, m), 0) }
	switch tr.Measure {
	case MeasureIncomeDrop:
		en = fmt.Sprintf("income fell %s (baseline %s, this month ¥%s)", pct(r.value), baseEn, aidhub.Yuan(amount(hist.Income)))
		zh = fmt.Sprintf("收入下降%s（近3个月中位数%s，本月¥%s）", pct(r.value), baseZh, aidhub.Yuan(amount(hist.Income)))
	default:
		var spent int64
		what, whatZh := "", ""
		switch tr.Measure {
		case MeasureMedicalShare:
			spent, what, whatZh = amount(hist.Medical), "medical spending", "医疗自付"
		case MeasureEducationShare:
			spent, what, whatZh = amount(hist.Education), "education spending", "教育支出"
		case MeasureArrearsShare:
			spent, what, whatZh = amount(hist.Arrears), "arrears", "欠费"
		case MeasureRigidShare:
			spent = amount(hist.Medical) + amount(hist.Education) + amount(hist.Arrears)
			what, whatZh = "rigid spending (medical, education, arrears)", "刚性支出（医疗、教育、欠费）"
		}
		en = fmt.Sprintf("%s of ¥%s is %s of income (baseline %s)", what, aidhub.Yuan(spent), pct(r.value), baseEn)
		zh = fmt.Sprintf("%s¥%s，占收入%s（近3个月中位数%s）", whatZh, aidhub.Yuan(spent), pct(r.value), baseZh)
	}
	if r.peerKnown && r.peer > 0 {
		en += fmt.Sprintf(", %s net of its peers' median of %s", pct(r.adjusted), pct(r.peer))
		zh += fmt.Sprintf("，扣除同类家庭中位数%s后为%s", pct(r.peer), pct(r.adjusted))
	}
	return en, zh
}

// explainThreshold says the threshold reached, where it came from and, when
// the household's cell was too small, that it fell back.
func explainThreshold(th *Threshold, m Month) (en, zh string) {
	cell := th.Cell.District + " × " + groupOrAll(th.Cell.Group, false)
	cellZh := th.Cell.District + " × " + groupOrAll(th.Cell.Group, true)
	calibrated := ""
	calibratedZh := ""
	if th.Month != m {
		calibrated = fmt.Sprintf(", calibrated for %s", th.Month)
		calibratedZh = fmt.Sprintf("，%s校准", th.Month)
	}
	how := fmt.Sprintf("%s of %d months %s to %s, n = %s%s%s", th.Method, int(th.Window[1]-th.Window[0])+1,
		th.Window[0], th.Window[1], thousands(th.N), clampedEn(th), calibrated)
	howZh := fmt.Sprintf("%s至%s共%d个月的%s，n = %s%s%s", th.Window[0], th.Window[1], int(th.Window[1]-th.Window[0])+1,
		th.Method, thousands(th.N), clampedZh(th), calibratedZh)
	v := pct(th.Value)
	switch th.Scope {
	case ScopeCell:
		en = fmt.Sprintf("the threshold for %s is %s (%s)", cell, v, how)
		zh = fmt.Sprintf("%s的阈值为%s（%s）", cellZh, v, howZh)
	case ScopeDistrict:
		en = fmt.Sprintf("too few households in %s for a threshold of their own: the district's threshold, %s (%s)", cell, v, how)
		zh = fmt.Sprintf("%s家庭数过少，采用全区阈值%s（%s）", cellZh, v, howZh)
	case ScopeCity:
		en = fmt.Sprintf("too few households in %s and in its district: the city's threshold, %s (%s)", cell, v, how)
		zh = fmt.Sprintf("%s及所在区家庭数过少，采用全市阈值%s（%s）", cellZh, v, howZh)
	default:
		en = fmt.Sprintf("no calibration for %s: the type's fixed threshold, %s", cell, v)
		zh = fmt.Sprintf("%s尚无校准，采用该类型的固定阈值%s", cellZh, v)
	}
	return en, zh
}

func groupOrAll(g string, zh bool) string {
	switch {
	case g != "":
		return g
	case zh:
		return "全部人群"
	}
	return "all groups"
}

func clampedEn(th *Threshold) string {
	switch th.Clamped {
	case "FLOOR":
		return fmt.Sprintf(", %s raised to the floor", pct(th.Raw))
	case "CEILING":
		return fmt.Sprintf(", %s lowered to the ceiling", pct(th.Raw))
	}
	return ""
}

func clampedZh(th *Threshold) string {
	switch th.Clamped {
	case "FLOOR":
		return fmt.Sprintf("，原值%s低于下限，取下限", pct(th.Raw))
	case "CEILING":
		return fmt.Sprintf("，原值%s高于上限，取上限", pct(th.Raw))
	}
	return ""
}

// pct writes a fraction as a whole percentage: 0.456 is "46 %".
func pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf("%.0f %%", v*100)
}

// thousands writes n with thousands separators.
func thousands(n int) string { return aidhub.Yuan(int64(n) * 100) }

// factValue writes a fact's value for a sentence: amounts in yuan, shares
// as percentages, yes/no, lists joined.
func factValue(name string, v any, zh bool) string {
	switch x := v.(type) {
	case int64:
		if strings.HasSuffix(name, "Fen") {
			return "¥" + aidhub.Yuan(x)
		}
		return fmt.Sprint(x)
	case float64:
		return pct(x)
	case bool:
		switch {
		case zh && x:
			return "是"
		case zh:
			return "否"
		case x:
			return "yes"
		}
		return "no"
	case []string:
		if len(x) == 0 {
			if zh {
				return "无"
			}
			return "none"
		}
		return strings.Join(x, ", ")
	}
	return fmt.Sprint(v)
}

// factLabels names each fact in a sentence, in English and Chinese.
var factLabels = map[string][2]string{
	"householdSize":       {"household size", "家庭人口"},
	"region":              {"region", "地区"},
	"groups":              {"groups", "所属人群"},
	"leftGroups":          {"groups left within a year", "一年内退出的救助类别"},
	"children":            {"children", "未成年人数"},
	"schoolAgeChildren":   {"school-age children", "义务教育阶段儿童数"},
	"elderly":             {"elderly members", "老年人数"},
	"workingAgeAdults":    {"working-age adults", "劳动年龄成员数"},
	"dependants":          {"dependants", "需抚养赡养人数"},
	"livesAlone":          {"lives alone", "独居"},
	"oldestAge":           {"oldest member's age", "最年长成员年龄"},
	"incomeFen":           {"income this month", "本月收入"},
	"baselineIncomeFen":   {"baseline income", "近3个月收入中位数"},
	"incomeKnown":         {"income reported", "本月有收入记录"},
	"incomePerCapitaFen":  {"income per person", "月人均收入"},
	"incomeDrop":          {"income drop", "收入降幅"},
	"medicalFen":          {"medical spending", "医疗自付"},
	"medicalShare":        {"medical share of income", "医疗支出占收入"},
	"educationFen":        {"education spending", "教育支出"},
	"educationShare":      {"education share of income", "教育支出占收入"},
	"arrearsFen":          {"arrears", "欠费"},
	"arrearsShare":        {"arrears relative to income", "欠费占收入"},
	"rigidShare":          {"rigid spending share of income", "刚性支出占收入"},
	"arrearsMonths":       {"months in arrears", "连续欠费月数"},
	"jobLosses":           {"recent job losses", "近期失业人数"},
	"unemployedAdults":    {"working-age adults out of work", "失业的劳动年龄成员数"},
	"employedAdults":      {"members in work", "在业成员数"},
	"hospitalisations":    {"recent admissions", "近期住院次数"},
	"elderlyHospitalised": {"elderly members admitted", "近期住院老人数"},
	"deaths":              {"recent deaths", "近期死亡人数"},
	"workingAgeDeaths":    {"working-age deaths", "劳动年龄成员死亡人数"},
	"parentDeaths":        {"parents who died", "死亡的父母人数"},
	"disabilityWorse":     {"disabilities worsened", "残疾加重人数"},
	"newSevereDisability": {"new severe disabilities", "新增重度残疾人数"},
	"disabledMembers":     {"disabled members", "残疾成员数"},
	"childrenLeftSchool":  {"children who left school", "辍学儿童数"},
	"emergencyAid12m":     {"emergency aid in 12 months", "12个月内临时救助次数"},
	"oldestUnmetDays":     {"days the oldest need has waited", "最久未满足需求天数"},
	"dibaoStandardFen":    {"dibao standard", "低保标准"},
}
