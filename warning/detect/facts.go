package detect

import (
	"reflect"

	"github.com/aidhub/aidhub"
)

// Statuses of EMPLOYMENT and DISABILITY_GRADE signals.
const (
	StatusEmployed   = "EMPLOYED"
	StatusLostJob    = "LOST_JOB"
	StatusReemployed = "REEMPLOYED"
	GradeNone        = "NONE" // a DISABILITY_GRADE of no disability
)

// DefaultDibaoStandardFen is the local monthly 低保 standard per person when
// the evaluator is not told otherwise: Chongqing's 2026 urban standard, 800
// yuan. It is configuration (WithDibaoStandard), not a constant of the law:
// it differs between urban and rural areas and changes every year.
const DefaultDibaoStandardFen = 80000

// Ages that split a household's members.
const (
	adultAge          = 18 // children are younger
	elderlyAge        = 60 // elderly are this age or older; working-age adults are 18–59
	schoolAgeFrom     = 6  // compulsory education: ages 6 to 15
	schoolAgeTo       = 15 //
	severeGradeAtMost = 2  // disability grades 1 and 2 are severe
)

// Facts is what a warning rule sees of a household in the evaluated month,
// with the names a rule uses. Members are those living on the evaluated day
// (a member with a DEATH signal is not); events are recent when dated within
// RecentDays up to that day. Amounts are in fen, shares are fractions (0.25
// is 25 %), 0 when the month has no signal of the kind. For example
//
//	jobLosses > 0 && dependants > 0
//	incomeKnown && incomePerCapitaFen < dibaoStandardFen && !("DIBAO" in groups)
type Facts struct {
	HouseholdSize     int      `expr:"householdSize"`     // living members
	Region            string   `expr:"region"`            // 12-digit division code
	Groups            []string `expr:"groups"`            // current population groups, catalog order
	LeftGroups        []string `expr:"leftGroups"`        // groups left within the last 365 days
	Children          int      `expr:"children"`          // under 18
	SchoolAgeChildren int      `expr:"schoolAgeChildren"` // 6–15
	Elderly           int      `expr:"elderly"`           // 60 and older
	WorkingAgeAdults  int      `expr:"workingAgeAdults"`  // 18–59
	Dependants        int      `expr:"dependants"`        // children + elderly
	LivesAlone        bool     `expr:"livesAlone"`        // one living member
	OldestAge         int      `expr:"oldestAge"`         //

	IncomeFen          int64   `expr:"incomeFen"`          // this month's income
	BaselineIncomeFen  int64   `expr:"baselineIncomeFen"`  // median of the 3 months before (History.Baseline), 0 when unknown
	IncomeKnown        bool    `expr:"incomeKnown"`        // this month has an income signal
	IncomePerCapitaFen int64   `expr:"incomePerCapitaFen"` // incomeFen / householdSize
	IncomeDrop         float64 `expr:"incomeDrop"`         // MeasureIncomeDrop
	MedicalFen         int64   `expr:"medicalFen"`         // this month's out-of-pocket medical spending
	MedicalShare       float64 `expr:"medicalShare"`       // MeasureMedicalShare
	EducationFen       int64   `expr:"educationFen"`       //
	EducationShare     float64 `expr:"educationShare"`     // MeasureEducationShare
	ArrearsFen         int64   `expr:"arrearsFen"`         // outstanding this month
	ArrearsShare       float64 `expr:"arrearsShare"`       // MeasureArrearsShare
	RigidShare         float64 `expr:"rigidShare"`         // MeasureRigidShare
	ArrearsMonths      int     `expr:"arrearsMonths"`      // consecutive months up to this one with arrears

	JobLosses           int `expr:"jobLosses"`           // members whose latest employment status is a recent LOST_JOB
	UnemployedAdults    int `expr:"unemployedAdults"`    // working-age members whose latest status is LOST_JOB
	EmployedAdults      int `expr:"employedAdults"`      // members whose latest status is EMPLOYED or REEMPLOYED
	Hospitalisations    int `expr:"hospitalisations"`    // recent admissions
	ElderlyHospitalised int `expr:"elderlyHospitalised"` // elderly persons with a recent admission
	Deaths              int `expr:"deaths"`              // recent deaths
	WorkingAgeDeaths    int `expr:"workingAgeDeaths"`    // of persons 18–59
	ParentDeaths        int `expr:"parentDeaths"`        // of a HEAD or SPOUSE, with a child in the household
	DisabilityWorse     int `expr:"disabilityWorse"`     // members whose grade recently became more severe (NONE → any counts)
	NewSevereDisability int `expr:"newSevereDisability"` // of those, now grade 1 or 2
	DisabledMembers     int `expr:"disabledMembers"`     // members whose latest grade is not NONE
	ChildrenLeftSchool  int `expr:"childrenLeftSchool"`  // school-age children who recently left school

	EmergencyAid12m  int   `expr:"emergencyAid12m"`  // emergency aid records over the last 365 days
	OldestUnmetDays  int   `expr:"oldestUnmetDays"`  // the longest an open need has waited
	DibaoStandardFen int64 `expr:"dibaoStandardFen"` // the local monthly 低保 standard per person
}

