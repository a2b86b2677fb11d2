package catalog_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/regions"
)

func TestService_SeedDefaults(t *testing.T) {
	defaults, err := catalog.LoadDefaults()
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		svc := catalog.NewService(d, regions.Chongqing(), audit.New(d, fixedNow), fixedNow)
		counts := func() [4]int {
			return [4]int{countRows(t, d, "population_groups"), countRows(t, d, "service_categories"),
				countRows(t, d, "service_items"), countRows(t, d, "plan_entries")}
		}
		if got := counts(); got != [4]int{} {
			t.Fatalf("a fresh database holds catalog rows %v", got)
		}
		seeded, err := svc.SeedDefaults(ctx)
		if err != nil || !seeded {
			t.Fatalf("first SeedDefaults = %v, %v; want true", seeded, err)
		}
		want := [4]int{len(defaults.Groups), len(defaults.Categories), len(defaults.Items), len(defaults.Plans)}
		if got := counts(); got != want {
			t.Fatalf("seeded rows %v, want %v", got, want)
		}
		before := snapshot(t, svc)

		t.Run("SecondCallIsNoOp", func(t *testing.T) {
			seeded, err := svc.SeedDefaults(ctx)
			if err != nil || seeded {
				t.Fatalf("second SeedDefaults = %v, %v; want false", seeded, err)
			}
			if got := counts(); got != want {
				t.Fatalf("rows after second seed %v, want %v", got, want)
			}
			sameCatalog(t, svc, before)
		})

		t.Run("Contents", func(t *testing.T) {
			c := before
			if n := len(c.Children("")); n < 10 {
				t.Errorf("%d top-level categories, want at least 10", n)
			}
			for _, g := range []string{"DIBAO", "TEKUN", "MARGINAL", "EXPENDITURE_HARDSHIP", "TEMPORARY"} {
				if _, ok := c.Group(g); !ok {
					t.Errorf("group %s missing", g)
				}
			}
			for _, g := range c.Groups {
				plan := c.Plan(g.Code)
				if len(plan) == 0 {
					t.Errorf("group %s has no plan", g.Code)
				}
				for _, e := range plan {
					if _, ok := c.Item(e.ItemCode); !ok || !e.Level.Valid() || e.GroupCode != g.Code {
						t.Errorf("plan entry %+v is broken", e)
					}
				}
				if g.Tier < 1 || g.Tier > 9 || g.NameZh == "" || g.NameEn == "" {
					t.Errorf("group %+v is incomplete", g)
				}
			}
			for _, it := range c.Items {
				if _, ok := c.Category(it.CategoryCode); !ok {
					t.Errorf("item %s sits in unknown category %s", it.Code, it.CategoryCode)
				}
			}
			for _, cat := range c.Categories {
				if cat.ParentCode != nil {
					if _, ok := c.Category(*cat.ParentCode); !ok {
						t.Errorf("category %s has unknown parent %s", cat.Code, *cat.ParentCode)
					}
				}
			}
			// Every default made it in unchanged.
			for _, g := range defaults.Groups {
				got, ok := c.Group(g.Code)
				if !ok || !reflect.DeepEqual(*got, g) {
					t.Errorf("group %s stored as %+v, want %+v", g.Code, got, g)
				}
			}
			for _, cat := range defaults.Categories {
				got, ok := c.Category(cat.Code)
				if !ok || !reflect.DeepEqual(*got, cat) {
					t.Errorf("category %s stored as %+v, want %+v", cat.Code, got, cat)
				}
			}
			for _, it := range defaults.Items {
				got, ok := c.Item(it.Code)
				if !ok || !reflect.DeepEqual(*got, it) {
					t.Errorf("item %s stored as %+v, want %+v", it.Code, got, it)
				}
			}
			for _, p := range defaults.Plans {
				if got := c.PlanLevel(p.GroupCode, p.ItemCode); got != p.Level {
					t.Errorf("PlanLevel(%s, %s) = %q, want %q", p.GroupCode, p.ItemCode, got, p.Level)
				}
			}
		})

		t.Run("Lookups", func(t *testing.T) {
			c := before
			if g, ok := c.Group("DIBAO"); !ok || g.Tier != 2 || g.NameZh == "" {
				t.Errorf("Group(DIBAO) = %+v, %v", g, ok)
			}
			if _, ok := c.Group("NOPE"); ok {
				t.Error("Group(NOPE) found")
			}
			if _, ok := c.Category("NOPE"); ok {
				t.Error("Category(NOPE) found")
			}
			if _, ok := c.Item("NOPE"); ok {
				t.Error("Item(NOPE) found")
			}
			sub := c.Subtree("MEDICAL")
			if sub[0] != "MEDICAL" || len(sub) != 3 || !slices.Contains(sub, "MEDICAL_INPATIENT") || !slices.Contains(sub, "MEDICAL_OUTPATIENT") {
				t.Errorf("Subtree(MEDICAL) = %v", sub)
			}
			if sub := c.Subtree("MEDICAL_INPATIENT"); !slices.Equal(sub, []string{"MEDICAL_INPATIENT"}) {
				t.Errorf("Subtree(MEDICAL_INPATIENT) = %v", sub)
			}
			if got, want := c.ItemsUnder("MEDICAL"), []string{"CRITICAL_ILLNESS_AID", "INPATIENT_AID", "INSURANCE_PREMIUM_SUBSIDY", "MEDICAL_ESCORT", "OUTPATIENT_SUBSIDY"}; !slices.Equal(got, want) {
				t.Errorf("ItemsUnder(MEDICAL) = %v, want %v", got, want)
			}
			if got := c.ItemsUnder("MEDICAL_OUTPATIENT"); !slices.Equal(got, []string{"OUTPATIENT_SUBSIDY"}) {
				t.Errorf("ItemsUnder(MEDICAL_OUTPATIENT) = %v", got)
			}
			if got := c.ItemsUnder("NOPE"); len(got) != 0 {
				t.Errorf("ItemsUnder(NOPE) = %v", got)
			}
			var kids []string
			for _, k := range c.Children("MEDICAL") {
				kids = append(kids, k.Code)
			}
			if !slices.Equal(kids, []string{"MEDICAL_INPATIENT", "MEDICAL_OUTPATIENT"}) {
				t.Errorf("Children(MEDICAL) = %v", kids)
			}
			var items []string
			for _, it := range c.ItemsOf("MEDICAL") {
				items = append(items, it.Code)
			}
			if !slices.Equal(items, []string{"INSURANCE_PREMIUM_SUBSIDY", "MEDICAL_ESCORT"}) {
				t.Errorf("ItemsOf(MEDICAL) = %v", items)
			}
			for code, root := range map[string]string{"MEDICAL_INPATIENT": "MEDICAL", "MEDICAL": "MEDICAL", "DISABILITY_REHAB": "DISABILITY_SERVICES", "NOPE": "NOPE"} {
				if got := c.Root(code); got != root {
					t.Errorf("Root(%s) = %s, want %s", code, got, root)
				}
			}
			plan := c.Plan("DIBAO")
			if len(plan) != 15 {
				t.Errorf("Plan(DIBAO) has %d entries, want 15", len(plan))
			}
			if !slices.IsSortedFunc(plan, func(a, b catalog.PlanEntry) int { return strings.Compare(a.ItemCode, b.ItemCode) }) {
				t.Errorf("Plan(DIBAO) is not ordered by item code: %v", plan)
			}
			for _, tc := range []struct {
				group, item string
				want        catalog.PlanLevel
			}{
				{"DIBAO", "LIVING_ALLOWANCE", catalog.Entitled},
				{"DIBAO", "WINTER_SUPPLIES", catalog.Recommended},
				{"DIBAO", "LEGAL_CONSULTATION", catalog.Optional},
				{"TEMPORARY", "EMERGENCY_FUND", catalog.Entitled},
				{"DIBAO", "EMERGENCY_FUND", ""},
				{"NOPE", "LIVING_ALLOWANCE", ""},
			} {
				if got := c.PlanLevel(tc.group, tc.item); got != tc.want {
					t.Errorf("PlanLevel(%s, %s) = %q, want %q", tc.group, tc.item, got, tc.want)
				}
			}
			if len(c.Plan("NOPE")) != 0 {
				t.Error("Plan(NOPE) is not empty")
			}
		})

		t.Run("LeavesAnEditedCatalogAlone", func(t *testing.T) {
			// Another database whose administrators created a group first.
			otherDB := dbForSeed(t, d)
			other := catalog.NewService(otherDB, regions.Chongqing(), audit.New(otherDB, fixedNow), fixedNow)
			if _, err := other.CreateGroup(adminCtx, catalog.Group{Code: "LOCAL_GROUP", NameZh: "本地群体", NameEn: "Local group", Tier: 3}); err != nil {
				t.Fatal(err)
			}
			seeded, err := other.SeedDefaults(ctx)
			if err != nil || seeded {
				t.Fatalf("SeedDefaults on an edited catalog = %v, %v; want false", seeded, err)
			}
			c := snapshot(t, other)
			if len(c.Groups) != 1 || len(c.Categories) != 0 || len(c.Items) != 0 || len(c.Plans) != 0 {
				t.Fatalf("an edited catalog was seeded: %d groups, %d categories", len(c.Groups), len(c.Categories))
			}
		})
	})
}

