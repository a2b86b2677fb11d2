package casework

import (
	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
)

// covers is the duplicate-aid rule between an aid and a need, the same as
// aidhub.Catalog.Covers: an aid in category aidCat meets a need in
// needCat when aidCat is needCat or lies below it (inpatient aid is
// medical aid; a medical escort does not pay an inpatient bill), and then
// counts for its period and at least its own category's window from its
// start (window, > 0). A category with window 0 has no rule. It decides
// duplicate aid (checkDuplicate) and which needs aid already covers
// (the watchlist), linked to the need or not.
func covers(cat *catalog.Catalog, needCat, aidCat string) (window int, ok bool) {
	n, ok1 := cat.Category(needCat)
	a, ok2 := cat.Category(aidCat)
	if !ok1 || !ok2 || n.DuplicateWindowDays == 0 || a.DuplicateWindowDays == 0 {
		return 0, false
	}
	for at := a; ; {
		if at.Code == needCat {
			return a.DuplicateWindowDays, true
		}
		if at.ParentCode == nil {
			return 0, false
		}
		if at, ok = cat.Category(*at.ParentCode); !ok {
			return 0, false
		}
	}
}

// coveredToday adds to q (over a table with household_id, person_id,
// category_code, period_start and period_end: the ledger, or referrals
// under way) the condition that the row covers the need of alias n (with
// household_id, person_id, category_code) today or later, by covers: the
// same subject (the person, or anyone of the household when either side
// is the household as a whole), and per aid category, the categories it
// meets and the first start day whose window still reaches today. Aid
// that starts later counts already, as in matching (Need.BlockedUntil):
// the need is being taken care of.
func coveredToday(q *bun.SelectQuery, cat *catalog.Catalog, alias string, today aidhub.Date) *bun.SelectQuery {
	q.Where(alias + ".household_id = n.household_id").
		Where("(n.person_id IS NULL OR " + alias + ".person_id IS NULL OR " + alias + ".person_id = n.person_id)")
	return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		any := false
		for _, a := range cat.Categories {
			var met []string
			window := 0
			for _, n := range cat.Categories {
				if w, ok := covers(cat, n.Code, a.Code); ok {
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