// factIndex maps a fact's rule name to its field of Facts, for the evidence
// of a hit (not the hot path).
var factIndex = func() map[string]int {
	t := reflect.TypeFor[Facts]()
	idx := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		idx[t.Field(i).Tag.Get("expr")] = i
	}
	return idx
}()

// FactNames lists the names a rule may read, in Facts' order.
func FactNames() []string {
	t := reflect.TypeFor[Facts]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Tag.Get("expr")
	}
	return names
}

// fact returns the value of the named fact, false for an unknown name.
func (f *Facts) fact(name string) (any, bool) {
	i, ok := factIndex[name]
	if !ok {
		return nil, false
	}
	return reflect.ValueOf(f).Elem().Field(i).Interface(), true
}

// FactsOf computes the facts of household h for month m, on day today,
// with the default 低保 standard.
func FactsOf(h *Household, m Month, today aidhub.Day) Facts {
	var f Facts
	factsInto(&f, h, m, today, DefaultDibaoStandardFen, nil)
	return f
}

// recent reports whether day d falls within RecentDays up to today.
func recent(d, today aidhub.Day) bool { return d <= today && today-d < RecentDays }

// factsInto fills f. It runs for every household of a pass, so it does not
// allocate: one scan of the events per person (households are small). When
// ev is not nil it also records which events each fact counted.
func factsInto(f *Facts, h *Household, m Month, today aidhub.Day, dibaoFen int64, ev *evidence) {
	*f = Facts{
		Region:           h.Region,
		Groups:           h.Groups,
		LeftGroups:       h.Left,
		EmergencyAid12m:  h.EmergencyAid12m,
		OldestUnmetDays:  h.OldestUnmetDays,
		DibaoStandardFen: dibaoFen,
	}
	// Events counted whoever they are about, even a person neither listed
	// nor departed.
	for i := range h.Events {
		e := &h.Events[i]
		if !recent(e.Day, today) {
			continue
		}
		switch e.Kind {
		case KindHospitalisation:
			f.Hospitalisations++
			ev.add("hospitalisations", e.SignalID)
		case KindDeath:
			f.Deaths++
			ev.add("deaths", e.SignalID)
		}
	}
	// Living members first: the counts of children decide parentDeaths.
	for i := range h.Members {
		p := scanPerson(h.Events, h.Members[i].PersonID, today)
		if p.dead {
			continue
		}
		f.living(&h.Members[i], &p, ev)
	}
	f.Dependants = f.Children + f.Elderly
	f.LivesAlone = f.HouseholdSize == 1
	for i := range h.Members {
		f.departed(&h.Members[i], h.Events, today, ev)
	}
	for i := range h.Departed {
		if !listed(h.Members, h.Departed[i].PersonID) {
			f.departed(&h.Departed[i], h.Events, today, ev)
		}
	}
	f.amounts(&h.History, m)
}

// listed reports whether person id is one of members.
func listed(members []Member, id int64) bool {
	for i := range members {
		if members[i].PersonID == id {
			return true
		}
	}
	return false
}

// living adds a living member to the counts.
func (f *Facts) living(mb *Member, p *personEvents, ev *evidence) {
	age := mb.Age
	f.HouseholdSize++
	f.OldestAge = max(f.OldestAge, age)
	switch {
	case age < adultAge:
		f.Children++
		if age >= schoolAgeFrom && age <= schoolAgeTo {
			f.SchoolAgeChildren++
			if p.leftSchool.Kind != "" {
				f.ChildrenLeftSchool++
				ev.add("childrenLeftSchool", p.leftSchool.SignalID)
			}
		}
	case age < elderlyAge:
		f.WorkingAgeAdults++
	default:
		f.Elderly++
		if p.hospitalised {
			f.ElderlyHospitalised++
			ev.addAll("elderlyHospitalised", p.admissions)
		}
	}
	switch p.employment.Status {
	case StatusLostJob:
		if p.employmentRecent {
			f.JobLosses++
			ev.add("jobLosses", p.employment.SignalID)
		}
		if age >= adultAge && age < elderlyAge {
			f.UnemployedAdults++
			ev.add("unemployedAdults", p.employment.SignalID)
		}
	case StatusEmployed, StatusReemployed:
		f.EmployedAdults++
		ev.add("employedAdults", p.employment.SignalID)
	}
	if p.grade.Kind != "" && p.grade.Status != GradeNone {
		f.DisabledMembers++
		ev.add("disabledMembers", p.grade.SignalID)
	}
	if p.gradeRecent && gradeRank(p.grade.Status) < gradeRank(p.previous.Status) {
		f.DisabilityWorse++
		ev.add("disabilityWorse", p.grade.SignalID)
		if gradeRank(p.grade.Status) <= severeGradeAtMost {
			f.NewSevereDisability++
			ev.add("newSevereDisability", p.grade.SignalID)
		}
	}
}

