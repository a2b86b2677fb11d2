package synthpop

// Signals: twelve months of what other departments send about each
// generated household (issue 14), ending with the month of Options.Today,
// with ordinary noise, shocks injected into known households (the early-
// warning backtest's ground truth) and one district's flood (a common shock
// the adaptive rules must not flood on). Like model.go, these are plausible
// assumptions, not statistics; the source or the reason of each is beside it.
//
//   - INCOME (HRSS, monthly, the household): around the stored
//     monthly_income_fen, log-normal month-to-month noise σ 0.08 (wages of
//     casual and piece work vary; a pension does not, so this is a middle
//     figure); 3 % of household-months have no signal (late or failed
//     reports). Zero-income households report 0.
//   - Spring Festival (February): households in a village (村, a
//     villagers' committee) of a district outside the nine central urban
//     districts (主城都市区中心城区: 渝中, 大渡口, 江北, 沙坪坝, 九龙坡,
//     南岸, 北碚, 渝北, 巴南), with a member of working age (18–59), earn
//     20–30 % less in February: their migrant workers come home for the
//     festival and are not paid. The rule is per village and district, so
//     the urban communities of a county and the villages of the central
//     districts (whose workers commute) keep their income. March is back at
//     the usual level (the rebound).
//   - MEDICAL_SPENDING (MEDICAL_INSURANCE, settled out-of-pocket claims):
//     most months none; in a month with a claim, log-normal around the
//     household's stored monthly medical spending (at least 80 yuan), σ 0.7.
//     A claim comes in 5 % of months, 12 % with a member of 60 or over, 20 %
//     with a disabled member and 40 % with a seriously ill one (chronic
//     illness means regular outpatient claims).
//   - HOSPITALISATION (MEDICAL_INSURANCE, a person): China's inpatient rate
//     is about 18 % of the population a year (national health statistics,
//     2019–2021); here 10 % a year under 60, 30 % from 60, 80 % for the
//     seriously ill. Each admission brings an out-of-pocket bill in its
//     month, log-normal around 1,200 yuan, σ 0.8 (basic insurance, critical
//     illness insurance and medical assistance — 三重保障 — leave low-income
//     patients a small share of a stay's ~10,000 yuan).
//   - EDUCATION_SPENDING (EDUCATION): in February and September (the terms
//     start) for households with a member aged 6–22 and stored education
//     spending, 4–6 months of it (fees, books, board); 10 % not reported.
//   - ARREARS (UTILITIES, outstanding): a household falls behind in 0.15 %
//     of months (0.4 % in town, where rent and utilities are paid in cash),
//     for 2–5 months, owing a month's housing cost (at least 200 yuan) more
//     each month; then it is cleared and no longer reported.
//   - EMPLOYMENT (HRSS, a person of 18–59): LOST_JOB in 0.25 % of months
//     (3 % a year: low-income workers change jobs often); the household then
//     earns 0–25 % less (other earners, unemployment insurance, odd jobs)
//     until REEMPLOYED 1–6 months later (three in four; the rest stay out).
//   - DEATH (PUBLIC_SECURITY, deregistration): a year's risk 0.2 % under 60,
//     1.2 % at 60–69, 3 % at 70–79, 9 % from 80 (of the order of China's life
//     tables), three times that for the seriously ill. Nothing follows it.
//   - DISABILITY_GRADE (CDPF, 残联, the new grade 1–4 or NONE): a
//     reassessment in 4 % of the disabled's years, a new disability in
//     0.2 % of the others'.
//   - SCHOOL_LEAVING (EDUCATION, 控辍保学 registration): 0.4 % a year at
//     6–14 (compulsory schooling is enforced), 2 % at 15–17; once.
//   - Injected shocks, the ground truth: in each of the last 6 months 0.4 %
//     of households get one shock (at most one per household), of a kind
//     drawn among those the household can have: INCOME_COLLAPSE (income
//     −50 to −90 % from that month on; a household with income), MEDICAL_BILL
//     (a member's admission that month with a bill of 2–6 months' income, at
//     least 3,000 yuan; the elderly and the ill weigh more), JOB_LOSS
//     (LOST_JOB of a member of 18–59 and income −40 % from that month on; a
//     household with income and a dependant: a member under 18 or 60 and
//     over). The shock's subject is kept alive through the window and has no
//     ordinary job changes, so the story stays coherent.
//   - Flood: one district (万州区, on the Yangtze) in one of the last 3 months
//     (not a February, so the two common shocks stay apart): 60 % of its
//     households lose 30–50 % of that month's income and recover the month
//     after. Not ground truth: a common shock.
//
// About 14.8 signals per household-year (measured on 60,000 persons): 11.6
// incomes, 2.2 medical claims, 0.44 admissions, 0.35 term fees, 0.08
// arrears, the rest rarer.
// Signals are dated on a day of their month before Today (the current
// month's up to yesterday) and recorded at 02:00 by the nightly data
// exchange 1–3 days later (yesterday at the latest): never today or after.

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/warning/detect"
)

