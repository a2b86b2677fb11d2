package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/warning"
)

// The early-warning demo: 渝中区's 低保 households with a year of income
// signals from the human-resources department (most ordinary, with the
// month-to-month noise of real incomes, so the district's thresholds are
// calibrated from them), and five households in trouble this month, each
// raising the warnings a street office would expect.

// background is how many ordinary monitored households the demo adds:
// enough household-months for 渝中区 × 低保 to get a threshold of its own.
const background = 36

// scenario is a household in trouble: its members, its monthly income
// before this month and this month, and what happened.
type scenario struct {
	members []demoPerson
	before  int64 // yuan per month, the year before
	now     int64 // yuan this month
	// medical and arrears are this month's (and, for arrears, the two
	// months before too) spending in yuan.
	medical, arrears int64
	events           []demoEvent
}

type demoEvent struct {
	member  int // index into members
	kind    string
	status  string
	daysAgo int
}

var scenarios = []scenario{
	// A job lost with a wife and a child at home: income falls to a third.
	{members: []demoPerson{{"陈志强", "19780411", "HEAD", []string{"DIBAO"}}, {"刘芳", "19800923", "SPOUSE", nil}, {"陈思远", "20120305", "CHILD", nil}},
		before: 2400, now: 700, events: []demoEvent{{0, "EMPLOYMENT", "LOST_JOB", 12}}},
	// An old woman living alone, in hospital, with a bill three times her income.
	{members: []demoPerson{{"赵秀珍", "19460718", "HEAD", []string{"TEKUN"}}},
		before: 900, now: 900, medical: 2700, events: []demoEvent{{0, "HOSPITALISATION", "", 8}}},
	// A boy of fifteen who stopped going to school.
	{members: []demoPerson{{"黄明", "19830102", "HEAD", []string{"DIBAO"}}, {"黄小军", "20110914", "CHILD", []string{"DIBAO"}}},
		before: 1600, now: 1550, events: []demoEvent{{1, "SCHOOL_LEAVING", "", 20}}},
	// Utility arrears for three months running, near the edge of 低保.
	{members: []demoPerson{{"吴建华", "19700630", "HEAD", []string{"MARGINAL"}}},
		before: 1800, now: 1750, arrears: 1500},
	// A mother of two whose husband died last month.
	{members: []demoPerson{{"孙丽", "19850217", "HEAD", []string{"DIBAO"}}, {"周强", "19840805", "SPOUSE", []string{"DIBAO"}}, {"周欣怡", "20140620", "CHILD", nil}, {"周子轩", "20180111", "CHILD", nil}},
		before: 2100, now: 1300, events: []demoEvent{{1, "DEATH", "", 25}}},
}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾")
	given    = []string{"建国", "秀英", "桂英", "志明", "春梅", "德华", "玉兰", "海燕", "国强", "丽华", "文军", "淑珍"}
)