// dbForSeed returns a fresh, migrated database of the same dialect as d.
func dbForSeed(t *testing.T, d *db.DB) *db.DB {
	if d.IsPostgres() {
		return dbtest.Postgres(t)
	}
	return dbtest.SQLite(t)
}

func TestNewCatalog_OrdersAndLinks(t *testing.T) {
	top, mid := "TOP", "MID"
	c := catalog.NewCatalog(
		[]catalog.Group{{Code: "B", Sort: 1}, {Code: "A", Sort: 1}, {Code: "C", Sort: 0}},
		[]catalog.Category{{Code: "LEAF", ParentCode: &mid, Sort: 1}, {Code: mid, ParentCode: &top, Sort: 2}, {Code: top, Sort: 3}, {Code: "OTHER", Sort: 0}},
		[]catalog.Item{{Code: "I2", CategoryCode: "LEAF", Sort: 2}, {Code: "I1", CategoryCode: "LEAF", Sort: 2}, {Code: "I0", CategoryCode: top, Sort: 9}},
		[]catalog.PlanEntry{{GroupCode: "B", ItemCode: "I2", Level: catalog.Optional}, {GroupCode: "A", ItemCode: "I1", Level: catalog.Entitled}, {GroupCode: "A", ItemCode: "I0", Level: catalog.Recommended}},
	)
	var groups []string
	for _, g := range c.Groups {
		groups = append(groups, g.Code)
	}
	if !slices.Equal(groups, []string{"C", "A", "B"}) {
		t.Errorf("groups ordered %v, want by sort then code", groups)
	}
	var roots []string
	for _, r := range c.Children("") {
		roots = append(roots, r.Code)
	}
	if !slices.Equal(roots, []string{"OTHER", top}) {
		t.Errorf("roots %v", roots)
	}
	if got := c.Subtree(top); !slices.Equal(got, []string{top, mid, "LEAF"}) {
		t.Errorf("Subtree(TOP) = %v", got)
	}
	if got := c.ItemsUnder(top); !slices.Equal(got, []string{"I0", "I1", "I2"}) {
		t.Errorf("ItemsUnder(TOP) = %v", got)
	}
	if got := c.Root("LEAF"); got != top {
		t.Errorf("Root(LEAF) = %s", got)
	}
	if got := c.Plan("A"); len(got) != 2 || got[0].ItemCode != "I0" || got[1].ItemCode != "I1" {
		t.Errorf("Plan(A) = %v", got)
	}
	if got := c.PlanLevel("B", "I2"); got != catalog.Optional {
		t.Errorf("PlanLevel(B, I2) = %q", got)
	}
	for _, l := range []catalog.PlanLevel{catalog.Entitled, catalog.Recommended, catalog.Optional} {
		if !l.Valid() {
			t.Errorf("%s is not valid", l)
		}
	}
	for _, l := range []catalog.PlanLevel{"", "entitled", "MANDATORY"} {
		if l.Valid() {
			t.Errorf("%q is valid", l)
		}
	}
}