// Kinds of injected shock (the backtest's ground truth).
const (
	ShockIncomeCollapse = "INCOME_COLLAPSE"
	ShockMedicalBill    = "MEDICAL_BILL"
	ShockJobLoss        = "JOB_LOSS"
)

// ShockKinds lists the kinds of injected shock.
var ShockKinds = []string{ShockIncomeCollapse, ShockMedicalBill, ShockJobLoss}

// Shock is one injected shock: a household, the month it starts, its kind.
type Shock struct {
	HouseholdID int64
	Month       detect.Month
	Kind        string
}

// Flood is the common shock of one district in one month.
type Flood struct {
	District string // 6-digit code; "" when there is none
	Name     string
	Month    detect.Month
	Share    float64 // of the district's households that lost income
}

// The signal model's figures (see the comment at the top).
const (
	signalMonths     = 12
	incomeSigma      = 0.08
	incomeMissing    = 0.03
	springDipLo      = 0.20
	springDipHi      = 0.30
	shockMonths      = 6
	shockShare       = 0.004 // of households per month of the last shockMonths
	collapseLo       = 0.50
	collapseHi       = 0.90
	jobLossCut       = 0.40
	billLo, billHi   = 2.0, 6.0
	billMinFen       = 300_000
	floodMonths      = 3
	floodShare       = 0.60
	floodLo, floodHi = 0.30, 0.50
	floodDistrict    = "500101" // 万州区
	educationMonths  = 4        // a term's payment is 4–6 months of the stored spending
	arrearsMinFen    = 20_000
)

// centralDistricts are Chongqing's nine central urban districts
// (主城都市区中心城区): no Spring Festival dip there.
var centralDistricts = []string{"500103", "500104", "500105", "500106", "500107", "500108", "500109", "500112", "500113"}

// sigKind is a signal kind and the department it comes from, boxed once:
// every row shares the values.
type sigKind struct{ source, kind any }

var (
	// 人力资源和社会保障局: wages, pensions, employment registration
	sigIncome     = sigKind{"HRSS", detect.KindIncome}
	sigEmployment = sigKind{"HRSS", detect.KindEmployment}
	// 医疗保障局: settled claims, admissions
	sigMedical  = sigKind{"MEDICAL_INSURANCE", detect.KindMedicalSpending}
	sigAdmitted = sigKind{"MEDICAL_INSURANCE", detect.KindHospitalisation}
	// 教育局: fees, dropout registration (控辍保学)
	sigEducation                     = sigKind{"EDUCATION", detect.KindEducationSpending}
	sigLeftSchool                    = sigKind{"EDUCATION", detect.KindSchoolLeaving}
	sigArrears                       = sigKind{"UTILITIES", detect.KindArrears}     // water, power, gas and rent
	sigDeath                         = sigKind{"PUBLIC_SECURITY", detect.KindDeath} // 户籍: deregistration
	sigDisability                    = sigKind{"CDPF", detect.KindDisabilityGrade}  // 残联: disability assessments
	grades                           = [...]any{"1", "2", "3", "4"}
	lostJob, backAtWork, noGrade any = "LOST_JOB", "REEMPLOYED", "NONE"
	noStatus                     any = "" // the column is NOT NULL
)

