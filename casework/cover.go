package casework

import (
	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
)

// coveredToday adds to q (over a table with household_id, person_id,
// category_code, period_start and period_end: the ledger, or referrals
// under way) the condition that the row covers the need of alias n (with
// household_id, person_id, category_code) today or later, by the
// duplicate-aid rule (aidhub.Catalog.CoverWindow): the same subject (the person, or anyone of the household when either side
// is the household as a whole), and per aid category, the categories it
// meets and the first start day whose window still reaches today. Aid
// that starts later counts already, as in matching (Need.BlockedUntil):
// the need is being taken care of.
func coveredToday(q *bun.SelectQuery, tree *aidhub.Catalog, alias string, today aidhub.Date) *bun.SelectQuery {
	q.Where(alias + ".household_id = n.household_id").
		Where("(n.person_id IS NULL OR " + alias + ".person_id IS NULL OR " + alias + ".person_id = n.person_id)")
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		any := false
		cats := tree.Categories()
		for _, a := range cats {
			var met []string
			window := 0
			for _, n := range cats {
				if w, ok := tree.CoverWindow(n.Code, a.Code); ok {
					met, window = append(met, n.Code), w
				}
			}
			if len(met) == 0 {
				continue
			}
			any = true
			q.WhereOr("("+alias+".category_code = ? AND n.category_code IN (?) AND ("+alias+".period_end >= ? OR "+alias+".period_start >= ?))",
				a.Code, bun.List(met), today, today.AddDays(-(window - 1)))
		}
		if !any {
			q.Where("1 = 0")
		}
		return q
	})
}