func TestService_CreateCatalogEntries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc

		t.Run("Group", func(t *testing.T) {
			g, err := svc.CreateGroup(adminCtx, catalog.Group{Code: "FLOOD_VICTIMS", NameZh: "  受灾群众 ", NameEn: "Flood victims", Tier: 4, Description: "洪涝灾害受灾群众", Sort: 200})
			if err != nil {
				t.Fatal(err)
			}
			if g.NameZh != "受灾群众" {
				t.Errorf("NameZh = %q, want trimmed", g.NameZh)
			}
			got, ok := snapshot(t, svc).Group("FLOOD_VICTIMS")
			if !ok || !reflect.DeepEqual(*got, *g) {
				t.Fatalf("stored group %+v, want %+v", got, g)
			}
		})
		t.Run("Group/ErrDuplicateCode", func(t *testing.T) {
			before := snapshot(t, svc)
			_, err := svc.CreateGroup(adminCtx, catalog.Group{Code: "DIBAO", NameZh: "另一个低保", NameEn: "Another", Tier: 2})
			wantCode(t, err, aidhub.ECONFLICT)
			sameCatalog(t, svc, before)
		})
		t.Run("Group/ErrInvalid", func(t *testing.T) {
			valid := catalog.Group{Code: "NEW_GROUP", NameZh: "新群体", NameEn: "New group", Tier: 3}
			for _, tc := range []struct {
				name  string
				edit  func(*catalog.Group)
				field string
			}{
				{"LowercaseCode", func(g *catalog.Group) { g.Code = "new_group" }, "code"},
				{"CodeStartsWithDigit", func(g *catalog.Group) { g.Code = "1GROUP" }, "code"},
				{"OneLetterCode", func(g *catalog.Group) { g.Code = "A" }, "code"},
				{"CodeWithDash", func(g *catalog.Group) { g.Code = "NEW-GROUP" }, "code"},
				{"CodeTooLong", func(g *catalog.Group) { g.Code = "G" + strings.Repeat("X", 40) }, "code"},
				{"EmptyCode", func(g *catalog.Group) { g.Code = "" }, "code"},
				{"EmptyNameZh", func(g *catalog.Group) { g.NameZh = "" }, "nameZh"},
				{"BlankNameEn", func(g *catalog.Group) { g.NameEn = " \t " }, "nameEn"},
				{"NameZhTooLong", func(g *catalog.Group) { g.NameZh = strings.Repeat("困", 101) }, "nameZh"},
				{"ControlCharacter", func(g *catalog.Group) { g.NameEn = "bad\x00name" }, "nameEn"},
				{"DescriptionTooLong", func(g *catalog.Group) { g.Description = strings.Repeat("说", 2001) }, "description"},
				{"TierZero", func(g *catalog.Group) { g.Tier = 0 }, "tier"},
				{"TierTen", func(g *catalog.Group) { g.Tier = 10 }, "tier"},
				{"TierNegative", func(g *catalog.Group) { g.Tier = -1 }, "tier"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := snapshot(t, svc)
					g := valid
					tc.edit(&g)
					_, err := svc.CreateGroup(adminCtx, g)
					wantInvalid(t, err, tc.field)
					sameCatalog(t, svc, before)
				})
			}
		})
		t.Run("Group/Boundaries", func(t *testing.T) {
			for i, g := range []catalog.Group{
				{Code: "AB", NameZh: strings.Repeat("困", 100), NameEn: "x", Tier: 1},
				{Code: "G" + strings.Repeat("X", 39), NameZh: "y", NameEn: "y", Tier: 9, Description: strings.Repeat("说", 2000)},
			} {
				if _, err := svc.CreateGroup(adminCtx, g); err != nil {
					t.Errorf("group %d: %v", i, err)
				}
			}
		})

		t.Run("Category", func(t *testing.T) {
			top, err := svc.CreateCategory(adminCtx, catalog.Category{Code: "DISASTER", NameZh: "灾害救助", NameEn: "Disaster relief", DuplicateWindowDays: 30, Sort: 500})
			if err != nil {
				t.Fatal(err)
			}
			child, err := svc.CreateCategory(adminCtx, catalog.Category{Code: "DISASTER_FLOOD", ParentCode: ptr("DISASTER"), NameZh: "洪涝", NameEn: "Floods"})
			if err != nil {
				t.Fatal(err)
			}
			c := snapshot(t, svc)
			if got, _ := c.Category("DISASTER"); got == nil || !reflect.DeepEqual(*got, *top) {
				t.Errorf("stored %+v, want %+v", got, top)
			}
			if got, _ := c.Category("DISASTER_FLOOD"); got == nil || got.ParentCode == nil || *got.ParentCode != "DISASTER" || !reflect.DeepEqual(*got, *child) {
				t.Errorf("stored child %+v", got)
			}
			if c.Root("DISASTER_FLOOD") != "DISASTER" {
				t.Errorf("Root(DISASTER_FLOOD) = %s", c.Root("DISASTER_FLOOD"))
			}
		})
		t.Run("Category/ErrDuplicateCode", func(t *testing.T) {
			before := snapshot(t, svc)
			_, err := svc.CreateCategory(adminCtx, catalog.Category{Code: "MEDICAL", NameZh: "医疗", NameEn: "Medical"})
			wantCode(t, err, aidhub.ECONFLICT)
			_, err = svc.CreateCategory(adminCtx, catalog.Category{Code: "MEDICAL_INPATIENT", ParentCode: ptr("EDUCATION"), NameZh: "医疗", NameEn: "Medical"})
			wantCode(t, err, aidhub.ECONFLICT)
			sameCatalog(t, svc, before)
		})
		t.Run("Category/ErrInvalid", func(t *testing.T) {
			valid := catalog.Category{Code: "NEW_CATEGORY", NameZh: "新类别", NameEn: "New category", DuplicateWindowDays: 10}
			for _, tc := range []struct {
				name  string
				edit  func(*catalog.Category)
				field string
			}{
				{"BadCode", func(c *catalog.Category) { c.Code = "new category" }, "code"},
				{"EmptyNameZh", func(c *catalog.Category) { c.NameZh = "" }, "nameZh"},
				{"EmptyNameEn", func(c *catalog.Category) { c.NameEn = "" }, "nameEn"},
				{"NameEnTooLong", func(c *catalog.Category) { c.NameEn = strings.Repeat("x", 101) }, "nameEn"},
				{"NegativeDuplicateWindow", func(c *catalog.Category) { c.DuplicateWindowDays = -1 }, "duplicateWindowDays"},
				{"DuplicateWindowOverTenYears", func(c *catalog.Category) { c.DuplicateWindowDays = 3661 }, "duplicateWindowDays"},
				{"UnknownParent", func(c *catalog.Category) { c.ParentCode = ptr("NO_SUCH_PARENT") }, "parentCode"},
				{"EmptyParent", func(c *catalog.Category) { c.ParentCode = ptr("") }, "parentCode"},
				{"ParentIsItself", func(c *catalog.Category) { c.ParentCode = ptr(c.Code) }, "parentCode"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := snapshot(t, svc)
					c := valid
					tc.edit(&c)
					_, err := svc.CreateCategory(adminCtx, c)
					wantInvalid(t, err, tc.field)
					sameCatalog(t, svc, before)
				})
			}
		})

		t.Run("Item", func(t *testing.T) {
			it, err := svc.CreateItem(adminCtx, catalog.Item{Code: "SANDBAGS", CategoryCode: "DISASTER_FLOOD", NameZh: "沙袋", NameEn: "Sandbags", Unit: "袋", HouseholdLevel: true, Sort: 10})
			if err != nil {
				t.Fatal(err)
			}
			c := snapshot(t, svc)
			if got, ok := c.Item("SANDBAGS"); !ok || *got != *it {
				t.Errorf("stored %+v, want %+v", got, it)
			}
			if got := c.ItemsUnder("DISASTER"); !slices.Equal(got, []string{"SANDBAGS"}) {
				t.Errorf("ItemsUnder(DISASTER) = %v", got)
			}
		})
		t.Run("Item/ErrDuplicateCode", func(t *testing.T) {
			before := snapshot(t, svc)
			_, err := svc.CreateItem(adminCtx, catalog.Item{Code: "LIVING_ALLOWANCE", CategoryCode: "BASIC_LIVING", NameZh: "补助", NameEn: "Allowance"})
			wantCode(t, err, aidhub.ECONFLICT)
			sameCatalog(t, svc, before)
		})
		t.Run("Item/ErrInvalid", func(t *testing.T) {
			valid := catalog.Item{Code: "NEW_ITEM", CategoryCode: "BASIC_LIVING", NameZh: "新项目", NameEn: "New item", Unit: "次"}
			for _, tc := range []struct {
				name  string
				edit  func(*catalog.Item)
				field string
			}{
				{"BadCode", func(it *catalog.Item) { it.Code = "_ITEM" }, "code"},
				{"UnknownCategory", func(it *catalog.Item) { it.CategoryCode = "NO_SUCH_CATEGORY" }, "categoryCode"},
				{"NoCategory", func(it *catalog.Item) { it.CategoryCode = "" }, "categoryCode"},
				{"EmptyNameZh", func(it *catalog.Item) { it.NameZh = "   " }, "nameZh"},
				{"NameZhTooLong", func(it *catalog.Item) { it.NameZh = strings.Repeat("项", 101) }, "nameZh"},
				{"UnitTooLong", func(it *catalog.Item) { it.Unit = strings.Repeat("斤", 21) }, "unit"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := snapshot(t, svc)
					it := valid
					tc.edit(&it)
					_, err := svc.CreateItem(adminCtx, it)
					wantInvalid(t, err, tc.field)
					sameCatalog(t, svc, before)
				})
			}
		})

		t.Run("UpdateGroup", func(t *testing.T) {
			g, err := svc.UpdateGroup(adminCtx, "FLOOD_VICTIMS", catalog.GroupPatch{Tier: ptr(2), NameEn: ptr("Flood-affected people")})
			if err != nil {
				t.Fatal(err)
			}
			if g.Tier != 2 || g.NameEn != "Flood-affected people" || g.NameZh != "受灾群众" {
				t.Errorf("updated group %+v", g)
			}
			before := snapshot(t, svc)
			_, err = svc.UpdateGroup(adminCtx, "FLOOD_VICTIMS", catalog.GroupPatch{Tier: ptr(0)})
			wantInvalid(t, err, "tier")
			_, err = svc.UpdateGroup(adminCtx, "FLOOD_VICTIMS", catalog.GroupPatch{NameZh: ptr("")})
			wantInvalid(t, err, "nameZh")
			_, err = svc.UpdateGroup(adminCtx, "NO_SUCH_GROUP", catalog.GroupPatch{Tier: ptr(1)})
			wantCode(t, err, aidhub.ENOTFOUND)
			sameCatalog(t, svc, before)
		})
		t.Run("UpdateItem", func(t *testing.T) {
			it, err := svc.UpdateItem(adminCtx, "SANDBAGS", catalog.ItemPatch{CategoryCode: ptr("EMERGENCY"), Unit: ptr("个")})
			if err != nil {
				t.Fatal(err)
			}
			if it.CategoryCode != "EMERGENCY" || it.Unit != "个" || it.NameZh != "沙袋" || !it.HouseholdLevel {
				t.Errorf("updated item %+v", it)
			}
			if got := snapshot(t, svc).ItemsUnder("DISASTER"); len(got) != 0 {
				t.Errorf("ItemsUnder(DISASTER) after the move = %v", got)
			}
			before := snapshot(t, svc)
			_, err = svc.UpdateItem(adminCtx, "SANDBAGS", catalog.ItemPatch{CategoryCode: ptr("NO_SUCH_CATEGORY")})
			wantInvalid(t, err, "categoryCode")
			_, err = svc.UpdateItem(adminCtx, "NO_SUCH_ITEM", catalog.ItemPatch{Unit: ptr("个")})
			wantCode(t, err, aidhub.ENOTFOUND)
			sameCatalog(t, svc, before)
		})
	})
}

