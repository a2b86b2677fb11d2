package catalog_test

import (
	"context"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/regions"
)

func TestService_CreateResource(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc

		t.Run("CharityOwnOrganization", func(t *testing.T) {
			p := validPatch(t)
			p.Title = ptr("  冬季温暖包  ")
			p.ItemCodes = &[]string{"WINTER_SUPPLIES", " WINTER_SUPPLIES", "MEAL_ASSISTANCE"}
			p.Coverage = &[]string{yuzhong, yuzhong + " ", qixinggang}
			r := mustCreate(t, svc, f.charityA(), 0, p)
			if r.ID == 0 || r.OrganizationID != f.orgA.ID || r.Status != catalog.Draft || r.Version != 1 {
				t.Fatalf("created %+v", r)
			}
			if r.Title != "冬季温暖包" {
				t.Errorf("title %q, want trimmed", r.Title)
			}
			if !r.CreatedAt.Equal(fixedNow()) || !r.UpdatedAt.Equal(fixedNow()) || r.PublishedAt != nil || r.ClosedAt != nil {
				t.Errorf("timestamps created %v updated %v published %v closed %v", r.CreatedAt, r.UpdatedAt, r.PublishedAt, r.ClosedAt)
			}
			got := reload(t, svc, r.ID)
			// Lists come back de-duplicated, trimmed and ordered by code.
			if !slices.Equal(got.ItemCodes, []string{"MEAL_ASSISTANCE", "WINTER_SUPPLIES"}) ||
				!slices.Equal(got.GroupCodes, []string{"DIBAO", "TEKUN"}) ||
				!slices.Equal(got.Coverage, []string{yuzhong, qixinggang}) {
				t.Errorf("links items %v groups %v coverage %v", got.ItemCodes, got.GroupCodes, got.Coverage)
			}
			if got.Title != "冬季温暖包" || *got.AgeMin != 18 || *got.AgeMax != 90 || *got.IncomeCeilingFen != 80_000 ||
				*got.CapacityUnits != 100 || *got.CapacityBudgetFen != 5_000_000 || got.UnitsTaken != 0 || got.BudgetTakenFen != 0 ||
				got.ValidFrom.String() != "2026-11-01" || got.ValidUntil.String() != "2027-02-28" ||
				got.Address != *p.Address || got.ContactName != "李老师" || got.ContactPhone != "023-6380 1234" ||
				*got.DivisionCode != qixinggang || *got.Lat != 29.556 || *got.Lng != 106.566 || got.Version != 1 ||
				!got.CreatedAt.Equal(fixedNow()) || got.Status != catalog.Draft {
				t.Errorf("stored %+v", got)
			}
			if got.UnitsLeft() == nil || *got.UnitsLeft() != 100 || got.BudgetLeftFen() == nil || *got.BudgetLeftFen() != 5_000_000 {
				t.Errorf("capacity left %v %v", got.UnitsLeft(), got.BudgetLeftFen())
			}
		})
		t.Run("CharityNamesOwnOrganization", func(t *testing.T) {
			r := mustCreate(t, svc, f.charityA(), f.orgA.ID, validPatch(t))
			if r.OrganizationID != f.orgA.ID {
				t.Fatalf("organization %d", r.OrganizationID)
			}
		})
		t.Run("AdminNamesOrganization", func(t *testing.T) {
			r := mustCreate(t, svc, adminCtx, f.orgB.ID, validPatch(t))
			if r.OrganizationID != f.orgB.ID || r.Status != catalog.Draft {
				t.Fatalf("created %+v", r)
			}
		})
		t.Run("Minimal", func(t *testing.T) {
			// A draft needs only a title; everything else can come later.
			r := mustCreate(t, svc, f.charityA(), 0, catalog.ResourcePatch{Title: ptr("待完善的资源")})
			got := reload(t, svc, r.ID)
			if len(got.ItemCodes) != 0 || len(got.Coverage) != 0 || got.AgeMin != nil || got.CapacityUnits != nil ||
				got.ValidUntil != nil || got.DivisionCode != nil || got.Lat != nil || got.UnitsLeft() != nil || got.BudgetLeftFen() != nil {
				t.Errorf("stored %+v", got)
			}
		})
		t.Run("Boundaries", func(t *testing.T) {
			var coverage []string
			for _, s := range regions.Chongqing().AtLevel(regions.Street)[:50] {
				coverage = append(coverage, s.Code)
			}
			p := validPatch(t)
			p.Title = ptr(strings.Repeat("助", 200))
			p.Description = ptr(strings.Repeat("善", 5000))
			p.AgeMin, p.AgeMax = aidhub.Some(0), aidhub.Some(catalog.MaxAge)
			p.IncomeCeilingFen = aidhub.Some[int64](catalog.MaxIncomeCeiling)
			p.CapacityUnits = aidhub.Some[int64](catalog.MaxCapacityUnits)
			p.CapacityBudgetFen = aidhub.Some[int64](catalog.MaxCapacityBudget)
			p.ValidFrom, p.ValidUntil = aidhub.Some(date(t, "2026-12-01")), aidhub.Some(date(t, "2026-12-01"))
			p.Lat, p.Lng = aidhub.Some(-90.0), aidhub.Some(180.0)
			p.Coverage = &coverage
			r := mustCreate(t, svc, adminCtx, f.orgA.ID, p)
			if got := reload(t, svc, r.ID); len(got.Coverage) != 50 || *got.CapacityBudgetFen != catalog.MaxCapacityBudget {
				t.Errorf("stored %d coverage entries, budget %d", len(got.Coverage), *got.CapacityBudgetFen)
			}
		})

		t.Run("ErrCaller", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				ctx   context.Context
				orgID int64
				code  string
			}{
				{"Anonymous", anonCtx, f.orgA.ID, aidhub.EUNAUTHENTICATED},
				{"Donor", donorCtx, f.orgA.ID, aidhub.EFORBIDDEN},
				{"CaseManager", caseManagerCtx, f.orgA.ID, aidhub.EFORBIDDEN},
				{"CharityForAnotherOrganization", f.charityB(), f.orgA.ID, aidhub.EFORBIDDEN},
				{"AdminUnknownOrganization", adminCtx, 987654, aidhub.ENOTFOUND},
				{"CharityOfUnknownOrganization", charityCtx(987654), 0, aidhub.ENOTFOUND},
				{"AdminWithoutOrganization", adminCtx, 0, aidhub.EBADINPUT},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := resourceRows(t, d)
					_, err := svc.CreateResource(tc.ctx, tc.orgID, validPatch(t))
					wantCode(t, err, tc.code)
					if after := resourceRows(t, d); after != before {
						t.Fatalf("rows %v, want %v", after, before)
					}
				})
			}
		})

		t.Run("ErrInvalid", func(t *testing.T) {
			var tooMany []string
			for _, s := range regions.Chongqing().AtLevel(regions.Street)[:51] {
				tooMany = append(tooMany, s.Code)
			}
			for _, tc := range []struct {
				name  string
				edit  func(*catalog.ResourcePatch)
				field string
			}{
				{"CoverageUnknownDistrict", func(p *catalog.ResourcePatch) { p.Coverage = &[]string{yuzhong, unknownArea} }, "coverage"},
				{"CoverageOutsideChongqing", func(p *catalog.ResourcePatch) { p.Coverage = &[]string{chengduJinjia} }, "coverage"},
				{"CoverageMalformed", func(p *catalog.ResourcePatch) { p.Coverage = &[]string{"5001"} }, "coverage"},
				{"CoverageEmptyCode", func(p *catalog.ResourcePatch) { p.Coverage = &[]string{""} }, "coverage"},
				{"CoverageUnknownVillage", func(p *catalog.ResourcePatch) { p.Coverage = &[]string{"500103001999"} }, "coverage"},
				{"CoverageTooMany", func(p *catalog.ResourcePatch) { p.Coverage = &tooMany }, "coverage"},
				{"DivisionCodeUnknown", func(p *catalog.ResourcePatch) { p.DivisionCode = aidhub.Some(unknownArea) }, "divisionCode"},
				{"DivisionCodeOutsideChongqing", func(p *catalog.ResourcePatch) { p.DivisionCode = aidhub.Some(chengduJinjia) }, "divisionCode"},
				{"ItemUnknown", func(p *catalog.ResourcePatch) { p.ItemCodes = &[]string{"WINTER_SUPPLIES", "NO_SUCH_ITEM"} }, "itemCodes"},
				{"ItemIsACategory", func(p *catalog.ResourcePatch) { p.ItemCodes = &[]string{"MEDICAL"} }, "itemCodes"},
				{"ItemsTooMany", func(p *catalog.ResourcePatch) {
					many := slices.Repeat([]string{"WINTER_SUPPLIES"}, 51)
					p.ItemCodes = &many
				}, "itemCodes"},
				{"GroupUnknown", func(p *catalog.ResourcePatch) { p.GroupCodes = &[]string{"NO_SUCH_GROUP"} }, "groupCodes"},
				{"GroupLowercase", func(p *catalog.ResourcePatch) { p.GroupCodes = &[]string{"dibao"} }, "groupCodes"},
				{"IncomeCeilingNegative", func(p *catalog.ResourcePatch) { p.IncomeCeilingFen = aidhub.Some[int64](-1) }, "incomeCeilingFen"},
				{"IncomeCeilingZero", func(p *catalog.ResourcePatch) { p.IncomeCeilingFen = aidhub.Some[int64](0) }, "incomeCeilingFen"},
				{"IncomeCeilingAbsurd", func(p *catalog.ResourcePatch) {
					p.IncomeCeilingFen = aidhub.Some[int64](catalog.MaxIncomeCeiling + 1)
				}, "incomeCeilingFen"},
				{"CapacityUnitsNegative", func(p *catalog.ResourcePatch) { p.CapacityUnits = aidhub.Some[int64](-5) }, "capacityUnits"},
				{"CapacityUnitsZero", func(p *catalog.ResourcePatch) { p.CapacityUnits = aidhub.Some[int64](0) }, "capacityUnits"},
				{"CapacityUnitsAbsurd", func(p *catalog.ResourcePatch) {
					p.CapacityUnits = aidhub.Some[int64](catalog.MaxCapacityUnits + 1)
				}, "capacityUnits"},
				{"CapacityUnitsMinInt", func(p *catalog.ResourcePatch) { p.CapacityUnits = aidhub.Some[int64](math.MinInt64) }, "capacityUnits"},
				{"CapacityBudgetNegative", func(p *catalog.ResourcePatch) { p.CapacityBudgetFen = aidhub.Some[int64](-100) }, "capacityBudgetFen"},
				{"CapacityBudgetZero", func(p *catalog.ResourcePatch) { p.CapacityBudgetFen = aidhub.Some[int64](0) }, "capacityBudgetFen"},
				{"CapacityBudgetAbsurd", func(p *catalog.ResourcePatch) {
					p.CapacityBudgetFen = aidhub.Some[int64](catalog.MaxCapacityBudget + 1)
				}, "capacityBudgetFen"},
				{"CapacityBudgetMaxInt", func(p *catalog.ResourcePatch) { p.CapacityBudgetFen = aidhub.Some[int64](math.MaxInt64) }, "capacityBudgetFen"},
				{"AgeRangeInverted", func(p *catalog.ResourcePatch) { p.AgeMin, p.AgeMax = aidhub.Some(60), aidhub.Some(18) }, "ageMax"},
				{"AgeMinNegative", func(p *catalog.ResourcePatch) { p.AgeMin = aidhub.Some(-1) }, "ageMin"},
				{"AgeMaxOver150", func(p *catalog.ResourcePatch) { p.AgeMax = aidhub.Some(151) }, "ageMax"},
				{"AgeMinOver150", func(p *catalog.ResourcePatch) { p.AgeMin, p.AgeMax = aidhub.Some(200), aidhub.Null[int]() }, "ageMin"},
				{"ValidityEndsBeforeStart", func(p *catalog.ResourcePatch) {
					p.ValidFrom, p.ValidUntil = aidhub.Some(date(t, "2027-01-01")), aidhub.Some(date(t, "2026-12-31"))
				}, "validUntil"},
				{"ValidFromLastCentury", func(p *catalog.ResourcePatch) { p.ValidFrom = aidhub.Some(date(t, "1999-12-31")) }, "validFrom"},
				{"ValidUntilFarFuture", func(p *catalog.ResourcePatch) { p.ValidUntil = aidhub.Some(date(t, "2101-01-01")) }, "validUntil"},
				{"TitleEmpty", func(p *catalog.ResourcePatch) { p.Title = ptr("") }, "title"},
				{"TitleMissing", func(p *catalog.ResourcePatch) { p.Title = nil }, "title"},
				{"TitleBlank", func(p *catalog.ResourcePatch) { p.Title = ptr(" \n\t ") }, "title"},
				{"TitleTooLong", func(p *catalog.ResourcePatch) { p.Title = ptr(strings.Repeat("助", 201)) }, "title"},
				{"TitleControlCharacter", func(p *catalog.ResourcePatch) { p.Title = ptr("温暖\x07包") }, "title"},
				{"TitleInvalidUTF8", func(p *catalog.ResourcePatch) { p.Title = ptr("温暖\xff包") }, "title"},
				{"DescriptionTooLong", func(p *catalog.ResourcePatch) { p.Description = ptr(strings.Repeat("善", 5001)) }, "description"},
				{"AddressTooLong", func(p *catalog.ResourcePatch) { p.Address = ptr(strings.Repeat("路", 301)) }, "address"},
				{"ContactNameTooLong", func(p *catalog.ResourcePatch) { p.ContactName = ptr(strings.Repeat("李", 51)) }, "contactName"},
				{"ContactPhoneBad", func(p *catalog.ResourcePatch) { p.ContactPhone = ptr("<script>") }, "contactPhone"},
				{"LatWithoutLng", func(p *catalog.ResourcePatch) { p.Lng = aidhub.Null[float64]() }, "lat"},
				{"LngWithoutLat", func(p *catalog.ResourcePatch) { p.Lat = aidhub.Null[float64]() }, "lat"},
				{"Lat91", func(p *catalog.ResourcePatch) { p.Lat = aidhub.Some(91.0) }, "lat"},
				{"LatMinus91", func(p *catalog.ResourcePatch) { p.Lat = aidhub.Some(-91.0) }, "lat"},
				{"LatNaN", func(p *catalog.ResourcePatch) { p.Lat = aidhub.Some(math.NaN()) }, "lat"},
				{"Lng181", func(p *catalog.ResourcePatch) { p.Lng = aidhub.Some(181.0) }, "lng"},
				{"LngInfinite", func(p *catalog.ResourcePatch) { p.Lng = aidhub.Some(math.Inf(-1)) }, "lng"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := resourceRows(t, d)
					p := validPatch(t)
					tc.edit(&p)
					for _, ctx := range []context.Context{f.charityA(), adminCtx} {
						_, err := svc.CreateResource(ctx, f.orgA.ID, p)
						wantInvalid(t, err, tc.field)
					}
					if after := resourceRows(t, d); after != before {
						t.Fatalf("rows (resources, items, groups, coverage) %v, want %v", after, before)
					}
				})
			}
		})
	})
}