// departed adds a person's recent death (a listed member with a DEATH
// signal, or a departed one) to the death counts.
func (f *Facts) departed(mb *Member, events []Event, today aidhub.Day, ev *evidence) {
	for i := range events {
		e := &events[i]
		if e.Kind != KindDeath || e.PersonID != mb.PersonID || !recent(e.Day, today) {
			continue
		}
		if mb.Age >= adultAge && mb.Age < elderlyAge {
			f.WorkingAgeDeaths++
			ev.add("workingAgeDeaths", e.SignalID)
		}
		if (mb.Relation == "HEAD" || mb.Relation == "SPOUSE") && f.Children > 0 {
			f.ParentDeaths++
			ev.add("parentDeaths", e.SignalID)
		}
		return
	}
}

// amounts fills the month's amounts and measures from the history.
func (f *Facts) amounts(hist *History, m Month) {
	if v := hist.at(hist.Income, m); v != Unknown {
		f.IncomeFen, f.IncomeKnown = v, true
		if f.HouseholdSize > 0 {
			f.IncomePerCapitaFen = v / int64(f.HouseholdSize)
		}
	}
	if base, ok := hist.Baseline(m); ok {
		f.BaselineIncomeFen = base
	}
	f.MedicalFen = max(hist.at(hist.Medical, m), 0)
	f.EducationFen = max(hist.at(hist.Education, m), 0)
	f.ArrearsFen = max(hist.at(hist.Arrears, m), 0) // Unknown is -1
	f.IncomeDrop, _ = hist.Measure(MeasureIncomeDrop, m)
	f.MedicalShare, _ = hist.Measure(MeasureMedicalShare, m)
	f.EducationShare, _ = hist.Measure(MeasureEducationShare, m)
	f.ArrearsShare, _ = hist.Measure(MeasureArrearsShare, m)
	f.RigidShare, _ = hist.Measure(MeasureRigidShare, m)
	for k := m; hist.at(hist.Arrears, k) > 0; k-- {
		f.ArrearsMonths++
	}
}

// personEvents is what one person's events say on the evaluated day.
type personEvents struct {
	dead             bool  // a DEATH signal up to today
	employment       Event // the latest EMPLOYMENT signal (Kind "" for none)
	employmentRecent bool
	grade            Event // the latest DISABILITY_GRADE signal
	previous         Event // the one before it: the grade it changed from (none: NONE)
	gradeRecent      bool
	hospitalised     bool
	admissions       [4]int64 // the first recent admissions' signal IDs
	leftSchool       Event    // a recent SCHOOL_LEAVING signal
}

// scanPerson reads the events of person id up to today.
func scanPerson(events []Event, id int64, today aidhub.Day) personEvents {
	var p personEvents
	nAdmissions := 0
	for i := range events {
		e := &events[i]
		if e.PersonID != id || e.Day > today {
			continue
		}
		switch e.Kind {
		case KindDeath:
			p.dead = true
		case KindEmployment:
			if later(e, &p.employment) {
				p.employment = *e
			}
		case KindDisabilityGrade:
			if later(e, &p.grade) {
				p.previous = p.grade
				p.grade = *e
			} else if later(e, &p.previous) {
				p.previous = *e
			}
		case KindHospitalisation:
			if recent(e.Day, today) {
				p.hospitalised = true
				if nAdmissions < len(p.admissions) {
					p.admissions[nAdmissions] = e.SignalID
					nAdmissions++
				}
			}
		case KindSchoolLeaving:
			if recent(e.Day, today) {
				p.leftSchool = *e
			}
		}
	}
	p.employmentRecent = p.employment.Kind != "" && recent(p.employment.Day, today)
	p.gradeRecent = p.grade.Kind != "" && recent(p.grade.Day, today)
	return p
}

// later orders a person's signals of one kind: by day, then by signal ID
// (the later recorded), so events in any order give the same latest.
func later(e, than *Event) bool {
	if than.Kind == "" {
		return true
	}
	return e.Day > than.Day || (e.Day == than.Day && e.SignalID > than.SignalID)
}

// gradeRank orders disability grades by severity: "1" (most severe) is 1,
// "4" is 4, NONE (or anything else) 5.
func gradeRank(g string) int {
	if len(g) == 1 && g[0] >= '1' && g[0] <= '4' {
		return int(g[0] - '0')
	}
	return 5
}