func TestService_UpdateCategory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc
		// MEDICAL → MEDICAL_INPATIENT → INPATIENT_SURGERY (a grandchild).
		if _, err := svc.CreateCategory(adminCtx, catalog.Category{Code: "INPATIENT_SURGERY", ParentCode: ptr("MEDICAL_INPATIENT"), NameZh: "手术", NameEn: "Surgery"}); err != nil {
			t.Fatal(err)
		}

		t.Run("ErrCycle", func(t *testing.T) {
			for _, tc := range []struct{ code, parent string }{
				{"MEDICAL", "MEDICAL"},
				{"MEDICAL", "MEDICAL_INPATIENT"},
				{"MEDICAL", "INPATIENT_SURGERY"},
				{"MEDICAL_INPATIENT", "INPATIENT_SURGERY"},
				{"INPATIENT_SURGERY", "INPATIENT_SURGERY"},
			} {
				t.Run(tc.code+"Under"+tc.parent, func(t *testing.T) {
					before := snapshot(t, svc)
					_, err := svc.UpdateCategory(adminCtx, tc.code, catalog.CategoryPatch{ParentCode: aidhub.Some(tc.parent), NameEn: ptr("renamed")})
					wantInvalid(t, err, "parentCode")
					sameCatalog(t, svc, before)
				})
			}
		})
		t.Run("ErrUnknownParent", func(t *testing.T) {
			before := snapshot(t, svc)
			_, err := svc.UpdateCategory(adminCtx, "MEDICAL", catalog.CategoryPatch{ParentCode: aidhub.Some("NO_SUCH_PARENT")})
			wantInvalid(t, err, "parentCode")
			sameCatalog(t, svc, before)
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			before := snapshot(t, svc)
			_, err := svc.UpdateCategory(adminCtx, "MEDICAL", catalog.CategoryPatch{DuplicateWindowDays: ptr(-1)})
			wantInvalid(t, err, "duplicateWindowDays")
			_, err = svc.UpdateCategory(adminCtx, "MEDICAL", catalog.CategoryPatch{NameZh: ptr(" ")})
			wantInvalid(t, err, "nameZh")
			sameCatalog(t, svc, before)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := svc.UpdateCategory(adminCtx, "NO_SUCH_CATEGORY", catalog.CategoryPatch{NameEn: ptr("x")})
			wantCode(t, err, aidhub.ENOTFOUND)
		})
		t.Run("UnsetFieldsStay", func(t *testing.T) {
			c, err := svc.UpdateCategory(adminCtx, "MEDICAL_OUTPATIENT", catalog.CategoryPatch{DuplicateWindowDays: ptr(60)})
			if err != nil {
				t.Fatal(err)
			}
			if c.DuplicateWindowDays != 60 || c.ParentCode == nil || *c.ParentCode != "MEDICAL" || c.NameZh == "" {
				t.Errorf("updated category %+v", c)
			}
		})
		t.Run("MoveAcrossTree", func(t *testing.T) {
			// A subtree moves as a whole: MEDICAL_INPATIENT with its child.
			if _, err := svc.UpdateCategory(adminCtx, "MEDICAL_INPATIENT", catalog.CategoryPatch{ParentCode: aidhub.Some("EMERGENCY")}); err != nil {
				t.Fatal(err)
			}
			c := snapshot(t, svc)
			if got := c.Root("INPATIENT_SURGERY"); got != "EMERGENCY" {
				t.Errorf("Root(INPATIENT_SURGERY) = %s, want EMERGENCY", got)
			}
			if got := c.ItemsUnder("MEDICAL"); slices.Contains(got, "INPATIENT_AID") {
				t.Errorf("ItemsUnder(MEDICAL) still has INPATIENT_AID: %v", got)
			}
			if got := c.ItemsUnder("EMERGENCY"); !slices.Contains(got, "INPATIENT_AID") || !slices.Contains(got, "CRITICAL_ILLNESS_AID") {
				t.Errorf("ItemsUnder(EMERGENCY) = %v", got)
			}
			// Now MEDICAL may go under INPATIENT_SURGERY: it is no longer below MEDICAL.
			if _, err := svc.UpdateCategory(adminCtx, "MEDICAL", catalog.CategoryPatch{ParentCode: aidhub.Some("INPATIENT_SURGERY")}); err != nil {
				t.Fatal(err)
			}
			// …and then EMERGENCY may not go under MEDICAL, which is now below it.
			before := snapshot(t, svc)
			_, err := svc.UpdateCategory(adminCtx, "EMERGENCY", catalog.CategoryPatch{ParentCode: aidhub.Some("MEDICAL_OUTPATIENT")})
			wantInvalid(t, err, "parentCode")
			sameCatalog(t, svc, before)
		})
		t.Run("MoveToTop", func(t *testing.T) {
			c, err := svc.UpdateCategory(adminCtx, "MEDICAL", catalog.CategoryPatch{ParentCode: aidhub.Null[string]()})
			if err != nil {
				t.Fatal(err)
			}
			if c.ParentCode != nil {
				t.Errorf("parent %v, want none", *c.ParentCode)
			}
			cat := snapshot(t, svc)
			if got, _ := cat.Category("MEDICAL"); got.ParentCode != nil {
				t.Errorf("stored parent %v", *got.ParentCode)
			}
			if cat.Root("MEDICAL_OUTPATIENT") != "MEDICAL" {
				t.Errorf("Root(MEDICAL_OUTPATIENT) = %s", cat.Root("MEDICAL_OUTPATIENT"))
			}
		})
	})
}

