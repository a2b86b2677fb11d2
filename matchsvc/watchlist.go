package matchsvc

import (
	"context"
	"fmt"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
)

// UnmetNeed is one row of the watchlist.
type UnmetNeed struct {
	Need *casework.Need
	// Household is nil when the caller may not see it.
	Household   *casework.Household
	WaitingDays int
	Colour      aidhub.Colour
	// BestMatch is the need's best match now, nil without one.
	BestMatch *ShownMatch
}

// UnmetNeeds is the watchlist: the open needs the caller may see (the
// casework service decides which), longest waiting first, each with its
// colour and its best match now.
func (s *Service) UnmetNeeds(ctx context.Context, f casework.UnmetFilter, page aidhub.PageArgs) (*aidhub.Page[UnmetNeed], error) {
	colours := s.Colours()
	needs, err := s.casework.UnmetNeeds(ctx, f, colours, page)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(needs.Items))
	for i, n := range needs.Items {
		ids[i] = n.ID
	}
	best, err := s.BestMatches(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := &aidhub.Page[UnmetNeed]{
		Items: make([]UnmetNeed, len(needs.Items)), HasNextPage: needs.HasNextPage,
		TotalCount: needs.TotalCount, IDs: needs.IDs,
	}
	for i, n := range needs.Items {
		h, err := s.casework.Household(ctx, n.HouseholdID)
		switch {
		case aidhub.ErrorCode(err) == aidhub.ENOTFOUND:
			h = nil
		case err != nil:
			return nil, fmt.Errorf("matcher: household of unmet need %d: %w", n.ID, err)
		}
		waiting := s.casework.WaitingDays(n)
		out.Items[i] = UnmetNeed{Need: n, Household: h, WaitingDays: waiting, Colour: colours.Of(waiting), BestMatch: best[n.ID]}
	}
	return out, nil
}

// WatchlistCount is the number of unmet needs of one district per colour.
type WatchlistCount struct {
	DistrictCode, DistrictName       string
	Green, Blue, Yellow, Orange, Red int
	Total                            int
}

// WatchlistCounts counts the unmet needs the caller may see per district
// (6-digit code) per colour, under regionPrefix when given.
func (s *Service) WatchlistCounts(ctx context.Context, regionPrefix string) ([]WatchlistCount, error) {
	counts, err := s.casework.WatchlistCounts(ctx, regionPrefix, s.Colours())
	if err != nil {
		return nil, err
	}
	out := make([]WatchlistCount, 0, len(counts))
	for _, c := range counts {
		w := WatchlistCount{
			DistrictCode: c.District, DistrictName: s.catalog.Regions().FullName(c.District),
			Green: c.Counts[aidhub.Green], Blue: c.Counts[aidhub.Blue], Yellow: c.Counts[aidhub.Yellow],
			Orange: c.Counts[aidhub.Orange], Red: c.Counts[aidhub.Red],
		}
		w.Total = w.Green + w.Blue + w.Yellow + w.Orange + w.Red
		out = append(out, w)
	}
	return out, nil
}