func TestService_ResourceLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc
		ctx := f.charityA()

		t.Run("Transitions", func(t *testing.T) {
			r := mustCreate(t, svc, ctx, 0, validPatch(t))
			step := func(name string, op func(context.Context, int64, *int64) (*catalog.Resource, error), want catalog.Status, version int64) *catalog.Resource {
				t.Helper()
				got, err := op(ctx, r.ID, nil)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got.Status != want || got.Version != version {
					t.Fatalf("%s: %s v%d, want %s v%d", name, got.Status, got.Version, want, version)
				}
				if stored := reload(t, svc, r.ID); stored.Status != want || stored.Version != version {
					t.Fatalf("%s: stored %s v%d, want %s v%d", name, stored.Status, stored.Version, want, version)
				}
				return got
			}
			refuse := func(name string, op func(context.Context, int64, *int64) (*catalog.Resource, error)) {
				t.Helper()
				before := reload(t, svc, r.ID)
				_, err := op(ctx, r.ID, nil)
				wantCode(t, err, aidhub.ECONFLICT)
				sameResource(t, svc, before)
			}
			refuse("pause a draft", svc.PauseResource)
			got := step("publish", svc.PublishResource, catalog.Published, 2)
			if got.PublishedAt == nil || !got.PublishedAt.Equal(fixedNow()) {
				t.Errorf("publishedAt %v", got.PublishedAt)
			}
			refuse("publish again", svc.PublishResource)
			step("pause", svc.PauseResource, catalog.Paused, 3)
			refuse("pause again", svc.PauseResource)
			step("publish a paused", svc.PublishResource, catalog.Published, 4)
			got = step("close", svc.CloseResource, catalog.Closed, 5)
			if got.ClosedAt == nil || !got.ClosedAt.Equal(fixedNow()) {
				t.Errorf("closedAt %v", got.ClosedAt)
			}
			refuse("publish a closed", svc.PublishResource)
			refuse("pause a closed", svc.PauseResource)
			refuse("close a closed", svc.CloseResource)
			refuse("update a closed", func(ctx context.Context, id int64, v *int64) (*catalog.Resource, error) {
				return svc.UpdateResource(ctx, id, v, catalog.ResourcePatch{Title: ptr("重新开放")})
			})
			// Even an admin cannot reopen it.
			before := reload(t, svc, r.ID)
			_, err := svc.PublishResource(adminCtx, r.ID, nil)
			wantCode(t, err, aidhub.ECONFLICT)
			wantMessage(t, err, "closed")
			sameResource(t, svc, before)
		})
		t.Run("CloseFromEachState", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				prep func(id int64)
			}{
				{"Draft", func(int64) {}},
				{"Published", func(id int64) {
					if _, err := svc.PublishResource(ctx, id, nil); err != nil {
						t.Fatal(err)
					}
				}},
				{"Paused", func(id int64) {
					if _, err := svc.PublishResource(ctx, id, nil); err != nil {
						t.Fatal(err)
					}
					if _, err := svc.PauseResource(ctx, id, nil); err != nil {
						t.Fatal(err)
					}
				}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := mustCreate(t, svc, ctx, 0, validPatch(t))
					tc.prep(r.ID)
					v := reload(t, svc, r.ID).Version
					got, err := svc.CloseResource(ctx, r.ID, &v)
					if err != nil {
						t.Fatal(err)
					}
					if got.Status != catalog.Closed || got.Version != v+1 || got.ClosedAt == nil {
						t.Fatalf("closed %+v", got)
					}
					if stored := reload(t, svc, r.ID); stored.Status != catalog.Closed || stored.ClosedAt == nil {
						t.Fatalf("stored %s closedAt %v", stored.Status, stored.ClosedAt)
					}
				})
			}
		})
		t.Run("ExpectedVersion", func(t *testing.T) {
			r := mustCreate(t, svc, ctx, 0, validPatch(t))
			stale := int64(0)
			for _, op := range []struct {
				name string
				do   func(v *int64) error
			}{
				{"Publish", func(v *int64) error { _, err := svc.PublishResource(ctx, r.ID, v); return err }},
				{"Pause", func(v *int64) error { _, err := svc.PauseResource(ctx, r.ID, v); return err }},
				{"Close", func(v *int64) error { _, err := svc.CloseResource(ctx, r.ID, v); return err }},
				{"Update", func(v *int64) error {
					_, err := svc.UpdateResource(ctx, r.ID, v, catalog.ResourcePatch{Title: ptr("新标题")})
					return err
				}},
			} {
				t.Run(op.name, func(t *testing.T) {
					before := reload(t, svc, r.ID)
					for _, v := range []int64{stale, before.Version + 1, before.Version - 1} {
						err := op.do(&v)
						wantCode(t, err, aidhub.ECONFLICT)
						wantMessage(t, err, "version")
						sameResource(t, svc, before)
					}
				})
			}
			v := int64(1)
			if _, err := svc.PublishResource(ctx, r.ID, &v); err != nil {
				t.Fatalf("publish at the right version: %v", err)
			}
		})
		t.Run("ErrCaller", func(t *testing.T) {
			r := mustCreate(t, svc, ctx, 0, validPatch(t))
			before := reload(t, svc, r.ID)
			for _, c := range []struct {
				name string
				ctx  context.Context
				code string
			}{
				{"Anonymous", anonCtx, aidhub.EUNAUTHENTICATED},
				{"Donor", donorCtx, aidhub.EFORBIDDEN},
				{"CaseManager", caseManagerCtx, aidhub.EFORBIDDEN},
			} {
				t.Run(c.name, func(t *testing.T) {
					_, err := svc.PublishResource(c.ctx, r.ID, nil)
					wantCode(t, err, c.code)
					_, err = svc.PauseResource(c.ctx, r.ID, nil)
					wantCode(t, err, c.code)
					_, err = svc.CloseResource(c.ctx, r.ID, nil)
					wantCode(t, err, c.code)
					_, err = svc.UpdateResource(c.ctx, r.ID, nil, catalog.ResourcePatch{Title: ptr("x")})
					wantCode(t, err, c.code)
					sameResource(t, svc, before)
				})
			}
			t.Run("NotFound", func(t *testing.T) {
				for _, c := range []context.Context{adminCtx, ctx} {
					_, err := svc.PublishResource(c, 987654, nil)
					wantCode(t, err, aidhub.ENOTFOUND)
					_, err = svc.UpdateResource(c, 987654, nil, catalog.ResourcePatch{Title: ptr("x")})
					wantCode(t, err, aidhub.ENOTFOUND)
				}
			})
			t.Run("AdminManagesAnyOrganization", func(t *testing.T) {
				got, err := svc.PublishResource(adminCtx, r.ID, nil)
				if err != nil || got.Status != catalog.Published {
					t.Fatalf("admin publish: %+v, %v", got, err)
				}
			})
		})
	})
}