// LoadWarnings adds the early-warning demo — monitored households in
// 渝中区 with a year of signals — then calibrates this month's thresholds
// and raises the warnings, unless the hub has signals already. It reports
// the households added and the warnings raised.
func LoadWarnings(ctx context.Context, cw *casework.Service, ws *warning.Service, today aidhub.Date) (households, warnings int, err error) {
	ctx = auth.WithPrincipal(ctx, auth.System)
	if n, err := ws.CountSignals(ctx); err != nil || n > 0 {
		return 0, 0, err
	}
	villages := regions.Chongqing().Children("500103001") // 七星岗街道's communities
	r := rand.New(rand.NewPCG(14, 2026))
	seq := 900
	var signals []warning.SignalInput
	add := func(h *casework.Household, kind string, personID int64, on aidhub.Date, fen *int64, status string) {
		signals = append(signals, warning.SignalInput{Source: sourceOf(kind), ExternalID: fmt.Sprintf("DEMO-%d-%d", h.ID, len(signals)),
			HouseholdID: h.ID, PersonID: personID, Kind: kind, ObservedOn: on, AmountFen: fen, Status: status})
	}
	month := func(ago int) aidhub.Date { // the 10th of a month, never after today
		t := time.Date(today.Year(), today.Month(), 10, 0, 0, 0, 0, time.UTC).AddDate(0, -ago, 0)
		if t.After(today.Time) {
			t = today.Time
		}
		return aidhub.Date{Time: t}
	}
	register := func(village string, members []demoPerson) (*casework.Household, []*casework.Person, error) {
		in := casework.HouseholdInput{ExternalID: ptr(fmt.Sprintf("DEMO-W%d", seq)), RegionCode: village, MonthlyIncomeFen: 150000}
		for _, m := range members {
			seq++
			var groups []casework.MembershipInput
			for _, g := range m.groups {
				groups = append(groups, casework.MembershipInput{GroupCode: g, Since: today.AddDays(-500)})
			}
			id, err := residentID("500103", m.birth, seq, today)
			if err != nil {
				return nil, nil, err
			}
			in.Members = append(in.Members, casework.PersonInput{Name: m.name, ResidentID: id, Relation: m.relation, Groups: groups})
		}
		return cw.RegisterHousehold(ctx, in)
	}
	for i := range background {
		name := string(surnames[r.IntN(len(surnames))]) + given[r.IntN(len(given))]
		birth := fmt.Sprintf("%d%02d%02d", 1955+r.IntN(30), 1+r.IntN(12), 1+r.IntN(28))
		h, _, err := register(villages[i%len(villages)].Code, []demoPerson{{name, birth, "HEAD", []string{"DIBAO"}}})
		if err != nil {
			return i, 0, fmt.Errorf("demo: monitored household %d: %w", i+1, err)
		}
		base := 1200 + r.Float64()*1400
		for ago := 12; ago >= 0; ago-- {
			fen := int64(base*(1+r.NormFloat64()*0.06)) * 100
			add(h, "INCOME", 0, month(ago), &fen, "")
		}
	}
	for i, sc := range scenarios {
		h, persons, err := register(villages[i%len(villages)].Code, sc.members)
		if err != nil {
			return background + i, 0, fmt.Errorf("demo: household in trouble %d: %w", i+1, err)
		}
		for ago := 12; ago >= 1; ago-- {
			fen := sc.before*100 + int64(ago%3-1)*3000 // a little movement, no trend
			add(h, "INCOME", 0, month(ago), &fen, "")
		}
		add(h, "INCOME", 0, month(0), ptr(sc.now*100), "")
		if sc.medical > 0 {
			add(h, "MEDICAL_SPENDING", 0, month(0), ptr(sc.medical*100), "")
		}
		for ago := 2; sc.arrears > 0 && ago >= 0; ago-- {
			add(h, "ARREARS", 0, month(ago), ptr(sc.arrears*100), "")
		}
		for _, e := range sc.events {
			add(h, e.kind, persons[e.member].ID, today.AddDays(-e.daysAgo), nil, e.status)
		}
	}
	for start := 0; start < len(signals); start += warning.MaxSignalsPerCall {
		if _, err := ws.RecordSignals(ctx, signals[start:min(start+warning.MaxSignalsPerCall, len(signals))]); err != nil {
			return background + len(scenarios), 0, fmt.Errorf("demo: signals: %w", err)
		}
	}
	res, err := ws.FullPass(ctx, nil)
	if err != nil {
		return background + len(scenarios), 0, fmt.Errorf("demo: monitor: %w", err)
	}
	for _, n := range res.Raised {
		warnings += n
	}
	return background + len(scenarios), warnings, nil
}

// sourceOf names the department that sends a kind of signal.
func sourceOf(kind string) string {
	switch kind {
	case "INCOME", "EMPLOYMENT":
		return "HRSS" // 人力资源和社会保障局
	case "MEDICAL_SPENDING", "HOSPITALISATION":
		return "MEDICAL_INSURANCE" // 医疗保障局
	case "SCHOOL_LEAVING", "EDUCATION_SPENDING":
		return "EDUCATION" // 教育委员会
	case "DEATH":
		return "CIVIL_REGISTRY" // 民政 / 公安 户籍
	case "DISABILITY_GRADE":
		return "DISABLED_FEDERATION" // 残联
	default:
		return "UTILITIES" // 水电气
	}
}