func TestService_PlanEntries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc := newFixture(t, d).svc

		t.Run("SetInserts", func(t *testing.T) {
			before := len(snapshot(t, svc).Plan("DIBAO"))
			e, err := svc.SetPlanEntry(adminCtx, catalog.PlanEntry{GroupCode: "DIBAO", ItemCode: "EMERGENCY_FUND", Level: catalog.Recommended})
			if err != nil {
				t.Fatal(err)
			}
			if e.Level != catalog.Recommended {
				t.Errorf("returned %+v", e)
			}
			c := snapshot(t, svc)
			if got := c.PlanLevel("DIBAO", "EMERGENCY_FUND"); got != catalog.Recommended {
				t.Errorf("PlanLevel = %q", got)
			}
			if got := len(c.Plan("DIBAO")); got != before+1 {
				t.Errorf("plan has %d entries, want %d", got, before+1)
			}
		})
		t.Run("SetUpserts", func(t *testing.T) {
			before := len(snapshot(t, svc).Plan("DIBAO"))
			for _, l := range []catalog.PlanLevel{catalog.Optional, catalog.Entitled} {
				if _, err := svc.SetPlanEntry(adminCtx, catalog.PlanEntry{GroupCode: "DIBAO", ItemCode: "EMERGENCY_FUND", Level: l}); err != nil {
					t.Fatal(err)
				}
				c := snapshot(t, svc)
				if got := c.PlanLevel("DIBAO", "EMERGENCY_FUND"); got != l {
					t.Errorf("PlanLevel = %q, want %q", got, l)
				}
				if got := len(c.Plan("DIBAO")); got != before {
					t.Errorf("plan has %d entries after an upsert, want %d", got, before)
				}
			}
			// Changing a seeded entry's level.
			if _, err := svc.SetPlanEntry(adminCtx, catalog.PlanEntry{GroupCode: "DIBAO", ItemCode: "LIVING_ALLOWANCE", Level: catalog.Optional}); err != nil {
				t.Fatal(err)
			}
			if got := snapshot(t, svc).PlanLevel("DIBAO", "LIVING_ALLOWANCE"); got != catalog.Optional {
				t.Errorf("PlanLevel(DIBAO, LIVING_ALLOWANCE) = %q", got)
			}
		})
		t.Run("SetErrInvalid", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				e     catalog.PlanEntry
				field string
			}{
				{"UnknownGroup", catalog.PlanEntry{GroupCode: "NO_SUCH_GROUP", ItemCode: "EMERGENCY_FUND", Level: catalog.Entitled}, "groupCode"},
				{"UnknownItem", catalog.PlanEntry{GroupCode: "DIBAO", ItemCode: "NO_SUCH_ITEM", Level: catalog.Entitled}, "itemCode"},
				{"UnknownLevel", catalog.PlanEntry{GroupCode: "DIBAO", ItemCode: "EMERGENCY_FUND", Level: "MANDATORY"}, "level"},
				{"LowercaseLevel", catalog.PlanEntry{GroupCode: "DIBAO", ItemCode: "EMERGENCY_FUND", Level: "optional"}, "level"},
				{"NoLevel", catalog.PlanEntry{GroupCode: "DIBAO", ItemCode: "EMERGENCY_FUND"}, "level"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := snapshot(t, svc)
					_, err := svc.SetPlanEntry(adminCtx, tc.e)
					wantInvalid(t, err, tc.field)
					sameCatalog(t, svc, before)
				})
			}
		})
		t.Run("Remove", func(t *testing.T) {
			before := len(snapshot(t, svc).Plan("DIBAO"))
			if err := svc.RemovePlanEntry(adminCtx, "DIBAO", "EMERGENCY_FUND"); err != nil {
				t.Fatal(err)
			}
			c := snapshot(t, svc)
			if got := c.PlanLevel("DIBAO", "EMERGENCY_FUND"); got != "" {
				t.Errorf("PlanLevel after removal = %q", got)
			}
			if got := len(c.Plan("DIBAO")); got != before-1 {
				t.Errorf("plan has %d entries, want %d", got, before-1)
			}
			if _, ok := c.Item("EMERGENCY_FUND"); !ok {
				t.Error("removing a plan entry removed the item")
			}
		})
		t.Run("RemoveErrNotFound", func(t *testing.T) {
			before := snapshot(t, svc)
			for _, tc := range [][2]string{{"DIBAO", "EMERGENCY_FUND"}, {"NO_SUCH_GROUP", "LIVING_ALLOWANCE"}, {"DIBAO", "NO_SUCH_ITEM"}} {
				wantCode(t, svc.RemovePlanEntry(adminCtx, tc[0], tc[1]), aidhub.ENOTFOUND)
			}
			sameCatalog(t, svc, before)
		})
	})
}