func TestService_PublishResource(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc
		ctx := f.charityA()

		for _, tc := range []struct {
			name   string
			edit   func(*catalog.ResourcePatch)
			reason []string
		}{
			{"ErrNoItems", func(p *catalog.ResourcePatch) { p.ItemCodes = nil }, []string{"offers no service item"}},
			{"ErrNoCoverage", func(p *catalog.ResourcePatch) { p.Coverage = &[]string{} }, []string{"covers no region"}},
			{"ErrNoCapacity", func(p *catalog.ResourcePatch) {
				p.CapacityUnits, p.CapacityBudgetFen = aidhub.Opt[int64]{}, aidhub.Opt[int64]{}
			}, []string{"no capacity"}},
			{"ErrExpired", func(p *catalog.ResourcePatch) {
				p.ValidFrom, p.ValidUntil = aidhub.Some(date(t, "2026-11-01")), aidhub.Some(date(t, "2026-11-27"))
			}, []string{"validity ended on 2026-11-27"}},
			{"ErrEverything", func(p *catalog.ResourcePatch) {
				*p = catalog.ResourcePatch{Title: ptr("空壳资源"), ValidUntil: aidhub.Some(date(t, "2026-01-01"))}
			}, []string{"offers no service item", "covers no region", "no capacity", "validity ended"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := validPatch(t)
				tc.edit(&p)
				r := mustCreate(t, svc, ctx, 0, p)
				before := reload(t, svc, r.ID)
				_, err := svc.PublishResource(ctx, r.ID, nil)
				wantInvalid(t, err, "")
				wantMessage(t, err, tc.reason...)
				sameResource(t, svc, before)
			})
		}
		t.Run("BudgetOnly", func(t *testing.T) {
			p := validPatch(t)
			p.CapacityUnits = aidhub.Null[int64]()
			mustPublish(t, svc, f.orgA.ID, p)
		})
		t.Run("UnitsOnly", func(t *testing.T) {
			p := validPatch(t)
			p.CapacityBudgetFen = aidhub.Null[int64]()
			mustPublish(t, svc, f.orgA.ID, p)
		})
		t.Run("OpenEnded", func(t *testing.T) {
			p := validPatch(t)
			p.ValidFrom, p.ValidUntil = aidhub.Null[aidhub.Date](), aidhub.Null[aidhub.Date]()
			mustPublish(t, svc, f.orgA.ID, p)
		})
		t.Run("ValidUntilToday", func(t *testing.T) {
			p := validPatch(t)
			p.ValidUntil = aidhub.Some(date(t, "2026-11-28"))
			mustPublish(t, svc, f.orgA.ID, p)
		})
		t.Run("NotYetValid", func(t *testing.T) {
			// A window that starts later may be announced now.
			p := validPatch(t)
			p.ValidFrom, p.ValidUntil = aidhub.Some(date(t, "2027-01-01")), aidhub.Some(date(t, "2027-03-01"))
			mustPublish(t, svc, f.orgA.ID, p)
		})
		t.Run("ErrCapacityUsedUp", func(t *testing.T) {
			p := validPatch(t)
			p.CapacityBudgetFen = aidhub.Null[int64]()
			p.CapacityUnits = aidhub.Some[int64](10)
			r := mustCreate(t, svc, ctx, 0, p)
			if _, err := d.NewUpdate().TableExpr("resources").Set("units_taken = 10").Where("id = ?", r.ID).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			before := reload(t, svc, r.ID)
			if left := before.UnitsLeft(); left == nil || *left != 0 {
				t.Fatalf("units left %v", left)
			}
			_, err := svc.PublishResource(ctx, r.ID, nil)
			wantInvalid(t, err, "")
			wantMessage(t, err, "no capacity left")
			sameResource(t, svc, before)
		})
		t.Run("ExpiryIsInChinaTime", func(t *testing.T) {
			for _, tc := range []struct {
				name       string
				now        time.Time
				validUntil string
				expired    bool
			}{
				// 2026-11-27 17:30 UTC is already 2026-11-28 01:30 in Chongqing.
				{"PastMidnightInChongqing", time.Date(2026, 11, 27, 17, 30, 0, 0, time.UTC), "2026-11-27", true},
				{"BeforeMidnightInChongqing", time.Date(2026, 11, 27, 15, 59, 0, 0, time.UTC), "2026-11-27", false},
				{"LastMinuteOfTheDay", time.Date(2026, 11, 28, 15, 59, 59, 0, time.UTC), "2026-11-28", false},
				{"FirstMinuteOfTheNextDay", time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC), "2026-11-28", true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					at := f.withClock(tc.now)
					p := validPatch(t)
					p.ValidFrom, p.ValidUntil = aidhub.Some(date(t, "2026-11-01")), aidhub.Some(date(t, tc.validUntil))
					r := mustCreate(t, at, ctx, 0, p)
					_, err := at.PublishResource(ctx, r.ID, nil)
					if tc.expired {
						wantInvalid(t, err, "")
						wantMessage(t, err, "validity ended")
					} else if err != nil {
						t.Fatal(err)
					}
					if got := at.Expired(reload(t, at, r.ID)); got != tc.expired {
						t.Errorf("Expired = %v, want %v", got, tc.expired)
					}
				})
			}
		})
		t.Run("ErrRepublishAfterExpiry", func(t *testing.T) {
			p := validPatch(t)
			p.ValidUntil = aidhub.Some(date(t, "2026-12-15"))
			r := mustPublish(t, svc, f.orgA.ID, p)
			if _, err := svc.PauseResource(ctx, r.ID, nil); err != nil {
				t.Fatal(err)
			}
			later := f.withClock(time.Date(2026, 12, 20, 4, 0, 0, 0, time.UTC))
			before := reload(t, later, r.ID)
			_, err := later.PublishResource(ctx, r.ID, nil)
			wantInvalid(t, err, "")
			wantMessage(t, err, "validity ended on 2026-12-15")
			sameResource(t, later, before)
			// Extending the window while paused makes it publishable again.
			if _, err := later.UpdateResource(ctx, r.ID, nil, catalog.ResourcePatch{ValidUntil: aidhub.Some(date(t, "2027-01-31"))}); err != nil {
				t.Fatal(err)
			}
			if _, err := later.PublishResource(ctx, r.ID, nil); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func TestService_UpdateResource(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc
		ctx := f.charityA()

		t.Run("PatchSemantics", func(t *testing.T) {
			r := mustCreate(t, svc, ctx, 0, validPatch(t))
			before := reload(t, svc, r.ID)
			later := f.withClock(fixedNow().Add(time.Hour))
			got, err := later.UpdateResource(ctx, r.ID, nil, catalog.ResourcePatch{Title: ptr("冬季温暖包（第二批）")})
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != 2 || !got.UpdatedAt.Equal(fixedNow().Add(time.Hour)) {
				t.Errorf("version %d updatedAt %v", got.Version, got.UpdatedAt)
			}
			after := reload(t, svc, r.ID)
			want := *before
			want.Title, want.Version, want.UpdatedAt = "冬季温暖包（第二批）", 2, after.UpdatedAt
			if !after.UpdatedAt.Equal(fixedNow().Add(time.Hour)) || !after.CreatedAt.Equal(before.CreatedAt) {
				t.Errorf("createdAt %v updatedAt %v", after.CreatedAt, after.UpdatedAt)
			}
			if !reflect.DeepEqual(*after, want) {
				t.Fatalf("a title change changed more:\n got %+v\nwant %+v", after, want)
			}
		})
		t.Run("NullClears", func(t *testing.T) {
			r := mustCreate(t, svc, ctx, 0, validPatch(t))
			_, err := svc.UpdateResource(ctx, r.ID, nil, catalog.ResourcePatch{
				AgeMin:            aidhub.Null[int](),
				IncomeCeilingFen:  aidhub.Null[int64](),
				CapacityBudgetFen: aidhub.Null[int64](),
				ValidFrom:         aidhub.Null[aidhub.Date](),
				ValidUntil:        aidhub.Null[aidhub.Date](),
				DivisionCode:      aidhub.Null[string](),
				Lat:               aidhub.Null[float64](),
				Lng:               aidhub.Null[float64](),
				GroupCodes:        &[]string{},
				Address:           ptr(""),
			})
			if err != nil {
				t.Fatal(err)
			}
			got := reload(t, svc, r.ID)
			if got.AgeMin != nil || got.IncomeCeilingFen != nil || got.CapacityBudgetFen != nil || got.ValidFrom != nil ||
				got.ValidUntil != nil || got.DivisionCode != nil || got.Lat != nil || got.Lng != nil || len(got.GroupCodes) != 0 || got.Address != "" {
				t.Errorf("not cleared: %+v", got)
			}
			// Untouched fields stay.
			if got.AgeMax == nil || *got.AgeMax != 90 || got.CapacityUnits == nil || *got.CapacityUnits != 100 ||
				!slices.Equal(got.ItemCodes, []string{"WINTER_SUPPLIES"}) || !slices.Equal(got.Coverage, []string{yuzhong}) ||
				got.ContactName != "李老师" || got.Title != "冬季温暖包" || got.Version != 2 {
				t.Errorf("changed: %+v", got)
			}
		})
		t.Run("SomeSets", func(t *testing.T) {
			r := mustCreate(t, svc, ctx, 0, catalog.ResourcePatch{Title: ptr("草稿")})
			_, err := svc.UpdateResource(ctx, r.ID, nil, catalog.ResourcePatch{
				AgeMin:       aidhub.Some(6),
				ItemCodes:    &[]string{"TUTORING", "SCHOOL_SUPPLIES"},
				Coverage:     &[]string{longquanlu},
				DivisionCode: aidhub.Some(xiaolongkan),
			})
			if err != nil {
				t.Fatal(err)
			}
			got := reload(t, svc, r.ID)
			if got.AgeMin == nil || *got.AgeMin != 6 || got.AgeMax != nil || !slices.Equal(got.ItemCodes, []string{"SCHOOL_SUPPLIES", "TUTORING"}) ||
				!slices.Equal(got.Coverage, []string{longquanlu}) || got.DivisionCode == nil || *got.DivisionCode != xiaolongkan {
				t.Errorf("stored %+v", got)
			}
			// Replacing a list replaces it, not appends to it.
			if _, err := svc.UpdateResource(ctx, r.ID, nil, catalog.ResourcePatch{ItemCodes: &[]string{"TUTORING"}}); err != nil {
				t.Fatal(err)
			}
			if got := reload(t, svc, r.ID); !slices.Equal(got.ItemCodes, []string{"TUTORING"}) || got.Version != 3 {
				t.Errorf("items %v version %d", got.ItemCodes, got.Version)
			}
		})
		t.Run("VersionIncrementsOnEveryChange", func(t *testing.T) {
			r := mustCreate(t, svc, ctx, 0, validPatch(t))
			v := r.Version
			ops := []func(*int64) (*catalog.Resource, error){
				func(v *int64) (*catalog.Resource, error) {
					return svc.UpdateResource(ctx, r.ID, v, catalog.ResourcePatch{Description: ptr("一")})
				},
				func(v *int64) (*catalog.Resource, error) { return svc.PublishResource(ctx, r.ID, v) },
				func(v *int64) (*catalog.Resource, error) {
					return svc.UpdateResource(ctx, r.ID, v, catalog.ResourcePatch{Description: ptr("二")})
				},
				func(v *int64) (*catalog.Resource, error) { return svc.PauseResource(ctx, r.ID, v) },
				func(v *int64) (*catalog.Resource, error) { return svc.PublishResource(ctx, r.ID, v) },
				func(v *int64) (*catalog.Resource, error) { return svc.CloseResource(ctx, r.ID, v) },
			}
			for i, op := range ops {
				got, err := op(&v)
				if err != nil {
					t.Fatalf("op %d: %v", i, err)
				}
				if got.Version != v+1 {
					t.Fatalf("op %d: version %d, want %d", i, got.Version, v+1)
				}
				v = got.Version
				if stored := reload(t, svc, r.ID); stored.Version != v {
					t.Fatalf("op %d: stored version %d, want %d", i, stored.Version, v)
				}
			}
		})
		t.Run("ErrStaleVersion", func(t *testing.T) {
			r := mustCreate(t, svc, ctx, 0, validPatch(t))
			if _, err := svc.UpdateResource(ctx, r.ID, nil, catalog.ResourcePatch{Title: ptr("二版")}); err != nil {
				t.Fatal(err)
			}
			before := reload(t, svc, r.ID)
			_, err := svc.UpdateResource(ctx, r.ID, ptr(int64(1)), catalog.ResourcePatch{Title: ptr("基于旧版的修改"), ItemCodes: &[]string{"MEAL_ASSISTANCE"}})
			wantCode(t, err, aidhub.ECONFLICT)
			sameResource(t, svc, before)
			if _, err := svc.UpdateResource(ctx, r.ID, ptr(int64(2)), catalog.ResourcePatch{Title: ptr("三版")}); err != nil {
				t.Fatalf("update at the current version: %v", err)
			}
		})
		t.Run("ErrInvalidAgainstStoredFields", func(t *testing.T) {
			r := mustCreate(t, svc, ctx, 0, validPatch(t)) // ages 18–90
			before := reload(t, svc, r.ID)
			for _, tc := range []struct {
				name  string
				p     catalog.ResourcePatch
				field string
			}{
				{"AgeMinAboveStoredMax", catalog.ResourcePatch{AgeMin: aidhub.Some(95)}, "ageMax"},
				{"ValidUntilBeforeStoredFrom", catalog.ResourcePatch{ValidUntil: aidhub.Some(date(t, "2026-10-01"))}, "validUntil"},
				{"ClearLngOnly", catalog.ResourcePatch{Lng: aidhub.Null[float64]()}, "lat"},
				{"UnknownItem", catalog.ResourcePatch{Title: ptr("新标题"), ItemCodes: &[]string{"NO_SUCH_ITEM"}}, "itemCodes"},
				{"UnknownCoverage", catalog.ResourcePatch{Coverage: &[]string{unknownArea}}, "coverage"},
				{"EmptyTitle", catalog.ResourcePatch{Title: ptr("")}, "title"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := svc.UpdateResource(ctx, r.ID, nil, tc.p)
					wantInvalid(t, err, tc.field)
					sameResource(t, svc, before)
				})
			}
		})
		t.Run("ErrCapacityBelowTaken", func(t *testing.T) {
			r := mustCreate(t, svc, ctx, 0, validPatch(t)) // 100 units, 5,000,000 fen
			if _, err := d.NewUpdate().TableExpr("resources").Set("units_taken = 40, budget_taken_fen = 2000000").Where("id = ?", r.ID).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			before := reload(t, svc, r.ID)
			for _, tc := range []struct {
				name  string
				p     catalog.ResourcePatch
				field string
			}{
				{"UnitsBelowTaken", catalog.ResourcePatch{CapacityUnits: aidhub.Some[int64](39)}, "capacityUnits"},
				{"UnitsRemoved", catalog.ResourcePatch{CapacityUnits: aidhub.Null[int64]()}, "capacityUnits"},
				{"BudgetBelowTaken", catalog.ResourcePatch{CapacityBudgetFen: aidhub.Some[int64](1_999_999)}, "capacityBudgetFen"},
				{"BudgetRemoved", catalog.ResourcePatch{CapacityBudgetFen: aidhub.Null[int64]()}, "capacityBudgetFen"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := svc.UpdateResource(ctx, r.ID, nil, tc.p)
					wantInvalid(t, err, tc.field)
					sameResource(t, svc, before)
				})
			}
			got, err := svc.UpdateResource(ctx, r.ID, nil, catalog.ResourcePatch{CapacityUnits: aidhub.Some[int64](40), Title: ptr("改")})
			if err != nil {
				t.Fatalf("capacity equal to taken: %v", err)
			}
			if stored := reload(t, svc, r.ID); stored.UnitsTaken != 40 || stored.BudgetTakenFen != 2_000_000 || *stored.UnitsLeft() != 0 || got.Version != before.Version+1 {
				t.Errorf("taken %d/%d left %d", stored.UnitsTaken, stored.BudgetTakenFen, *stored.UnitsLeft())
			}
		})
		t.Run("PublishedMustStayPublishable", func(t *testing.T) {
			r := mustPublish(t, svc, f.orgA.ID, validPatch(t))
			before := reload(t, svc, r.ID)
			for _, tc := range []struct {
				name   string
				p      catalog.ResourcePatch
				reason string
			}{
				{"ValidUntilInThePast", catalog.ResourcePatch{ValidFrom: aidhub.Null[aidhub.Date](), ValidUntil: aidhub.Some(date(t, "2026-11-27"))}, "validity ended"},
				{"ItemsEmptied", catalog.ResourcePatch{ItemCodes: &[]string{}}, "offers no service item"},
				{"CoverageEmptied", catalog.ResourcePatch{Coverage: &[]string{}}, "covers no region"},
				{"CapacityRemoved", catalog.ResourcePatch{CapacityUnits: aidhub.Null[int64](), CapacityBudgetFen: aidhub.Null[int64]()}, "no capacity"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := svc.UpdateResource(ctx, r.ID, nil, tc.p)
					wantInvalid(t, err, "")
					wantMessage(t, err, tc.reason, "pause")
					sameResource(t, svc, before)
				})
			}
			// A change that keeps it publishable goes through.
			got, err := svc.UpdateResource(ctx, r.ID, &before.Version, catalog.ResourcePatch{ItemCodes: &[]string{"MEAL_ASSISTANCE"}, CapacityBudgetFen: aidhub.Null[int64]()})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != catalog.Published || !slices.Equal(got.ItemCodes, []string{"MEAL_ASSISTANCE"}) {
				t.Errorf("updated %+v", got)
			}
		})
		t.Run("PausedMayBeIncomplete", func(t *testing.T) {
			r := mustPublish(t, svc, f.orgA.ID, validPatch(t))
			if _, err := svc.PauseResource(ctx, r.ID, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.UpdateResource(ctx, r.ID, nil, catalog.ResourcePatch{ItemCodes: &[]string{}}); err != nil {
				t.Fatalf("emptying the items of a paused resource: %v", err)
			}
			_, err := svc.PublishResource(ctx, r.ID, nil)
			wantInvalid(t, err, "")
			wantMessage(t, err, "offers no service item")
		})
	})
}

