package detect_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/aidhub/aidhub/rules"
	"github.com/aidhub/aidhub/warning/detect"
)

// evFamily is a household of 2026-11 with something of everything.
func evFamily(t testing.TB) *detect.Household {
	j := evalHouseholdJSON{ID: 1, Region: "500103001001", Groups: []string{"DIBAO", "DISABILITY"}, Left: []string{"MARGINAL"},
		Members: []evalMemberJSON{
			{ID: 1, Age: 45, Relation: "HEAD"},
			{ID: 2, Age: 43, Relation: "SPOUSE", Female: true},
			{ID: 3, Age: 12, Relation: "CHILD"},
			{ID: 4, Age: 4, Relation: "CHILD", Female: true},
			{ID: 5, Age: 70, Relation: "PARENT"},
			{ID: 6, Age: 58, Relation: "SIBLING"}, // died this month, still listed
		},
		Departed: []evalMemberJSON{{ID: 7, Age: 90, Relation: "GRANDPARENT"}},
		Income:   map[string]int64{"2026-08": 400000, "2026-09": 500000, "2026-10": 420000, "2026-11": 210000},
		Medical:  map[string]int64{"2026-11": 84000},
		Arrears:  map[string]int64{"2026-08": 0, "2026-09": 10000, "2026-10": 20000, "2026-11": 30000},
		Events: []evalEventJSON{
			// in any order; the future and the unknown person count as they should
			{ID: 12, Kind: detect.KindEmployment, Person: 1, Day: "2026-11-20", Status: detect.StatusLostJob},
			{ID: 11, Kind: detect.KindEmployment, Person: 1, Day: "2025-01-01", Status: detect.StatusEmployed},
			{ID: 13, Kind: detect.KindEmployment, Person: 2, Day: "2026-03-01", Status: detect.StatusLostJob},
			{ID: 14, Kind: detect.KindEmployment, Person: 6, Day: "2026-01-01", Status: detect.StatusEmployed},
			{ID: 15, Kind: detect.KindEmployment, Person: 2, Day: "2026-12-05", Status: detect.StatusReemployed}, // future
			{ID: 21, Kind: detect.KindHospitalisation, Person: 5, Day: "2026-11-01"},
			{ID: 22, Kind: detect.KindHospitalisation, Person: 5, Day: "2026-10-15"},
			{ID: 23, Kind: detect.KindHospitalisation, Person: 99, Day: "2026-11-02"}, // a person the engine does not know
			{ID: 24, Kind: detect.KindHospitalisation, Person: 1, Day: "2026-07-01"},  // not recent
			{ID: 33, Kind: detect.KindDisabilityGrade, Person: 3, Day: "2026-11-10", Status: "2"},
			{ID: 31, Kind: detect.KindDisabilityGrade, Person: 3, Day: "2024-01-01", Status: "4"},
			{ID: 32, Kind: detect.KindDisabilityGrade, Person: 3, Day: "2025-01-01", Status: "3"},
			{ID: 34, Kind: detect.KindDisabilityGrade, Person: 5, Day: "2023-01-01", Status: "4"},
			{ID: 41, Kind: detect.KindDeath, Person: 6, Day: "2026-11-03"},
			{ID: 42, Kind: detect.KindDeath, Person: 7, Day: "2026-11-04"},
			{ID: 51, Kind: detect.KindSchoolLeaving, Person: 3, Day: "2026-11-11"},
		},
		EmergencyAid12m: 2, OldestUnmetDays: 61,
	}
	return j.household(t)
}

