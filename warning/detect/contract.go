package detect

import (
	"fmt"
	"time"

	"github.com/aidhub/aidhub"
)

// Month is a calendar month counted from January 2000 (0): months compare and
// subtract as integers.
type Month int32

// MonthOf returns the month of t.
func MonthOf(t time.Time) Month { return Month((t.Year()-2000)*12 + int(t.Month()) - 1) }

// ParseMonth parses YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a month in the form YYYY-MM", s)
	}
	return MonthOf(t), nil
}

// String formats the month as YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", 2000+int(m)/12, int(m)%12+1) }

// Year and MonthOfYear (1–12) of the month.
func (m Month) Year() int        { return 2000 + int(m)/12 }
func (m Month) MonthOfYear() int { return int(m)%12 + 1 }

// Signal kinds: facts about a household or person sent by other departments.
// Amount kinds carry AmountFen for the month of the signal's date (several
// signals of one kind in one month add up); event kinds carry a date and,
// for EMPLOYMENT and DISABILITY_GRADE, a Status.
const (
	KindIncome            = "INCOME"             // household or person, monthly income, fen
	KindMedicalSpending   = "MEDICAL_SPENDING"   // out-of-pocket medical spending, fen
	KindEducationSpending = "EDUCATION_SPENDING" // fen
	KindArrears           = "ARREARS"            // housing/utility arrears outstanding, fen
	KindEmployment        = "EMPLOYMENT"         // person; Status EMPLOYED, LOST_JOB or REEMPLOYED
	KindHospitalisation   = "HOSPITALISATION"    // person; an admission on the date
	KindDisabilityGrade   = "DISABILITY_GRADE"   // person; Status the new grade "1".."4" (1 most severe) or "NONE"
	KindDeath             = "DEATH"              // person
	KindSchoolLeaving     = "SCHOOL_LEAVING"     // person, a child leaving school
)

// Kinds lists every signal kind, in a fixed order.
var Kinds = []string{KindIncome, KindMedicalSpending, KindEducationSpending, KindArrears,
	KindEmployment, KindHospitalisation, KindDisabilityGrade, KindDeath, KindSchoolLeaving}

// Measures threshold rules read, each a number per household and month.
const (
	// MeasureIncomeDrop: (baseline − income) / baseline, where the baseline
	// is the median of the household's income in the 3 months before (at
	// least 2 of them known, baseline > 0); a rise is negative.
	MeasureIncomeDrop = "INCOME_DROP"
	// MeasureMedicalShare: the month's medical spending / baseline income
	// (income floor MinIncomeFen so that no income is not a division by 0).
	MeasureMedicalShare = "MEDICAL_SHARE"
	// MeasureEducationShare: the month's education spending / baseline income.
	MeasureEducationShare = "EDUCATION_SHARE"
	// MeasureArrearsShare: arrears outstanding / baseline income (months of income owed).
	MeasureArrearsShare = "ARREARS_SHARE"
	// MeasureRigidShare: (medical + education + arrears) / baseline income.
	MeasureRigidShare = "RIGID_SHARE"
)

// Measures lists every measure.
var Measures = []string{MeasureIncomeDrop, MeasureMedicalShare, MeasureEducationShare, MeasureArrearsShare, MeasureRigidShare}

// Cell is where a threshold is calibrated: a district (6-digit code) × a
// population group ("" = all groups). The city is District "50".
type Cell struct {
	District string
	Group    string
}

// Scope says which cell a threshold came from after falling back.
type Scope string

const (
	ScopeCell     Scope = "CELL"     // the household's district × group
	ScopeDistrict Scope = "DISTRICT" // the district, all groups: the cell was too small
	ScopeCity     Scope = "CITY"     // the city: the district was too small too
	ScopeFixed    Scope = "FIXED"    // no calibration: the type's fixed value
)

// Threshold is one calibration: the cut-off of a threshold type's
// peer-adjusted measure for households of Cell in Month, computed from N
// household-months of Window (the months before Month), clamped to the
// type's floor and ceiling.
type Threshold struct {
	Type   string // warning type code
	Cell   Cell   // the cell asked for
	Month  Month  // the month it applies to
	Scope  Scope  // where Value came from after fallbacks
	Value  float64
	Raw    float64 // the statistic before clamping
	N      int     // household-months behind Raw
	Window [2]Month
	Method string // e.g. "p95", "median+3MAD"
	// Clamped says Raw was outside [floor, ceiling] and which bound was used: "", "FLOOR" or "CEILING".
	Clamped string
}

// Severity of a warning type.
type Severity string

const (
	SeverityLow      Severity = "LOW"
	SeverityMedium   Severity = "MEDIUM"
	SeverityHigh     Severity = "HIGH"
	SeverityCritical Severity = "CRITICAL"
)

// Level is the unit responsible for a warning: the household's street or its district.
type Level string

const (
	LevelStreet   Level = "STREET"
	LevelDistrict Level = "DISTRICT"
)

// Type is a warning type, data an ADMIN edits like the catalog. It is either
// a Rule (an expr expression over Facts, true = warn) or a Threshold rule over
// one measure, never both.
type Type struct {
	Code     string   `json:"code"`
	NameZh   string   `json:"nameZh"`
	NameEn   string   `json:"nameEn"`
	Signals  []string `json:"signals"`  // the signal kinds it reads (and WATCHLIST, AID, MEMBERSHIP for casework's facts)
	Groups   []string `json:"groups"`   // population groups it applies to; empty: every household
	Severity Severity `json:"severity"` //
	Level    Level    `json:"level"`    // who must act
	SLADays  int      `json:"slaDays"`  // due date = raised + SLADays
	Enabled  bool     `json:"enabled"`
	// Subject names the person a warning is about: the most recent event of
	// this signal kind within RecentDays (e.g. SCHOOL_LEAVING → the child);
	// "" = the household.
	Subject   string         `json:"subject,omitempty"`
	Rule      string         `json:"rule,omitempty"`
	Threshold *ThresholdRule `json:"threshold,omitempty"`
	// What the type watches for, one line each, for the people who act on it.
	DescriptionZh string `json:"descriptionZh,omitempty"`
	DescriptionEn string `json:"descriptionEn,omitempty"`
}

