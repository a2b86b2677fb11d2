package graph

import (
	"context"
	"math"
	"strings"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/graph/model"
	"github.com/aidhub/aidhub/matching"
	"github.com/aidhub/aidhub/matchsvc"
)

func (r *Resolver) matches(ctx context.Context, needID, assessmentID *string, first *int) ([]*matchsvc.NeedMatches, error) {
	need, err := optRowID("needId", typeNeed, needID)
	if err != nil {
		return nil, err
	}
	assessment, err := optRowID("assessmentId", typeAssessment, assessmentID)
	if err != nil {
		return nil, err
	}
	all, err := r.Matcher.Matches(ctx, need, assessment, deref(first))
	if err != nil {
		return nil, err
	}
	out := make([]*matchsvc.NeedMatches, len(all))
	for i, nm := range all { // copies: the service's answer may be shared
		nm.Matches = roundedMatches(nm.Matches)
		out[i] = &nm
	}
	return out, nil
}

func (r *Resolver) matchesForResource(ctx context.Context, resourceID string, first *int) ([]*matchsvc.ResourceMatch, error) {
	id, err := decodeRowID("resourceId", typeResource, resourceID)
	if err != nil {
		return nil, err
	}
	all, err := r.Matcher.MatchesForResource(ctx, id, deref(first))
	if err != nil {
		return nil, err
	}
	out := make([]*matchsvc.ResourceMatch, len(all))
	for i, rm := range all { // copies: the service's answer may be shared
		rm.Match.Score, rm.Match.Factors = roundScore(rm.Match.Score), roundedFactors(rm.Match.Factors)
		out[i] = &rm
	}
	return out, nil
}

func (r *Resolver) whyNotMatched(ctx context.Context, needID, resourceID string) (*model.WhyNotMatched, error) {
	need, err := decodeRowID("needId", typeNeed, needID)
	if err != nil {
		return nil, err
	}
	resource, err := decodeRowID("resourceId", typeResource, resourceID)
	if err != nil {
		return nil, err
	}
	matched, failures, m, err := r.Matcher.WhyNot(ctx, need, resource)
	if err != nil {
		return nil, err
	}
	out := &model.WhyNotMatched{Matched: matched, Failures: []*matching.Failure{}}
	if m != nil {
		shown, err := r.Matcher.MatchedResources(ctx, []int64{m.ResourceID})
		if err != nil {
			return nil, err
		}
		out.Match = &matchsvc.ShownMatch{Match: roundedMatch(*m), Resource: shown[0]}
	}
	for i := range failures {
		out.Failures = append(out.Failures, &failures[i])
	}
	return out, nil
}

func (r *Resolver) referMatch(ctx context.Context, in model.ReferMatchInput) (*casework.Referral, error) {
	need, err := decodeRowID("needId", typeNeed, in.NeedID)
	if err != nil {
		return nil, err
	}
	resource, err := decodeRowID("resourceId", typeResource, in.ResourceID)
	if err != nil {
		return nil, err
	}
	ref := casework.ReferralInput{
		NeedID: &need, ResourceID: resource, Units: int64(deref(in.Units)), AmountFen: deref(in.AmountFen),
		Note: deref(in.Note), OverrideReason: deref(in.OverrideReason), RespondWithin: deref(in.RespondWithinDays),
	}
	if (in.PeriodStart == nil) != (in.PeriodEnd == nil) {
		return nil, aidhub.Invalid("periodEnd", "give both periodStart and periodEnd, or neither")
	}
	if in.PeriodStart != nil {
		ref.Period = &casework.Period{Start: *in.PeriodStart, End: *in.PeriodEnd}
	}
	return r.Matcher.ReferMatch(ctx, ref)
}

func (r *Resolver) unmetNeeds(ctx context.Context, filter *model.UnmetNeedFilter, first *int, after *string) (*model.UnmetNeedConnection, error) {
	args, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	var f casework.UnmetFilter
	if filter != nil {
		f = casework.UnmetFilter{RegionPrefix: deref(filter.RegionPrefix), CategoryCode: deref(filter.CategoryCode), Colour: filter.Colour, MinWaitingDays: deref(filter.MinWaitingDays)}
	}
	p, err := r.Matcher.UnmetNeeds(ctx, f, args)
	if err != nil {
		return nil, err
	}
	c := &model.UnmetNeedConnection{TotalCount: p.TotalCount, PageInfo: pageInfo(p.IDs, p.HasNextPage, args.After), Edges: make([]*model.UnmetNeedEdge, len(p.Items))}
	for i, u := range p.Items {
		best := u.BestMatch
		if best != nil {
			best = &matchsvc.ShownMatch{Match: roundedMatch(best.Match), Resource: best.Resource}
		}
		c.Edges[i] = &model.UnmetNeedEdge{Cursor: encodeCursor(p.IDs[i]), Node: &model.UnmetNeed{
			Need: u.Need, Household: u.Household, WaitingDays: u.WaitingDays, Colour: u.Colour, BestMatch: best,
		}}
	}
	return c, nil
}

func (r *Resolver) watchlistCounts(ctx context.Context, regionPrefix *string) ([]*model.WatchlistCount, error) {
	counts, err := r.Matcher.WatchlistCounts(ctx, deref(regionPrefix))
	if err != nil {
		return nil, err
	}
	out := make([]*model.WatchlistCount, len(counts))
	for i, c := range counts {
		out[i] = &model.WatchlistCount{
			DistrictCode: c.DistrictCode, DistrictName: c.DistrictName,
			Green: c.Green, Blue: c.Blue, Yellow: c.Yellow, Orange: c.Orange, Red: c.Red, Total: c.Total,
		}
	}
	return out, nil
}

// roundScore rounds a score, a factor's value, weight or points to 2
// decimals for the API (8.583333333333334 is shown as 8.58). The engine
// ranks at full precision; each figure is rounded on its own, so the shown
// contributions add up to the shown score within 0.01 a factor.
func roundScore(v float64) float64 { return math.Round(v*100) / 100 }

// roundedMatch is m with its score and factors rounded, on a copy of the
// factors: the service's matches may be shared with its index.
func roundedMatch(m matching.Match) matching.Match {
	m.Score, m.Factors = roundScore(m.Score), roundedFactors(m.Factors)
	return m
}

func roundedMatches(ms []matchsvc.ShownMatch) []matchsvc.ShownMatch {
	out := make([]matchsvc.ShownMatch, len(ms))
	for i, m := range ms {
		out[i] = matchsvc.ShownMatch{Match: roundedMatch(m.Match), Resource: m.Resource}
	}
	return out
}

func roundedFactors(fs []matching.Factor) []matching.Factor {
	if fs == nil {
		return nil
	}
	out := make([]matching.Factor, len(fs))
	for i, f := range fs {
		out[i] = matching.Factor{
			Name: f.Name, Value: roundScore(f.Value), Weight: roundScore(f.Weight),
			MaxPoints: roundScore(f.MaxPoints), Contribution: roundScore(f.Contribution),
		}
	}
	return out
}

func factorList(fs []matching.Factor) []*matching.Factor {
	out := make([]*matching.Factor, len(fs))
	for i := range fs {
		out[i] = &fs[i]
	}
	return out
}

func floatOf(v *int64) *float64 {
	if v == nil {
		return nil
	}
	f := float64(*v)
	return &f
}

func dateOfDay(d *aidhub.Day) *aidhub.Date {
	if d == nil {
		return nil
	}
	v := aidhub.DateOf(d.Time())
	return &v
}

func failureCode(f *matching.Failure) string { return strings.ToUpper(f.Filter) }