func TestService_ResourceVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc
		ownerA := f.charityA()
		draft := mustCreate(t, svc, ownerA, 0, validPatch(t))
		published := mustPublish(t, svc, f.orgA.ID, validPatch(t))
		paused := mustPublish(t, svc, f.orgA.ID, validPatch(t))
		if _, err := svc.PauseResource(ownerA, paused.ID, nil); err != nil {
			t.Fatal(err)
		}
		closed := mustCreate(t, svc, ownerA, 0, validPatch(t))
		if _, err := svc.CloseResource(ownerA, closed.ID, nil); err != nil {
			t.Fatal(err)
		}
		draftB := mustCreate(t, svc, f.charityB(), 0, validPatch(t))
		publishedB := mustPublish(t, svc, f.orgB.ID, validPatch(t))

		public := resourceIDs(published, publishedB)
		for _, c := range []struct {
			name string
			ctx  context.Context
			sees []int64
		}{
			{"Anonymous", anonCtx, public},
			{"Donor", donorCtx, public},
			{"CaseManager", caseManagerCtx, public},
			{"OtherCharity", f.charityB(), resourceIDs(published, draftB, publishedB)},
			{"OwningCharity", ownerA, resourceIDs(draft, published, paused, closed, publishedB)},
			{"Admin", adminCtx, resourceIDs(draft, published, paused, closed, draftB, publishedB)},
		} {
			t.Run(c.name, func(t *testing.T) {
				if got := listIDs(t, svc, c.ctx, catalog.ResourceFilter{}); !slices.Equal(got, c.sees) {
					t.Fatalf("lists %v, want %v", got, c.sees)
				}
				for _, r := range []*catalog.Resource{draft, published, paused, closed, draftB, publishedB} {
					got, err := svc.Resource(c.ctx, r.ID)
					if slices.Contains(c.sees, r.ID) {
						if err != nil || got.ID != r.ID {
							t.Errorf("Resource(%d): %v", r.ID, err)
						}
					} else {
						wantCode(t, err, aidhub.ENOTFOUND)
						if got != nil {
							t.Errorf("Resource(%d) returned %+v with NOT_FOUND", r.ID, got)
						}
					}
				}
				// Asking for hidden statuses by name reveals nothing more.
				all := []catalog.Status{catalog.Draft, catalog.Published, catalog.Paused, catalog.Closed}
				if got := listIDs(t, svc, c.ctx, catalog.ResourceFilter{Statuses: all}); !slices.Equal(got, c.sees) {
					t.Fatalf("lists %v asking for every status, want %v", got, c.sees)
				}
				orgA := f.orgA.ID
				for _, id := range listIDs(t, svc, c.ctx, catalog.ResourceFilter{OrganizationID: &orgA, Statuses: []catalog.Status{catalog.Draft}}) {
					if id != draft.ID || !slices.Contains(c.sees, draft.ID) {
						t.Fatalf("sees draft %d of organization A", id)
					}
				}
			})
		}
		t.Run("UnknownID", func(t *testing.T) {
			_, err := svc.Resource(adminCtx, 987654)
			wantCode(t, err, aidhub.ENOTFOUND)
		})

		t.Run("OtherCharityCannotManage", func(t *testing.T) {
			other := f.charityB()
			for _, tc := range []struct {
				name string
				r    *catalog.Resource
				code string
			}{
				{"Draft", draft, aidhub.ENOTFOUND}, // no leak: it cannot even see it
				{"Paused", paused, aidhub.ENOTFOUND},
				{"Closed", closed, aidhub.ENOTFOUND},
				{"Published", published, aidhub.EFORBIDDEN},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := reload(t, svc, tc.r.ID)
					_, err := svc.UpdateResource(other, tc.r.ID, nil, catalog.ResourcePatch{Title: ptr("劫持")})
					wantCode(t, err, tc.code)
					_, err = svc.PublishResource(other, tc.r.ID, nil)
					wantCode(t, err, tc.code)
					_, err = svc.PauseResource(other, tc.r.ID, nil)
					wantCode(t, err, tc.code)
					_, err = svc.CloseResource(other, tc.r.ID, nil)
					wantCode(t, err, tc.code)
					// The version check must not leak a draft's version either.
					_, err = svc.UpdateResource(other, tc.r.ID, ptr(int64(99)), catalog.ResourcePatch{Title: ptr("劫持")})
					wantCode(t, err, tc.code)
					sameResource(t, svc, before)
				})
			}
			// A NOT_FOUND for someone else's draft reads exactly like one for a missing ID.
			_, hidden := svc.UpdateResource(other, draft.ID, nil, catalog.ResourcePatch{Title: ptr("x")})
			_, missing := svc.UpdateResource(other, 987654, nil, catalog.ResourcePatch{Title: ptr("x")})
			if aidhub.ErrorMessage(hidden) != aidhub.ErrorMessage(missing) {
				t.Errorf("hidden draft %q vs missing %q", aidhub.ErrorMessage(hidden), aidhub.ErrorMessage(missing))
			}
		})
		t.Run("OwnerAndAdminManage", func(t *testing.T) {
			if _, err := svc.UpdateResource(ownerA, draft.ID, nil, catalog.ResourcePatch{Title: ptr("本机构的草稿")}); err != nil {
				t.Fatalf("owner: %v", err)
			}
			if _, err := svc.UpdateResource(adminCtx, draftB.ID, nil, catalog.ResourcePatch{Title: ptr("管理员修改")}); err != nil {
				t.Fatalf("admin: %v", err)
			}
		})
	})
}