// sigCols is the columns of tSignals.
const sigCols = 11

// sigGen draws each household's signals from a stream of its own, so the
// rest of the population is the same with or without them.
type sigGen struct {
	w    *world
	r    *rand.Rand
	next int64 // last signal id given

	first, last detect.Month
	// start[i] is the first day of month first+i; start[signalMonths] the
	// day after the window.
	start [signalMonths + 1]aidhub.Day
	// days[i] is the days of month i that can carry a signal: all of them,
	// the current month's up to yesterday.
	days      [signalMonths]int
	today     aidhub.Day
	dates     []any // boxed DATE values by day from start[0], reused by every row
	stamps    []any // boxed recorded_at values (the nightly exchange, 02:00) likewise
	months    [signalMonths]any
	block     []any  // rows are cut from it: one allocation per 4,096 rows
	migrant   []bool // by district index: outside the central urban districts
	flood     Flood
	floodIdx  int // the flood's district index, -1 for none
	floodAt   int // the flood's month index
	shocks    []Shock
	springIdx int // February's month index, -1 when the window has none

	factor [signalMonths]float64 // the household's income multipliers, per month
	ps     []sigPerson           // the household's members, reused
}

func newSigGen(w *world, r *rand.Rand, lastID int64) *sigGen {
	s := &sigGen{w: w, r: r, next: lastID, floodIdx: -1, springIdx: -1}
	s.today = aidhub.DayOf(w.today.Time)
	s.last = detect.MonthOf(w.today.Time)
	s.first = s.last - signalMonths + 1
	for i := range s.start {
		m := s.first + detect.Month(i)
		s.start[i] = aidhub.DayOf(time.Date(m.Year(), time.Month(m.MonthOfYear()), 1, 0, 0, 0, 0, time.UTC))
	}
	for i := range s.days {
		s.days[i] = int(min(s.start[i+1], s.today) - s.start[i])
		if (s.first + detect.Month(i)).MonthOfYear() == 2 {
			s.springIdx = i
		}
	}
	s.dates = make([]any, int(s.today-s.start[0]))
	s.stamps = make([]any, len(s.dates))
	for i := range s.dates {
		s.dates[i] = (s.start[0] + aidhub.Day(i)).Time()
		s.stamps[i] = w.todayStart.AddDate(0, 0, i-len(s.dates)).Add(2 * time.Hour).UTC()
	}
	for i := range s.months {
		s.months[i] = int64(s.first) + int64(i)
	}
	s.migrant = make([]bool, len(w.districts))
	for i, d := range w.districts {
		s.migrant[i] = !slices.Contains(centralDistricts, d)
	}
	// the flood: one of the last floodMonths with days, not a February
	if d, ok := w.districtOf[floodDistrict]; ok {
		var cands []int
		for i := signalMonths - floodMonths; i < signalMonths; i++ {
			if s.days[i] > 0 && i != s.springIdx {
				cands = append(cands, i)
			}
		}
		if len(cands) > 0 {
			s.floodIdx, s.floodAt = d, cands[r.IntN(len(cands))]
			s.flood = Flood{District: floodDistrict, Name: w.districtName[d], Month: s.first + detect.Month(s.floodAt), Share: floodShare}
		}
	}
	return s
}

// person is a member as the signals see them.
type sigPerson struct {
	m             *member
	id            any // boxed once
	birth         aidhub.Day
	ill, disabled bool
	keep          bool // the shock's subject: alive, no ordinary job changes
}

// household draws the signals of one household into c.signals.
func (s *sigGen) household(c *chunk, hid int64, v village, ms []*member, income, medical, education, housing int64) {
	r := s.r
	h := any(hid)
	for i := range s.factor {
		s.factor[i] = 1
	}
	ps, f := s.members(ms)
	sh := s.shock(hid, ps, f, income) // decided first so its subject can be kept

	// common shocks
	if v.district == s.floodIdx && chance(r, floodShare) {
		s.factor[s.floodAt] *= 1 - uniform(r, floodLo, floodHi)
	}
	if s.springIdx >= 0 && s.migrant[v.district] && v.rural && f.working && income > 0 {
		s.factor[s.springIdx] *= 1 - uniform(r, springDipLo, springDipHi)
	}

	for i := range ps {
		s.personEvents(c, h, &ps[i])
	}
	s.spending(c, h, ps, v, f, medical, education, housing)
	s.applyShock(c, h, ps, sh, income)
	s.incomes(c, h, income)
}