func TestFactsOf(t *testing.T) {
	h := evFamily(t)
	got := detect.FactsOf(h, evMonth(t, "2026-11"), evDay(t, "2026-11-28"))
	want := detect.Facts{
		HouseholdSize: 5, Region: "500103001001", Groups: []string{"DIBAO", "DISABILITY"}, LeftGroups: []string{"MARGINAL"},
		Children: 2, SchoolAgeChildren: 1, Elderly: 1, WorkingAgeAdults: 2, Dependants: 3, OldestAge: 70,
		IncomeFen: 210000, BaselineIncomeFen: 420000, IncomeKnown: true, IncomePerCapitaFen: 42000, IncomeDrop: 0.5,
		MedicalFen: 84000, MedicalShare: 0.2, ArrearsFen: 30000, ArrearsShare: 30000.0 / 420000, RigidShare: 114000.0 / 420000,
		ArrearsMonths: 3,
		JobLosses:     1, UnemployedAdults: 2, EmployedAdults: 0,
		Hospitalisations: 3, ElderlyHospitalised: 1,
		Deaths: 2, WorkingAgeDeaths: 1, ParentDeaths: 0,
		DisabilityWorse: 1, NewSevereDisability: 1, DisabledMembers: 2, ChildrenLeftSchool: 1,
		EmergencyAid12m: 2, OldestUnmetDays: 61, DibaoStandardFen: detect.DefaultDibaoStandardFen,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FactsOf:\n got %+v\nwant %+v", got, want)
	}

	// A parent's death with children at home; alone after it.
	h.Events = append(h.Events, detect.Event{SignalID: 43, Kind: detect.KindDeath, PersonID: 2, Day: evDay(t, "2026-11-20")})
	if f := detect.FactsOf(h, evMonth(t, "2026-11"), evDay(t, "2026-11-28")); f.ParentDeaths != 1 || f.WorkingAgeDeaths != 2 || f.HouseholdSize != 4 || f.UnemployedAdults != 1 {
		t.Errorf("after the mother's death: %+v", f)
	}
	alone := &detect.Household{Members: []detect.Member{{PersonID: 1, Age: 80}}}
	if f := detect.FactsOf(alone, evMonth(t, "2026-11"), evDay(t, "2026-11-28")); !f.LivesAlone || f.IncomeKnown || f.Elderly != 1 || f.Dependants != 1 {
		t.Errorf("alone: %+v", f)
	}
	// Sixty days is the edge of recent: the 60th day before today is not.
	h = &detect.Household{Members: []detect.Member{{PersonID: 1, Age: 40}}, Events: []detect.Event{
		{SignalID: 1, Kind: detect.KindHospitalisation, PersonID: 1, Day: evDay(t, "2026-09-30")},
		{SignalID: 2, Kind: detect.KindHospitalisation, PersonID: 1, Day: evDay(t, "2026-09-29")},
	}}
	if f := detect.FactsOf(h, evMonth(t, "2026-11"), evDay(t, "2026-11-28")); f.Hospitalisations != 1 {
		t.Errorf("%d recent admissions; want the one 59 days ago", f.Hospitalisations)
	}
}

func TestFactsOf_DoesNotAllocate(t *testing.T) {
	h := evFamily(t)
	m, today := evMonth(t, "2026-11"), evDay(t, "2026-11-28")
	if n := testing.AllocsPerRun(100, func() { _ = detect.FactsOf(h, m, today) }); n != 0 {
		t.Errorf("FactsOf allocates %v times per household", n)
	}
}

// factSignal is the signal kind behind each fact that reads one.
var factSignal = map[string]string{
	"householdSize": "MEMBERSHIP", "region": "MEMBERSHIP", "groups": "MEMBERSHIP", "leftGroups": "MEMBERSHIP",
	"children": "MEMBERSHIP", "schoolAgeChildren": "MEMBERSHIP", "elderly": "MEMBERSHIP", "workingAgeAdults": "MEMBERSHIP",
	"dependants": "MEMBERSHIP", "livesAlone": "MEMBERSHIP", "oldestAge": "MEMBERSHIP",
	"incomeFen": "INCOME", "baselineIncomeFen": "INCOME", "incomeKnown": "INCOME", "incomePerCapitaFen": "INCOME", "incomeDrop": "INCOME",
	"medicalFen": "MEDICAL_SPENDING", "medicalShare": "MEDICAL_SPENDING", "educationFen": "EDUCATION_SPENDING",
	"educationShare": "EDUCATION_SPENDING", "arrearsFen": "ARREARS", "arrearsShare": "ARREARS", "arrearsMonths": "ARREARS",
	"jobLosses": "EMPLOYMENT", "unemployedAdults": "EMPLOYMENT", "employedAdults": "EMPLOYMENT",
	"hospitalisations": "HOSPITALISATION", "elderlyHospitalised": "HOSPITALISATION",
	"deaths": "DEATH", "workingAgeDeaths": "DEATH", "parentDeaths": "DEATH",
	"disabilityWorse": "DISABILITY_GRADE", "newSevereDisability": "DISABILITY_GRADE", "disabledMembers": "DISABILITY_GRADE",
	"childrenLeftSchool": "SCHOOL_LEAVING", "emergencyAid12m": "AID", "oldestUnmetDays": "WATCHLIST",
}

// TestDefaultTypes_SignalsCoverRules: a default type declares the signals
// its rule's facts come from, so the service knows which new signals make
// it worth evaluating again.
func TestDefaultTypes_SignalsCoverRules(t *testing.T) {
	for _, name := range detect.FactNames() {
		if _, ok := factSignal[name]; !ok && name != "dibaoStandardFen" && name != "rigidShare" {
			t.Errorf("fact %s has no signal in the test's table", name)
		}
	}
	for _, ty := range detect.DefaultTypes() {
		src := ty.Rule
		if ty.Threshold != nil {
			src = ty.Threshold.Also
		}
		p, err := rules.Compile(src, detect.Facts{})
		if err != nil {
			t.Fatalf("%s: %v", ty.Code, err)
		}
		for _, name := range rules.Identifiers(p) {
			if s, ok := factSignal[name]; ok && !slices.Contains(ty.Signals, s) {
				t.Errorf("%s reads %s but does not list the signal %s", ty.Code, name, s)
			}
		}
	}
}
