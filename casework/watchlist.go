package casework

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
)

// The watchlist (持续监测未获帮扶对象): every OPEN need of a current
// assessment with no referral under way or delivered, and not covered
// today by aid given or under way to its subject in its category or below
// (the duplicate-aid rule, aidhub.Catalog.CoverWindow: aid covers a need even when it does not
// name it), coloured by how long it has waited. Colours are computed from OpenedOn at query time, so the
// list is never stale.

// UnmetFilter narrows UnmetNeeds.
type UnmetFilter struct {
	RegionPrefix   string
	CategoryCode   string
	Colour         *aidhub.Colour
	MinWaitingDays int
}

// unmetQuery selects the unmet needs the caller may see.
func (s *Service) unmetQuery(ctx context.Context, pr auth.Principal, f UnmetFilter, colours aidhub.Colours) (*bun.SelectQuery, error) {
	cat, err := s.catalog.RequestSnapshot(ctx) // a read: the request's snapshot, shared with the resolvers
	if err != nil {
		return nil, err
	}
	tree, err := cat.Tree()
	if err != nil {
		return nil, err
	}
	today := s.today()
	// Aid covers a need whether or not it names it: the duplicate-aid
	// rule (aidhub.Catalog.CoverWindow) decides, as it does for matching.
	aided := coveredToday(s.db.NewSelect().TableExpr("aid_records AS ar").ColumnExpr("1"), tree, "ar", today)
	underWay := coveredToday(s.db.NewSelect().TableExpr("referrals AS ru").ColumnExpr("1").
		Where("ru.status IN (?)", bun.List(openReferralStatuses)), tree, "ru", today)
	q := s.db.NewSelect().Model((*Need)(nil)).
		Join("JOIN households AS h ON h.id = n.household_id").
		Where("n.status = ?", NeedOpen).
		Where("NOT EXISTS (SELECT 1 FROM referrals AS rf WHERE rf.need_id = n.id AND rf.status IN (?))",
			bun.List([]ReferralStatus{Pending, Accepted, InProgress, Delivered})).
		Where("NOT EXISTS (?)", aided).
		Where("NOT EXISTS (?)", underWay)
	if pr.Is(auth.CaseManager) {
		q.Where("h.region_code LIKE ?", pr.RegionPrefix+"%")
	}
	if f.RegionPrefix != "" {
		if len(f.RegionPrefix) > 12 || strings.Trim(f.RegionPrefix, "0123456789") != "" {
			return nil, aidhub.Invalid("regionPrefix", "must be up to 12 digits")
		}
		q.Where("h.region_code LIKE ?", f.RegionPrefix+"%")
	}
	if f.CategoryCode != "" {
		if _, ok := cat.Category(f.CategoryCode); !ok {
			return nil, aidhub.Invalid("categoryCode", "%q is not a service category", f.CategoryCode)
		}
		q.Where("n.category_code IN (?)", bun.List(cat.Subtree(f.CategoryCode)))
	}
	if f.MinWaitingDays < 0 || f.MinWaitingDays > 36600 {
		return nil, aidhub.Invalid("minWaitingDays", "must be 0 to 36600")
	}
	if f.MinWaitingDays > 0 {
		q.Where("n.opened_on <= ?", today.AddDays(-f.MinWaitingDays))
	}
	if f.Colour != nil {
		lo, hi := colourRange(colours, *f.Colour)
		q.Where("n.opened_on <= ?", today.AddDays(-lo))
		if hi > 0 {
			q.Where("n.opened_on > ?", today.AddDays(-hi))
		}
	}
	return q, nil
}

// colourRange is the waiting days [lo, hi) of a colour; hi 0 is open-ended.
func colourRange(c aidhub.Colours, colour aidhub.Colour) (lo, hi int) {
	bounds := []int{0, c.Blue, c.Yellow, c.Orange, c.Red, 0}
	return bounds[colour], bounds[colour+1]
}

// UnmetNeeds lists the watchlist, longest waiting first (then by ID).
//
// Errors: UNAUTHENTICATED, FORBIDDEN (only case workers), BAD_USER_INPUT.
func (s *Service) UnmetNeeds(ctx context.Context, f UnmetFilter, colours aidhub.Colours, page aidhub.PageArgs) (*aidhub.Page[*Need], error) {
	pr := auth.FromContext(ctx)
	if err := requireCaseworker(pr, "reading the watchlist"); err != nil {
		return nil, err
	}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	q, err := s.unmetQuery(ctx, pr, f, colours)
	if err != nil {
		return nil, err
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, wrap(err, "casework: count unmet needs")
	}
	// The cursor is the row's position: the order (opened_on, id) is not
	// the ID order.
	var rows []*Need
	if err := q.OrderExpr("n.opened_on ASC, n.id ASC").Offset(page.After).Limit(int64(page.First)+1).Scan(ctx, &rows); err != nil {
		return nil, wrap(err, "casework: list unmet needs")
	}
	p := aidhub.NewPage(rows, page, int(total), func(*Need) int64 { return 0 })
	households := make([]int64, len(p.Items))
	for i, n := range p.Items {
		households[i] = n.HouseholdID
	}
	s.warmHouseholds(ctx, households)
	for i := range p.IDs {
		p.IDs[i] = page.After + int64(i) + 1
	}
	return p, nil
}

// ColourCount is the watchlist of one district by colour.
type ColourCount struct {
	District string
	Counts   [5]int // by aidhub.Colour
}

// WatchlistCounts counts unmet needs per district (6-digit code) per
// colour, for the districts the caller may see.
func (s *Service) WatchlistCounts(ctx context.Context, regionPrefix string, colours aidhub.Colours) ([]ColourCount, error) {
	pr := auth.FromContext(ctx)
	if err := requireCaseworker(pr, "reading the watchlist"); err != nil {
		return nil, err
	}
	q, err := s.unmetQuery(ctx, pr, UnmetFilter{RegionPrefix: regionPrefix}, colours)
	if err != nil {
		return nil, err
	}
	today := s.today()
	var rows []struct {
		District string
		Colour   int
		N        int
	}
	err = q.ColumnExpr("substr(h.region_code, 1, 6) AS district").
		ColumnExpr(`CASE WHEN n.opened_on > ? THEN 0 WHEN n.opened_on > ? THEN 1 WHEN n.opened_on > ? THEN 2 WHEN n.opened_on > ? THEN 3 ELSE 4 END AS colour`,
			today.AddDays(-colours.Blue), today.AddDays(-colours.Yellow), today.AddDays(-colours.Orange), today.AddDays(-colours.Red)).
		ColumnExpr("count(*) AS n").
		GroupExpr("district, colour").OrderExpr("district").Scan(ctx, &rows)
	if err != nil {
		return nil, wrap(err, "casework: count the watchlist")
	}
	var out []ColourCount
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].District != r.District {
			out = append(out, ColourCount{District: r.District})
		}
		out[len(out)-1].Counts[r.Colour] += r.N
	}
	return out, nil
}