// sigFacts is who lives in a household, as the signals see it.
type sigFacts struct{ elderly, ill, disabled, working, dependant, student bool }

// members fills s.ps with the household's members.
func (s *sigGen) members(ms []*member) ([]sigPerson, sigFacts) {
	ps := slices.Grow(s.ps[:0], len(ms))[:len(ms)]
	s.ps = ps
	var f sigFacts
	for i, m := range ms {
		ps[i] = sigPerson{m: m, id: m.id, birth: aidhub.DayOf(m.birth),
			ill: slices.Contains(m.groups, "SERIOUS_ILLNESS"), disabled: slices.Contains(m.groups, "DISABILITY")}
		f.elderly = f.elderly || m.age >= 60
		f.ill, f.disabled = f.ill || ps[i].ill, f.disabled || ps[i].disabled
		f.working = f.working || m.age >= 18 && m.age < 60
		f.dependant = f.dependant || m.age < 18 || m.age >= 60
		f.student = f.student || m.age >= 6 && m.age <= 22
	}
	return ps, f
}

// sigShock is a household's injected shock: month index, kind, the member
// it is about (at -1: none).
type sigShock struct {
	at, subject int
	kind        string
}

// shock draws whether the household gets a shock, and which, and records
// it in the ground truth.
func (s *sigGen) shock(hid int64, ps []sigPerson, f sigFacts, income int64) sigShock {
	r := s.r
	if !chance(r, shockShare*shockMonths) {
		return sigShock{at: -1}
	}
	i := signalMonths - shockMonths + r.IntN(shockMonths)
	kinds := []float64{0, 1, 0}
	if income > 0 {
		kinds[0] = 1
		if f.working && f.dependant && len(ps) > 1 {
			kinds[2] = 1
		}
	}
	if s.days[i] == 0 {
		return sigShock{at: -1}
	}
	kind := ShockKinds[pickW(r, kinds)]
	w := make([]float64, len(ps))
	for j, p := range ps {
		switch {
		case p.birth >= s.start[i]: // not born yet
		case kind == ShockJobLoss:
			if p.m.age >= 18 && p.m.age < 60 {
				w[j] = 1
			}
		case p.ill:
			w[j] = 3
		case p.m.age >= 60:
			w[j] = 2
		default:
			w[j] = 1
		}
	}
	subject := pickW(r, w)
	ps[subject].keep = true
	s.shocks = append(s.shocks, Shock{HouseholdID: hid, Month: s.first + detect.Month(i), Kind: kind})
	return sigShock{at: i, subject: subject, kind: kind}
}

// applyShock writes the shock's signals and its effect on income.
func (s *sigGen) applyShock(c *chunk, h any, ps []sigPerson, sh sigShock, income int64) {
	r := s.r
	switch sh.kind {
	case ShockIncomeCollapse:
		cut := uniform(r, collapseLo, collapseHi)
		for i := sh.at; i < signalMonths; i++ {
			s.factor[i] *= 1 - cut
		}
	case ShockJobLoss:
		s.emit(c, sigEmployment, h, ps[sh.subject].id, sh.at, s.dayIn(sh.at), nil, lostJob)
		for i := sh.at; i < signalMonths; i++ {
			s.factor[i] *= 1 - jobLossCut
		}
	case ShockMedicalBill:
		day := s.dayIn(sh.at)
		s.emit(c, sigAdmitted, h, ps[sh.subject].id, sh.at, day, nil, nil)
		bill := max(roundYuan(float64(income)*uniform(r, billLo, billHi)), billMinFen)
		s.emit(c, sigMedical, h, ps[sh.subject].id, sh.at, s.later(day, sh.at), bill, nil)
	}
}