func TestService_DeleteCatalogEntries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc
		// A draft that offers LIVING_ALLOWANCE to DIBAO households.
		p := validPatch(t)
		p.ItemCodes = &[]string{"LIVING_ALLOWANCE"}
		p.GroupCodes = &[]string{"DIBAO"}
		mustCreate(t, svc, adminCtx, f.orgA.ID, p)

		t.Run("Category/ErrHasChildren", func(t *testing.T) {
			before := snapshot(t, svc)
			err := svc.DeleteCategory(adminCtx, "MEDICAL")
			wantCode(t, err, aidhub.ECONFLICT)
			wantMessage(t, err, "sub-categories")
			sameCatalog(t, svc, before)
		})
		t.Run("Category/ErrHasItems", func(t *testing.T) {
			before := snapshot(t, svc)
			err := svc.DeleteCategory(adminCtx, "LEGAL")
			wantCode(t, err, aidhub.ECONFLICT)
			wantMessage(t, err, "items")
			sameCatalog(t, svc, before)
		})
		t.Run("Category/ErrNotFound", func(t *testing.T) {
			wantCode(t, svc.DeleteCategory(adminCtx, "NO_SUCH_CATEGORY"), aidhub.ENOTFOUND)
		})
		t.Run("Category", func(t *testing.T) {
			if _, err := svc.CreateCategory(adminCtx, catalog.Category{Code: "SPARE", ParentCode: ptr("LEGAL"), NameZh: "备用", NameEn: "Spare"}); err != nil {
				t.Fatal(err)
			}
			if err := svc.DeleteCategory(adminCtx, "SPARE"); err != nil {
				t.Fatal(err)
			}
			c := snapshot(t, svc)
			if _, ok := c.Category("SPARE"); ok {
				t.Error("SPARE is still there")
			}
			if len(c.Children("LEGAL")) != 0 {
				t.Error("LEGAL still has children")
			}
		})

		t.Run("Item/ErrReferenced", func(t *testing.T) {
			before := snapshot(t, svc)
			err := svc.DeleteItem(adminCtx, "LIVING_ALLOWANCE")
			wantCode(t, err, aidhub.ECONFLICT)
			sameCatalog(t, svc, before)
		})
		t.Run("Item/ErrNotFound", func(t *testing.T) {
			wantCode(t, svc.DeleteItem(adminCtx, "NO_SUCH_ITEM"), aidhub.ENOTFOUND)
		})
		t.Run("Item/RemovesPlanEntries", func(t *testing.T) {
			before := snapshot(t, svc)
			var inPlans int
			for _, e := range before.Plans {
				if e.ItemCode == "LEGAL_CONSULTATION" {
					inPlans++
				}
			}
			if inPlans == 0 {
				t.Fatal("LEGAL_CONSULTATION is in no plan; pick another item")
			}
			if err := svc.DeleteItem(adminCtx, "LEGAL_CONSULTATION"); err != nil {
				t.Fatal(err)
			}
			c := snapshot(t, svc)
			if _, ok := c.Item("LEGAL_CONSULTATION"); ok {
				t.Error("item still there")
			}
			if got, want := len(c.Plans), len(before.Plans)-inPlans; got != want {
				t.Errorf("%d plan entries, want %d", got, want)
			}
			for _, e := range c.Plans {
				if e.ItemCode == "LEGAL_CONSULTATION" {
					t.Errorf("plan entry %+v survived", e)
				}
			}
		})

		t.Run("Group/ErrReferenced", func(t *testing.T) {
			before := snapshot(t, svc)
			err := svc.DeleteGroup(adminCtx, "DIBAO")
			wantCode(t, err, aidhub.ECONFLICT)
			sameCatalog(t, svc, before)
		})
		t.Run("Group/ErrNotFound", func(t *testing.T) {
			wantCode(t, svc.DeleteGroup(adminCtx, "NO_SUCH_GROUP"), aidhub.ENOTFOUND)
		})
		t.Run("Group/RemovesPlanEntries", func(t *testing.T) {
			before := snapshot(t, svc)
			n := len(before.Plan("VAGRANT"))
			if n == 0 {
				t.Fatal("VAGRANT has no plan")
			}
			if err := svc.DeleteGroup(adminCtx, "VAGRANT"); err != nil {
				t.Fatal(err)
			}
			c := snapshot(t, svc)
			if _, ok := c.Group("VAGRANT"); ok {
				t.Error("group still there")
			}
			if len(c.Plan("VAGRANT")) != 0 {
				t.Error("plan entries survived")
			}
			if got, want := len(c.Plans), len(before.Plans)-n; got != want {
				t.Errorf("%d plan entries, want %d", got, want)
			}
			if got, want := len(c.Items), len(before.Items); got != want {
				t.Errorf("%d items, want %d: deleting a group deleted items", got, want)
			}
			if countRows(t, d, "plan_entries") != len(c.Plans) {
				t.Error("plan_entries and the snapshot disagree")
			}
		})
	})
}

