package demo

import (
	"context"
	"fmt"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/residentid"
)

// demoHousehold is a made-up household: its resident IDs are computed, so
// they are valid numbers that belong to no one.
type demoHousehold struct {
	village  string
	income   int64 // fen per month
	members  []demoPerson
	consent  bool
	waited   int // days since the needs were assessed
	needs    []casework.NeedInput
	aidGiven *casework.AidInput // aid already in the ledger, if any
}

type demoPerson struct {
	name, birth string // birth YYYYMMDD
	relation    casework.Relation
	groups      []string
}

var demoHouseholds = []demoHousehold{
	{village: "500103001003", income: 80000, consent: true, waited: 3,
		members: []demoPerson{{"周桂兰", "19480312", "HEAD", []string{"TEKUN"}}},
		needs:   []casework.NeedInput{{CategoryCode: "BASIC_LIVING", ItemCode: ptr("MEAL_ASSISTANCE"), Severity: 3}}},
	{village: "500103001003", income: 150000, consent: true, waited: 45,
		members: []demoPerson{{"李建国", "19750604", "HEAD", []string{"DIBAO"}}, {"李小雨", "20080921", "CHILD", []string{"DIBAO"}}},
		needs:   []casework.NeedInput{{CategoryCode: "MEDICAL_INPATIENT", Severity: 5}, {CategoryCode: "EDUCATION_GRANTS", Severity: 3}}},
	{village: "500103003013", income: 90000, consent: false, waited: 20,
		members: []demoPerson{{"王秀英", "19580117", "HEAD", []string{"MARGINAL"}}},
		needs:   []casework.NeedInput{{CategoryCode: "BASIC_LIVING", ItemCode: ptr("WINTER_SUPPLIES"), Severity: 2}}},
	{village: "500106001001", income: 210000, consent: true, waited: 75,
		members: []demoPerson{{"张伟", "19820830", "HEAD", []string{"EXPENDITURE_HARDSHIP"}}, {"张子涵", "20150402", "CHILD", nil}},
		needs:   []casework.NeedInput{{CategoryCode: "PSYCHOLOGICAL", Severity: 4}, {CategoryCode: "LEGAL", Severity: 2}}},
	{village: "500106001004", income: 60000, consent: true, waited: 10,
		members: []demoPerson{{"刘德华", "19660220", "HEAD", []string{"DIBAO"}}},
		needs:   []casework.NeedInput{{CategoryCode: "MEDICAL_INPATIENT", Severity: 4}},
		aidGiven: &casework.AidInput{CategoryCode: "MEDICAL_INPATIENT", ProviderKind: casework.ProviderGovernment,
			ProviderName: "沙坪坝区医疗保障局", AmountFen: 300000, Source: casework.SourceImport}},
}

func ptr[T any](v T) *T { return &v }

// residentID completes a made-up number with its GB 11643 check digit.
func residentID(region, birth string, seq int, today aidhub.Date) (string, error) {
	id, err := residentid.Complete(fmt.Sprintf("%s%s%03d", region, birth, seq), today.Time)
	return string(id), err
}

// LoadCasework adds demo households with consent, assessed needs (some
// waiting long enough to colour the watchlist) and one aid already given,
// unless the hub has households. It reports how many it added.
func LoadCasework(ctx context.Context, cw *casework.Service, today aidhub.Date) (int, error) {
	ctx = auth.WithPrincipal(ctx, auth.System)
	existing, err := cw.Households(ctx, casework.HouseholdFilter{}, aidhub.PageArgs{First: 1})
	if err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	if existing.TotalCount > 0 {
		return 0, nil
	}
	seq := 800
	for i, d := range demoHouseholds {
		in := casework.HouseholdInput{ExternalID: ptr(fmt.Sprintf("DEMO-%d", i+1)), RegionCode: d.village, MonthlyIncomeFen: d.income}
		for _, m := range d.members {
			seq++
			var groups []casework.MembershipInput
			for _, g := range m.groups {
				groups = append(groups, casework.MembershipInput{GroupCode: g, Since: today.AddDays(-400)})
			}
			id, err := residentID(d.village[:6], m.birth, seq, today)
			if err != nil {
				return i, fmt.Errorf("demo: household %d: %w", i+1, err)
			}
			in.Members = append(in.Members, casework.PersonInput{Name: m.name, ResidentID: id, Relation: m.relation, Groups: groups})
		}
		h, persons, err := cw.RegisterHousehold(ctx, in)
		if err != nil {
			return i, fmt.Errorf("demo: household %d: %w", i+1, err)
		}
		if d.consent {
			if _, err := cw.RecordConsent(ctx, casework.ConsentInput{HouseholdID: h.ID, Purposes: []casework.Purpose{casework.EconomicVerification, casework.ShareWithCharities},
				GrantedByPersonID: persons[0].ID, Method: casework.Electronic}); err != nil {
				return i, fmt.Errorf("demo: consent %d: %w", i+1, err)
			}
		}
		needs := append([]casework.NeedInput(nil), d.needs...)
		for j := range needs {
			needs[j].PersonID = &persons[min(j, len(persons)-1)].ID
		}
		on := today.AddDays(-d.waited)
		if _, _, err := cw.CreateAssessment(ctx, casework.AssessmentInput{HouseholdID: h.ID, AssessedOn: &on, Needs: needs}); err != nil {
			return i, fmt.Errorf("demo: assessment %d: %w", i+1, err)
		}
		if d.aidGiven != nil {
			aid := *d.aidGiven
			aid.HouseholdID, aid.PersonID = h.ID, &persons[0].ID
			aid.Period = casework.Period{Start: today.AddDays(-20), End: today.AddDays(-20)}
			if _, err := cw.RecordAid(ctx, aid); err != nil {
				return i, fmt.Errorf("demo: aid %d: %w", i+1, err)
			}
		}
	}
	return len(demoHouseholds), nil
}