// incomes writes the monthly incomes, last: every multiplier is known.
func (s *sigGen) incomes(c *chunk, h any, income int64) {
	r := s.r
	for i := range signalMonths {
		if s.days[i] == 0 || chance(r, incomeMissing) {
			continue
		}
		amount := int64(0)
		if income > 0 {
			amount = roundYuan(float64(income) * s.factor[i] * math.Exp(incomeSigma*r.NormFloat64()))
		}
		day := s.start[i] + aidhub.Day(r.IntN(s.days[i]))
		if s.days[i] >= 28 { // paid between the 10th and the 28th
			day = s.start[i] + aidhub.Day(9+r.IntN(19))
		}
		s.emit(c, sigIncome, h, nil, i, day, amount, nil)
	}
}

// personEvents draws a member's admissions, job changes, disability
// reassessments, leaving school and death, month by month.
func (s *sigGen) personEvents(c *chunk, h any, p *sigPerson) {
	r := s.r
	lost, back := false, -1 // out of work; the month of re-employment (-1: none)
	leftSchool := false
	for i := range signalMonths {
		if s.days[i] == 0 || p.birth >= s.start[i+1] {
			continue
		}
		age := int(float64(s.start[i]-p.birth) / 365.25)
		if chance(r, hospitalRate(age, p.ill)/12) {
			day := s.dayIn(i)
			s.emit(c, sigAdmitted, h, p.id, i, day, nil, nil)
			s.emit(c, sigMedical, h, p.id, i, s.later(day, i), roundYuan(logNormal(r, 120_000, 0.8)), nil)
		}
		if age >= 18 && age < 60 && !p.keep {
			switch {
			case lost && i == back:
				lost = false
				s.emit(c, sigEmployment, h, p.id, i, s.dayIn(i), nil, backAtWork)
			case !lost && chance(r, 0.0025):
				lost, back = true, -1
				if chance(r, 0.75) {
					back = i + between(r, 1, 6)
				}
				cut := uniform(r, 0, 0.25)
				for j := i; j < signalMonths && (back < 0 || j < back); j++ {
					s.factor[j] *= 1 - cut
				}
				s.emit(c, sigEmployment, h, p.id, i, s.dayIn(i), nil, lostJob)
			}
		}
		disability := 0.002
		if p.disabled {
			disability = 0.04
		}
		if chance(r, disability/12) {
			grade := grades[pickW(r, []float64{10, 20, 35, 35})]
			if p.disabled && chance(r, 0.1) {
				grade = noGrade
			}
			s.emit(c, sigDisability, h, p.id, i, s.dayIn(i), nil, grade)
		}
		if !leftSchool && age >= 6 && age < 18 {
			rate := 0.004
			if age >= 15 {
				rate = 0.02
			}
			if chance(r, rate/12) {
				leftSchool = true
				s.emit(c, sigLeftSchool, h, p.id, i, s.dayIn(i), nil, nil)
			}
		}
		if !p.keep && chance(r, deathRate(age, p.ill)/12) {
			s.emit(c, sigDeath, h, p.id, i, s.dayIn(i), nil, nil)
			return
		}
	}
}