func TestService_ListResources(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc
		res := func(items, groups, coverage []string, division *string) catalog.ResourcePatch {
			p := validPatch(t)
			p.ItemCodes, p.GroupCodes, p.Coverage = &items, &groups, &coverage
			p.DivisionCode = aidhub.Opt[string]{Set: true, Value: division}
			if division == nil {
				p.Lat, p.Lng = aidhub.Null[float64](), aidhub.Null[float64]()
			}
			return p
		}
		// Published, visible to everyone:
		r1 := mustPublish(t, svc, f.orgA.ID, res([]string{"INPATIENT_AID"}, []string{"DIBAO"}, []string{yuzhong}, ptr(qixinggang)))
		r2 := mustPublish(t, svc, f.orgA.ID, res([]string{"OUTPATIENT_SUBSIDY"}, []string{"TEKUN"}, []string{qixinggang}, ptr(jiefangbei)))
		r3 := mustPublish(t, svc, f.orgB.ID, res([]string{"MEDICAL_ESCORT"}, nil, []string{chongqing}, ptr(xiaolongkan)))
		r4 := mustPublish(t, svc, f.orgB.ID, res([]string{"SCHOOL_GRANT", "TUTORING"}, []string{"DIBAO", "MARGINAL"}, []string{shapingba}, ptr(shapingba)))
		r5 := mustPublish(t, svc, f.orgB.ID, res([]string{"LEGAL_CONSULTATION"}, []string{"TEMPORARY"}, []string{longquanlu, huayipo}, nil))
		// Published while it was valid; its window ended on 2026-11-20.
		early := f.withClock(time.Date(2026, 11, 10, 4, 0, 0, 0, time.UTC))
		expired := res([]string{"WINTER_SUPPLIES", "INPATIENT_AID"}, []string{"DIBAO"}, []string{yuzhong}, ptr(qixinggang))
		expired.ValidUntil = aidhub.Some(date(t, "2026-11-20"))
		r6 := mustPublish(t, early, f.orgA.ID, expired)
		// A draft only its owner and the admin see.
		r7 := mustCreate(t, svc, adminCtx, f.orgA.ID, res([]string{"INPATIENT_AID"}, []string{"DIBAO"}, []string{yuzhong}, ptr(qixinggang)))
		published := resourceIDs(r1, r2, r3, r4, r5)

		t.Run("Filters", func(t *testing.T) {
			orgB := f.orgB.ID
			for _, tc := range []struct {
				name string
				ctx  context.Context
				flt  catalog.ResourceFilter
				want []int64
			}{
				{"None", anonCtx, catalog.ResourceFilter{}, published},
				{"CategoryWithSubcategories", anonCtx, catalog.ResourceFilter{CategoryCode: ptr("MEDICAL")}, resourceIDs(r1, r2, r3)},
				{"CategoryLeaf", anonCtx, catalog.ResourceFilter{CategoryCode: ptr("MEDICAL_INPATIENT")}, resourceIDs(r1)},
				{"CategoryThroughSubcategory", anonCtx, catalog.ResourceFilter{CategoryCode: ptr("EDUCATION")}, resourceIDs(r4)},
				{"CategoryWithoutResources", anonCtx, catalog.ResourceFilter{CategoryCode: ptr("PSYCHOLOGICAL")}, []int64{}},
				{"CategoryAndItemInside", anonCtx, catalog.ResourceFilter{CategoryCode: ptr("MEDICAL"), ItemCode: ptr("OUTPATIENT_SUBSIDY")}, resourceIDs(r2)},
				{"CategoryAndItemOutside", anonCtx, catalog.ResourceFilter{CategoryCode: ptr("MEDICAL"), ItemCode: ptr("SCHOOL_GRANT")}, []int64{}},
				{"Item", anonCtx, catalog.ResourceFilter{ItemCode: ptr("TUTORING")}, resourceIDs(r4)},
				{"ItemUnused", anonCtx, catalog.ResourceFilter{ItemCode: ptr("DAY_CARE")}, []int64{}},
				{"Group", anonCtx, catalog.ResourceFilter{GroupCode: ptr("DIBAO")}, resourceIDs(r1, r4)},
				{"GroupUnused", anonCtx, catalog.ResourceFilter{GroupCode: ptr("VAGRANT")}, []int64{}},
				{"CoversVillageInsideDistrictAndStreet", anonCtx, catalog.ResourceFilter{CoversRegion: ptr(huayipo)}, resourceIDs(r1, r2, r3, r5)},
				{"CoversVillageInsideDistrictOnly", anonCtx, catalog.ResourceFilter{CoversRegion: ptr(minshenglu)}, resourceIDs(r1, r3)},
				{"CoversStreet", anonCtx, catalog.ResourceFilter{CoversRegion: ptr(qixinggang)}, resourceIDs(r1, r2, r3)},
				{"CoversDistrict", anonCtx, catalog.ResourceFilter{CoversRegion: ptr(yuzhong)}, resourceIDs(r1, r3)},
				{"CoversOtherDistrictVillage", anonCtx, catalog.ResourceFilter{CoversRegion: ptr(longquanlu)}, resourceIDs(r3, r4, r5)},
				{"CoversNeighbouringVillage", anonCtx, catalog.ResourceFilter{CoversRegion: ptr(jiaxin)}, resourceIDs(r3, r4)},
				{"CoversProvince", anonCtx, catalog.ResourceFilter{CoversRegion: ptr(chongqing)}, resourceIDs(r3)},
				{"CoversElsewhere", anonCtx, catalog.ResourceFilter{CoversRegion: ptr("500101001001")}, resourceIDs(r3)},
				{"LocatedInDistrict", anonCtx, catalog.ResourceFilter{LocatedIn: ptr(yuzhong)}, resourceIDs(r1, r2)},
				{"LocatedInStreet", anonCtx, catalog.ResourceFilter{LocatedIn: ptr(jiefangbei)}, resourceIDs(r2)},
				{"LocatedInOtherDistrict", anonCtx, catalog.ResourceFilter{LocatedIn: ptr(shapingba)}, resourceIDs(r3, r4)},
				{"LocatedInProvince", anonCtx, catalog.ResourceFilter{LocatedIn: ptr(chongqing)}, resourceIDs(r1, r2, r3, r4)},
				{"Organization", anonCtx, catalog.ResourceFilter{OrganizationID: &orgB}, resourceIDs(r3, r4, r5)},
				{"Combined", anonCtx, catalog.ResourceFilter{GroupCode: ptr("DIBAO"), CoversRegion: ptr(huayipo), CategoryCode: ptr("MEDICAL")}, resourceIDs(r1)},
				{"CombinedNone", anonCtx, catalog.ResourceFilter{GroupCode: ptr("TEKUN"), CoversRegion: ptr(minshenglu)}, []int64{}},
				// An expired published resource is hidden unless asked for.
				{"ExpiredHidden", anonCtx, catalog.ResourceFilter{ItemCode: ptr("WINTER_SUPPLIES")}, []int64{}},
				{"IncludeExpired", anonCtx, catalog.ResourceFilter{ItemCode: ptr("WINTER_SUPPLIES"), IncludeExpired: true}, resourceIDs(r6)},
				{"IncludeExpiredCovers", anonCtx, catalog.ResourceFilter{CoversRegion: ptr(huayipo), IncludeExpired: true}, resourceIDs(r1, r2, r3, r5, r6)},
				{"IncludeExpiredAll", anonCtx, catalog.ResourceFilter{IncludeExpired: true}, resourceIDs(r1, r2, r3, r4, r5, r6)},
				{"AdminAll", adminCtx, catalog.ResourceFilter{}, resourceIDs(r1, r2, r3, r4, r5, r7)},
				{"AdminDrafts", adminCtx, catalog.ResourceFilter{Statuses: []catalog.Status{catalog.Draft}}, resourceIDs(r7)},
				{"AdminPublished", adminCtx, catalog.ResourceFilter{Statuses: []catalog.Status{catalog.Published}}, published},
				{"AdminPublishedIncludingExpired", adminCtx, catalog.ResourceFilter{Statuses: []catalog.Status{catalog.Published}, IncludeExpired: true}, resourceIDs(r1, r2, r3, r4, r5, r6)},
				{"AdminDraftsAndPublished", adminCtx, catalog.ResourceFilter{Statuses: []catalog.Status{catalog.Draft, catalog.Published}, CategoryCode: ptr("MEDICAL_INPATIENT")}, resourceIDs(r1, r7)},
				{"AdminClosedNone", adminCtx, catalog.ResourceFilter{Statuses: []catalog.Status{catalog.Closed}}, []int64{}},
				{"OwnerSeesDraftInFilter", f.charityA(), catalog.ResourceFilter{CategoryCode: ptr("MEDICAL_INPATIENT")}, resourceIDs(r1, r7)},
				{"OtherCharityDoesNot", f.charityB(), catalog.ResourceFilter{CategoryCode: ptr("MEDICAL_INPATIENT")}, resourceIDs(r1)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if got := listIDs(t, svc, tc.ctx, tc.flt); !slices.Equal(got, tc.want) {
						t.Fatalf("ids %v, want %v", got, tc.want)
					}
				})
			}
		})
		t.Run("ExpiryFollowsChinaTime", func(t *testing.T) {
			// r6's window ended on 2026-11-20: it is listed until midnight in
			// Chongqing (16:00 UTC), not until midnight UTC.
			for _, tc := range []struct {
				name  string
				now   time.Time
				shown bool
			}{
				{"LastDay", time.Date(2026, 11, 20, 15, 59, 0, 0, time.UTC), true},
				{"NextDayInChongqing", time.Date(2026, 11, 20, 16, 1, 0, 0, time.UTC), false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got := listIDs(t, f.withClock(tc.now), anonCtx, catalog.ResourceFilter{ItemCode: ptr("WINTER_SUPPLIES")})
					if shown := slices.Contains(got, r6.ID); shown != tc.shown {
						t.Fatalf("at %s: listed %v, want r6 shown=%v", tc.now, got, tc.shown)
					}
				})
			}
		})
		t.Run("ItemsCarryTheirLinks", func(t *testing.T) {
			p, err := svc.ListResources(anonCtx, catalog.ResourceFilter{GroupCode: ptr("DIBAO")}, aidhub.PageArgs{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Items {
				want := reload(t, svc, r.ID)
				if !reflect.DeepEqual(r, want) {
					t.Errorf("listed %+v\nwant %+v", r, want)
				}
			}
			if len(p.Items) != 2 || !slices.Equal(p.Items[1].ItemCodes, []string{"SCHOOL_GRANT", "TUTORING"}) || !slices.Equal(p.Items[1].GroupCodes, []string{"DIBAO", "MARGINAL"}) {
				t.Errorf("links of %d: %v %v", p.Items[1].ID, p.Items[1].ItemCodes, p.Items[1].GroupCodes)
			}
		})
		t.Run("Paging", func(t *testing.T) {
			all := resourceIDs(r1, r2, r3, r4, r5, r6, r7)
			var seen []int64
			after := int64(0)
			for page := 1; ; page++ {
				p, err := svc.ListResources(adminCtx, catalog.ResourceFilter{IncludeExpired: true}, aidhub.PageArgs{First: 3, After: after})
				if err != nil {
					t.Fatal(err)
				}
				wantLen, wantNext := 3, page < 3
				if page == 3 {
					wantLen = 1
				}
				if len(p.Items) != wantLen || p.HasNextPage != wantNext || p.TotalCount != 7 || !slices.Equal(p.IDs, ids(p.Items)) {
					t.Fatalf("page %d: %d items, hasNextPage %v, totalCount %d; want %d, %v, 7", page, len(p.Items), p.HasNextPage, p.TotalCount, wantLen, wantNext)
				}
				for _, r := range p.Items {
					if r.ItemCodes == nil || r.Coverage == nil {
						t.Fatalf("resource %d listed without its links", r.ID)
					}
				}
				seen = append(seen, p.IDs...)
				if !p.HasNextPage {
					break
				}
				after = p.IDs[len(p.IDs)-1]
			}
			if !slices.Equal(seen, all) {
				t.Fatalf("paged through %v, want %v", seen, all)
			}
			// Paging with a filter: DIBAO as anonymous is r1, r4.
			p, err := svc.ListResources(anonCtx, catalog.ResourceFilter{GroupCode: ptr("DIBAO")}, aidhub.PageArgs{First: 1})
			if err != nil || len(p.Items) != 1 || p.Items[0].ID != r1.ID || !p.HasNextPage || p.TotalCount != 2 {
				t.Fatalf("first filtered page %+v, %v", p, err)
			}
			p, err = svc.ListResources(anonCtx, catalog.ResourceFilter{GroupCode: ptr("DIBAO")}, aidhub.PageArgs{First: 1, After: p.IDs[0]})
			if err != nil || len(p.Items) != 1 || p.Items[0].ID != r4.ID || p.HasNextPage || p.TotalCount != 2 {
				t.Fatalf("second filtered page %+v, %v", p, err)
			}
			// The default page size is 20.
			p, err = svc.ListResources(adminCtx, catalog.ResourceFilter{}, aidhub.PageArgs{})
			if err != nil || len(p.Items) != 6 || p.HasNextPage {
				t.Fatalf("default page: %+v, %v", p, err)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				flt   catalog.ResourceFilter
				page  aidhub.PageArgs
				field string
			}{
				{"UnknownCategory", catalog.ResourceFilter{CategoryCode: ptr("NO_SUCH_CATEGORY")}, aidhub.PageArgs{}, "filter.categoryCode"},
				{"UnknownItem", catalog.ResourceFilter{ItemCode: ptr("NO_SUCH_ITEM")}, aidhub.PageArgs{}, "filter.itemCode"},
				{"UnknownItemWithCategory", catalog.ResourceFilter{CategoryCode: ptr("MEDICAL"), ItemCode: ptr("NO_SUCH_ITEM")}, aidhub.PageArgs{}, "filter.itemCode"},
				{"UnknownGroup", catalog.ResourceFilter{GroupCode: ptr("NO_SUCH_GROUP")}, aidhub.PageArgs{}, "filter.groupCode"},
				{"CoversUnknownRegion", catalog.ResourceFilter{CoversRegion: ptr(unknownArea)}, aidhub.PageArgs{}, "filter.coversRegion"},
				{"CoversRegionOutsideChongqing", catalog.ResourceFilter{CoversRegion: ptr(chengduJinjia)}, aidhub.PageArgs{}, "filter.coversRegion"},
				{"CoversMalformedRegion", catalog.ResourceFilter{CoversRegion: ptr("5001")}, aidhub.PageArgs{}, "filter.coversRegion"},
				{"LocatedInUnknown", catalog.ResourceFilter{LocatedIn: ptr(chengduJinjia)}, aidhub.PageArgs{}, "filter.locatedIn"},
				{"LocatedInWildcard", catalog.ResourceFilter{LocatedIn: ptr("%")}, aidhub.PageArgs{}, "filter.locatedIn"},
				{"UnknownStatus", catalog.ResourceFilter{Statuses: []catalog.Status{catalog.Published, "OPEN"}}, aidhub.PageArgs{}, "filter.statuses"},
				{"FirstOver100", catalog.ResourceFilter{}, aidhub.PageArgs{First: 101}, "first"},
				{"FirstNegative", catalog.ResourceFilter{}, aidhub.PageArgs{First: -5}, "first"},
				{"AfterNegative", catalog.ResourceFilter{}, aidhub.PageArgs{After: -1}, "after"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					for _, ctx := range []context.Context{anonCtx, adminCtx} {
						_, err := svc.ListResources(ctx, tc.flt, tc.page)
						wantInvalid(t, err, tc.field)
					}
				})
			}
		})
	})
}