// ThresholdRule warns when a household's peer-adjusted measure reaches the
// calibrated cut-off of its cell, and Also (a rule over Facts, "" = true) holds.
type ThresholdRule struct {
	Measure string `json:"measure"`
	// Method: "QUANTILE" (Quantile of the window) or "MAD" (median + K·MAD).
	Method       string  `json:"method"`
	Quantile     float64 `json:"quantile,omitempty"`
	K            float64 `json:"k,omitempty"`
	WindowMonths int     `json:"windowMonths"` // months before the evaluated one
	MinN         int     `json:"minN"`         // fewer household-months: fall back a level
	Floor        float64 `json:"floor"`        // the cut-off is never below (a calm cell does not alert on noise)
	Ceiling      float64 `json:"ceiling"`      // nor above (a cell in crisis still alerts)
	Fixed        float64 `json:"fixed"`        // the cut-off before any calibration; the backtest's fixed baseline
	// PeerAdjusted subtracts the median of the household's peers (its cell)
	// in the same month, when positive: a drop every peer shares (February's
	// migrant-worker dip, a flood) is not the household's own.
	PeerAdjusted bool   `json:"peerAdjusted"`
	Also         string `json:"also,omitempty"`
}

// RecentDays is how far back an event counts as recent for Facts (a job
// loss, an admission, a death, a child leaving school).
const RecentDays = 60

// MinIncomeFen is the income floor of the burden measures (10 yuan), so a
// household with no income has a large share, not a division by zero.
const MinIncomeFen = 1000

// History is a household's monthly amounts from From to From+len−1; Unknown
// marks a month without a signal of that kind.
type History struct {
	From      Month
	Income    []int64
	Medical   []int64
	Education []int64
	Arrears   []int64
}

// Unknown is a month without a signal.
const Unknown int64 = -1

// Household is what the engine knows of one household on the evaluated day.
type Household struct {
	ID      int64
	Region  string   // its community's 12-digit division code
	Groups  []string // its members' current population groups, catalog order, no repeats
	Left    []string // groups a member left within the last 365 days (防止返贫)
	Members []Member
	History History
	Events  []Event // person events, any order
	// From casework and the watchlist:
	EmergencyAid12m int // aid records in EMERGENCY categories over the last 365 days
	OldestUnmetDays int // the longest an open need of the household has waited, 0 = none
	// Departed are members who died or left within RecentDays, with their
	// age and relation then: a death's facts (a working-age earner, a
	// parent) need them once casework no longer lists the person.
	Departed []Member
}

// District is the household's 6-digit district code.
func (h *Household) District() string {
	if len(h.Region) < 6 {
		return h.Region
	}
	return h.Region[:6]
}

// Group is the household's cell group: its first group in catalog order
// (the catalog lists the most protected first), "" for none.
func (h *Household) Group() string {
	if len(h.Groups) == 0 {
		return ""
	}
	return h.Groups[0]
}

// Member is one person of the household.
type Member struct {
	PersonID int64
	Age      int
	Relation string // HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, GRANDPARENT, SIBLING, OTHER
	Female   bool
}

// Event is a dated person signal: EMPLOYMENT, HOSPITALISATION,
// DISABILITY_GRADE, DEATH or SCHOOL_LEAVING.
type Event struct {
	SignalID int64
	Kind     string
	PersonID int64
	Day      aidhub.Day
	Status   string
}

// PeerMedian is the median of a measure over a cell's households in one
// month: what a household's own change is compared with.
type PeerMedian struct {
	Measure string
	Cell    Cell
	Month   Month
	Median  float64
	N       int
}

// ThresholdSource gives the cut-off a threshold type applies to a cell in a
// month (falling back cell → district → city → the type's Fixed, saying
// which in Threshold.Scope) and the peers' median of a measure in a month.
type ThresholdSource interface {
	For(t *Type, cell Cell, m Month) Threshold
	Peer(measure string, cell Cell, m Month) (median float64, ok bool)
}

// Hit is one warning the engine raises for a household: its type, the
// person it is about (0 = the household), and the evidence.
type Hit struct {
	Type     string
	PersonID int64
	Month    Month // the month evaluated
	// For threshold types: the measure's value, the peers' median it was
	// compared against (0 when not adjusted), the adjusted value and the
	// threshold reached.
	Measure    string
	Value      float64
	PeerMedian float64
	Adjusted   float64
	Threshold  *Threshold
	// Facts the rule (or Also) read, by their rule names, with their values.
	Facts map[string]any
	// Signals behind the hit: the events' signal IDs, and the months of the
	// amounts read (the service looks their signals up for the evidence).
	SignalIDs []int64
	Months    []Month
	// Explanation in English and Chinese, one sentence each, e.g. "income fell
	// 46 % (baseline ¥2,400, this month ¥1,296); the threshold for 500103 DIBAO
	// in 2026-11 is 31 % (p95 of 12 months, n = 4,812)".
	Explanation   string
	ExplanationZh string
}