// spending draws the household's medical claims, term fees and arrears.
func (s *sigGen) spending(c *chunk, h any, ps []sigPerson, v village, f sigFacts, medical, education, housing int64) {
	r := s.r
	claim := 0.05
	switch {
	case f.ill:
		claim = 0.4
	case f.disabled:
		claim = 0.2
	case f.elderly:
		claim = 0.12
	}
	arrears := 0.0015
	if !v.rural {
		arrears = 0.004
	}
	owed, until := int64(0), -1
	for i := range signalMonths {
		if s.days[i] == 0 {
			continue
		}
		if chance(r, claim) {
			p := &ps[r.IntN(len(ps))]
			if p.birth < s.start[i+1] {
				s.emit(c, sigMedical, h, p.id, i, s.dayIn(i), roundYuan(logNormal(r, float64(max(medical, 8_000)), 0.7)), nil)
			}
		}
		if moy := (s.first + detect.Month(i)).MonthOfYear(); (moy == 2 || moy == 9) && f.student && education > 0 && chance(r, 0.9) {
			s.emit(c, sigEducation, h, nil, i, s.dayIn(i), roundYuan(float64(education)*uniform(r, educationMonths, educationMonths+2)), nil)
		}
		switch {
		case i < until:
			owed += roundYuan(float64(max(housing, arrearsMinFen)) * uniform(r, 0.8, 1.2))
		case chance(r, arrears):
			owed, until = roundYuan(float64(max(housing, arrearsMinFen))*uniform(r, 0.8, 1.2)), i+between(r, 2, 5)
		default:
			continue
		}
		s.emit(c, sigArrears, h, nil, i, s.dayIn(i), owed, nil)
	}
}

// hospitalRate is a person's yearly chance of an admission.
func hospitalRate(age int, ill bool) float64 {
	switch {
	case ill:
		return 0.8
	case age >= 60:
		return 0.3
	}
	return 0.1
}

// deathRate is a person's yearly chance of dying.
func deathRate(age int, ill bool) float64 {
	q := 0.002
	switch {
	case age >= 80:
		q = 0.09
	case age >= 70:
		q = 0.03
	case age >= 60:
		q = 0.012
	}
	if ill {
		q *= 3
	}
	return q
}

// dayIn draws a day of month i that can carry a signal.
func (s *sigGen) dayIn(i int) aidhub.Day { return s.start[i] + aidhub.Day(s.r.IntN(s.days[i])) }

// later draws a day 0–10 days after day, within month i (a bill settles
// after the admission).
func (s *sigGen) later(day aidhub.Day, i int) aidhub.Day {
	return min(day+aidhub.Day(s.r.IntN(11)), s.start[i]+aidhub.Day(s.days[i]-1))
}

// emit appends one signal of month i: person nil is the household's;
// amount nil is NULL, status nil none (""). It is recorded by the nightly exchange
// 1–3 days later (yesterday at the latest).
func (s *sigGen) emit(c *chunk, k sigKind, household, person any, i int, day aidhub.Day, amount, status any) {
	s.next++
	if len(s.block) < sigCols {
		s.block = make([]any, sigCols*4096)
	}
	row := s.block[:sigCols:sigCols]
	s.block = s.block[sigCols:]
	recorded := min(day+1+aidhub.Day(s.r.IntN(3)), s.today-1)
	if status == nil {
		status = noStatus
	}
	row[0], row[1], row[2], row[3], row[4], row[5] = s.next, k.source, strconv.FormatInt(s.next, 10), household, person, k.kind
	row[6], row[7], row[8], row[9], row[10] = s.dates[day-s.start[0]], s.months[i], amount, status, s.stamps[recorded-s.start[0]]
	c.signals = append(c.signals, row)
}

// roundYuan rounds fen to whole yuan.
func roundYuan(fen float64) int64 { return int64(math.Round(fen/100)) * 100 }

// uniform draws from [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// ---- the ground truth, in the data folder ----

// Files of the ground truth in the data folder: the shocks (household_id,
// month, kind; no personal data) and the window and the flood.
const (
	ShocksFile  = "shocks.csv"
	SignalsFile = "signals.json"
)

// GroundTruth is what the backtest scores against: the window of the
// generated signals, the injected shocks and the flood.
type GroundTruth struct {
	Seed        int64
	Today       aidhub.Date
	First, Last detect.Month // the signals' window
	Signals     int
	Shocks      []Shock
	Flood       Flood
}

// truthFile is SignalsFile's content.
type truthFile struct {
	Seed       int64  `json:"seed"`
	Today      string `json:"today"`
	FirstMonth string `json:"firstMonth"`
	LastMonth  string `json:"lastMonth"`
	Signals    int    `json:"signals"`
	Shocks     int    `json:"shocks"`
	// the common shocks, for whoever reads the file: the flood and the
	// February of the migrant workers' dip
	Flood  *floodFile `json:"flood,omitempty"`
	Spring string     `json:"springFestivalDip,omitempty"`
}