func TestService_CatalogEdits_Authorization(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc
		// Things only an admin may delete, each deletable.
		if _, err := svc.CreateCategory(adminCtx, catalog.Category{Code: "SPARE", NameZh: "备用", NameEn: "Spare"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateItem(adminCtx, catalog.Item{Code: "SPARE_ITEM", CategoryCode: "BASIC_LIVING", NameZh: "备用", NameEn: "Spare"}); err != nil {
			t.Fatal(err)
		}
		ops := []struct {
			name string
			do   func(ctx context.Context) error
		}{
			{"CreateGroup", func(ctx context.Context) error {
				_, err := svc.CreateGroup(ctx, catalog.Group{Code: "NEW_GROUP", NameZh: "新", NameEn: "New", Tier: 3})
				return err
			}},
			{"UpdateGroup", func(ctx context.Context) error {
				_, err := svc.UpdateGroup(ctx, "DIBAO", catalog.GroupPatch{Tier: ptr(1)})
				return err
			}},
			{"CreateCategory", func(ctx context.Context) error {
				_, err := svc.CreateCategory(ctx, catalog.Category{Code: "NEW_CATEGORY", NameZh: "新", NameEn: "New"})
				return err
			}},
			{"UpdateCategory", func(ctx context.Context) error {
				_, err := svc.UpdateCategory(ctx, "MEDICAL_OUTPATIENT", catalog.CategoryPatch{ParentCode: aidhub.Null[string]()})
				return err
			}},
			{"CreateItem", func(ctx context.Context) error {
				_, err := svc.CreateItem(ctx, catalog.Item{Code: "NEW_ITEM", CategoryCode: "MEDICAL", NameZh: "新", NameEn: "New"})
				return err
			}},
			{"UpdateItem", func(ctx context.Context) error {
				_, err := svc.UpdateItem(ctx, "LIVING_ALLOWANCE", catalog.ItemPatch{Unit: ptr("份")})
				return err
			}},
			{"SetPlanEntry", func(ctx context.Context) error {
				_, err := svc.SetPlanEntry(ctx, catalog.PlanEntry{GroupCode: "DIBAO", ItemCode: "EMERGENCY_FUND", Level: catalog.Entitled})
				return err
			}},
			{"RemovePlanEntry", func(ctx context.Context) error { return svc.RemovePlanEntry(ctx, "DIBAO", "LIVING_ALLOWANCE") }},
			{"DeleteCategory", func(ctx context.Context) error { return svc.DeleteCategory(ctx, "SPARE") }},
			{"DeleteItem", func(ctx context.Context) error { return svc.DeleteItem(ctx, "SPARE_ITEM") }},
			{"DeleteGroup", func(ctx context.Context) error { return svc.DeleteGroup(ctx, "VAGRANT") }},
		}
		callers := []struct {
			name string
			ctx  context.Context
			code string
		}{
			{"Anonymous", anonCtx, aidhub.EUNAUTHENTICATED},
			{"Charity", f.charityA(), aidhub.EFORBIDDEN},
			{"CaseManager", caseManagerCtx, aidhub.EFORBIDDEN},
			{"Donor", donorCtx, aidhub.EFORBIDDEN},
		}
		before := snapshot(t, svc)
		for _, op := range ops {
			for _, c := range callers {
				t.Run(op.name+"/"+c.name, func(t *testing.T) {
					wantCode(t, op.do(c.ctx), c.code)
					sameCatalog(t, svc, before)
				})
			}
		}
		// The same operations succeed for an admin, so the refusals above
		// were about the caller and nothing else.
		for _, op := range ops {
			t.Run(op.name+"/Admin", func(t *testing.T) {
				if err := op.do(adminCtx); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}
