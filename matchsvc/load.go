package matchsvc

import (
	"context"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/matching"
)

func day(d *aidhub.Date) *aidhub.Day {
	if d == nil {
		return nil
	}
	v := aidhub.DayOf(d.Time)
	return &v
}

// engineResource turns a stored resource into the engine's form.
func engineResource(r *catalog.Resource) matching.Resource {
	m := matching.Resource{
		ID: r.ID, OrganizationID: r.OrganizationID, Items: r.ItemCodes, Groups: r.GroupCodes, Coverage: r.Coverage,
		AgeMin: r.AgeMin, AgeMax: r.AgeMax, IncomeCeilingFen: r.IncomeCeilingFen,
		ValidFrom: day(r.ValidFrom), ValidUntil: day(r.ValidUntil),
		UnitsLeft: r.UnitsLeft(), UnitsTotal: r.CapacityUnits, BudgetLeftFen: r.BudgetLeftFen(),
		Rule: r.EligibilityRule,
	}
	if r.DivisionCode != nil {
		m.Region = *r.DivisionCode
	}
	return m
}

// engineNeeds turns open needs as casework has them into the engine's
// form, applying the catalog's duplicate rule to the aid that may cover
// each one.
func engineNeeds(cat *aidhub.Catalog, open []casework.OpenNeed) []matching.Need {
	out := make([]matching.Need, len(open))
	var aid []aidhub.Aid // reused: BlockingAid keeps none of it
	for i := range open {
		o := &open[i]
		n := matching.Need{
			ID: o.ID, HouseholdID: o.HouseholdID, PersonID: o.PersonID, Region: o.RegionCode,
			Category: o.CategoryCode, Item: o.ItemCode, Severity: o.Severity, OpenedOn: aidhub.DayOf(o.OpenedOn.Time),
			HouseholdSize: o.HouseholdSize, HouseholdIncomeFen: o.HouseholdIncomeFen,
			IncomePerCapitaFen: o.HouseholdIncomeFen / int64(o.HouseholdSize),
			Age:                o.Age, Female: o.Female, Groups: o.Groups,
		}
		aid = aid[:0]
		for _, a := range o.Aid {
			aid = append(aid, aidhub.Aid{Category: a.CategoryCode, Start: aidhub.DayOf(a.Start.Time), End: aidhub.DayOf(a.End.Time)})
		}
		if a, until, ok := cat.BlockingAid(o.CategoryCode, aid); ok {
			n.BlockedUntil, n.BlockedBy = until, &a
		}
		out[i] = n
	}
	return out
}

// loadWorkers is how many ranges of needs a full load reads at once.
const loadWorkers = 2

// needChunk is how many need IDs one worker of a full load reads at a
// time: one batch of casework's scan.
const needChunk = 5000

// loadAllNeeds reads every open need in the engine's form, in ranges of
// chunkIDs need IDs of which workers are read at once (see
// casework.Service.ScanOpenNeeds), and hands them to fn in ID order.
func (s *Service) loadAllNeeds(ctx context.Context, cat *aidhub.Catalog, workers int, chunkIDs int64, fn func([]matching.Need) error) error {
	return s.casework.ScanOpenNeeds(ctx, workers, chunkIDs, func(open []casework.OpenNeed) error {
		return fn(engineNeeds(cat, open))
	})
}