type floodFile struct {
	District string  `json:"district"`
	Name     string  `json:"name"`
	Month    string  `json:"month"`
	Share    float64 `json:"share"`
}

// GroundTruth returns the report's ground truth.
func (r Report) GroundTruth() GroundTruth {
	return GroundTruth{Seed: r.Seed, Today: r.Today, First: r.SignalMonths[0], Last: r.SignalMonths[1],
		Signals: r.Signals, Shocks: r.Shocks, Flood: r.Flood}
}

// WriteGroundTruth writes ShocksFile and SignalsFile into dir.
func WriteGroundTruth(dir string, g GroundTruth) error {
	var b []byte
	b = append(b, "household_id,month,kind\n"...)
	for _, s := range g.Shocks {
		b = strconv.AppendInt(b, s.HouseholdID, 10)
		b = append(b, ',')
		b = append(b, s.Month.String()...)
		b = append(b, ',')
		b = append(b, s.Kind...)
		b = append(b, '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, ShocksFile), b, 0o644); err != nil {
		return fmt.Errorf("write the shocks: %w", err)
	}
	f := truthFile{Seed: g.Seed, Today: g.Today.String(), FirstMonth: g.First.String(), LastMonth: g.Last.String(),
		Signals: g.Signals, Shocks: len(g.Shocks)}
	for m := g.First; m <= g.Last; m++ {
		if m.MonthOfYear() == 2 {
			f.Spring = m.String()
		}
	}
	if g.Flood.District != "" {
		f.Flood = &floodFile{g.Flood.District, g.Flood.Name, g.Flood.Month.String(), g.Flood.Share}
	}
	j, err := json.MarshalIndent(f, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, SignalsFile), append(j, '\n'), 0o644)
	}
	if err != nil {
		return fmt.Errorf("write the signals' window: %w", err)
	}
	return nil
}

// ReadGroundTruth reads what WriteGroundTruth wrote into dir.
func ReadGroundTruth(dir string) (GroundTruth, error) {
	var g GroundTruth
	b, err := os.ReadFile(filepath.Join(dir, SignalsFile))
	if err != nil {
		return g, fmt.Errorf("read the ground truth (bench generate --data %s writes it): %w", dir, err)
	}
	var t truthFile
	if err := json.Unmarshal(b, &t); err != nil {
		return g, fmt.Errorf("read %s: %w", SignalsFile, err)
	}
	g.Seed, g.Signals = t.Seed, t.Signals
	if g.Today, err = aidhub.ParseDate(t.Today); err == nil {
		if g.First, err = detect.ParseMonth(t.FirstMonth); err == nil {
			g.Last, err = detect.ParseMonth(t.LastMonth)
		}
	}
	if err == nil && t.Flood != nil {
		g.Flood = Flood{District: t.Flood.District, Name: t.Flood.Name, Share: t.Flood.Share}
		g.Flood.Month, err = detect.ParseMonth(t.Flood.Month)
	}
	if err != nil {
		return g, fmt.Errorf("read %s: %w", SignalsFile, err)
	}
	f, err := os.Open(filepath.Join(dir, ShocksFile))
	if err != nil {
		return g, fmt.Errorf("read the shocks: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = 3
	cr.ReuseRecord = true
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return g, fmt.Errorf("read %s: %w", ShocksFile, err)
		}
		if line == 1 {
			continue // the header
		}
		id, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil {
			return g, fmt.Errorf("read %s: line %d: household_id is not a number", ShocksFile, line)
		}
		m, err := detect.ParseMonth(rec[1])
		if err != nil {
			return g, fmt.Errorf("read %s: line %d: month: %w", ShocksFile, line, err)
		}
		if !slices.Contains(ShockKinds, rec[2]) {
			return g, fmt.Errorf("read %s: line %d: unknown kind %q", ShocksFile, line, rec[2])
		}
		g.Shocks = append(g.Shocks, Shock{HouseholdID: id, Month: m, Kind: rec[2]})
	}
	return g, nil
}
