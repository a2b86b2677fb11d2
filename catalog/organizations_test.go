package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

func TestService_CreateOrganization(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc

		t.Run("Valid", func(t *testing.T) {
			o, err := svc.CreateOrganization(adminCtx, catalog.NewOrganization{
				Name: "  七星岗街道社工站 ", Kind: catalog.KindSocialOrganization, DivisionCode: qixinggang,
				Description: "社区社会工作服务", ContactPhone: "+86 (023) 6380-0000", Website: "https://example.org/qxg",
			})
			if err != nil {
				t.Fatal(err)
			}
			if o.ID == 0 || o.Name != "七星岗街道社工站" || o.DivisionCode != qixinggang || !o.CreatedAt.Equal(fixedNow()) || !o.UpdatedAt.Equal(fixedNow()) {
				t.Errorf("created %+v", o)
			}
			got, err := svc.Organization(anonCtx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != o.Name || got.Kind != o.Kind || got.DivisionCode != o.DivisionCode || got.Description != o.Description ||
				got.ContactPhone != o.ContactPhone || got.Website != o.Website || !got.CreatedAt.Equal(o.CreatedAt) {
				t.Errorf("stored %+v, want %+v", got, o)
			}
		})
		t.Run("AnyDivisionLevel", func(t *testing.T) {
			for i, code := range []string{chongqing, shapingba, xiaolongkan, longquanlu} {
				if _, err := svc.CreateOrganization(adminCtx, catalog.NewOrganization{Name: fmt.Sprintf("机构%d", i), Kind: catalog.KindGovernment, DivisionCode: code}); err != nil {
					t.Errorf("division %s: %v", code, err)
				}
			}
		})
		t.Run("ErrDuplicateName", func(t *testing.T) {
			n := countRows(t, d, "organizations")
			_, err := svc.CreateOrganization(adminCtx, catalog.NewOrganization{Name: " 重庆市慈善总会", Kind: catalog.KindCharity, DivisionCode: shapingba})
			wantCode(t, err, aidhub.ECONFLICT)
			if countRows(t, d, "organizations") != n {
				t.Fatal("a row was written")
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			valid := catalog.NewOrganization{Name: "新机构", Kind: catalog.KindCharity, DivisionCode: yuzhong}
			for _, tc := range []struct {
				name  string
				edit  func(*catalog.NewOrganization)
				field string
			}{
				{"UnknownDistrict", func(o *catalog.NewOrganization) { o.DivisionCode = unknownArea }, "divisionCode"},
				{"OutsideChongqing", func(o *catalog.NewOrganization) { o.DivisionCode = chengduJinjia }, "divisionCode"},
				{"MalformedDivision", func(o *catalog.NewOrganization) { o.DivisionCode = "5001" }, "divisionCode"},
				{"NoDivision", func(o *catalog.NewOrganization) { o.DivisionCode = "" }, "divisionCode"},
				{"UnknownKind", func(o *catalog.NewOrganization) { o.Kind = "COMPANY" }, "kind"},
				{"NoKind", func(o *catalog.NewOrganization) { o.Kind = "" }, "kind"},
				{"LowercaseKind", func(o *catalog.NewOrganization) { o.Kind = "charity" }, "kind"},
				{"EmptyName", func(o *catalog.NewOrganization) { o.Name = "  " }, "name"},
				{"NameTooLong", func(o *catalog.NewOrganization) { o.Name = strings.Repeat("慈", 101) }, "name"},
				{"DescriptionTooLong", func(o *catalog.NewOrganization) { o.Description = strings.Repeat("善", 2001) }, "description"},
				{"PhoneWithLetters", func(o *catalog.NewOrganization) { o.ContactPhone = "call 023-1234" }, "contactPhone"},
				{"PhoneTooShort", func(o *catalog.NewOrganization) { o.ContactPhone = "12" }, "contactPhone"},
				{"PhoneTooLong", func(o *catalog.NewOrganization) { o.ContactPhone = strings.Repeat("1", 31) }, "contactPhone"},
				{"JavascriptWebsite", func(o *catalog.NewOrganization) { o.Website = "javascript:alert(1)" }, "website"},
				{"FTPWebsite", func(o *catalog.NewOrganization) { o.Website = "ftp://example.org" }, "website"},
				{"WebsiteWithoutHost", func(o *catalog.NewOrganization) { o.Website = "https://" }, "website"},
				{"WebsiteTooLong", func(o *catalog.NewOrganization) { o.Website = "https://example.org/" + strings.Repeat("a", 300) }, "website"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					n := countRows(t, d, "organizations")
					o := valid
					tc.edit(&o)
					_, err := svc.CreateOrganization(adminCtx, o)
					wantInvalid(t, err, tc.field)
					if countRows(t, d, "organizations") != n {
						t.Fatal("a row was written")
					}
				})
			}
		})
		t.Run("ErrNotAdmin", func(t *testing.T) {
			n := countRows(t, d, "organizations")
			for _, c := range []struct {
				name string
				ctx  context.Context
				code string
			}{
				{"Anonymous", anonCtx, aidhub.EUNAUTHENTICATED},
				{"Charity", f.charityA(), aidhub.EFORBIDDEN},
				{"CaseManager", caseManagerCtx, aidhub.EFORBIDDEN},
				{"Donor", donorCtx, aidhub.EFORBIDDEN},
			} {
				t.Run(c.name, func(t *testing.T) {
					_, err := svc.CreateOrganization(c.ctx, catalog.NewOrganization{Name: "未授权机构", Kind: catalog.KindCharity, DivisionCode: yuzhong})
					wantCode(t, err, c.code)
					if countRows(t, d, "organizations") != n {
						t.Fatal("a row was written")
					}
				})
			}
		})
		t.Run("Get", func(t *testing.T) {
			o, err := svc.Organization(donorCtx, f.orgB.ID)
			if err != nil || o.Name != f.orgB.Name {
				t.Fatalf("Organization(orgB) = %+v, %v", o, err)
			}
			_, err = svc.Organization(anonCtx, 987654)
			wantCode(t, err, aidhub.ENOTFOUND)
		})
		t.Run("ByID", func(t *testing.T) {
			got, err := svc.OrganizationsByID(anonCtx, []int64{f.orgB.ID, 987654, f.orgA.ID, f.orgB.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 4 || got[0] == nil || got[0].ID != f.orgB.ID || got[1] != nil || got[2] == nil || got[2].ID != f.orgA.ID || got[3] == nil || got[3].ID != f.orgB.ID {
				t.Fatalf("OrganizationsByID = %+v", got)
			}
			empty, err := svc.OrganizationsByID(anonCtx, nil)
			if err != nil || len(empty) != 0 {
				t.Fatalf("OrganizationsByID(nil) = %v, %v", empty, err)
			}
		})
	})
}

func TestService_ListOrganizations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d) // orgA: CHARITY in 渝中区; orgB: SOCIAL_ORGANIZATION in 沙坪坝区
		svc := f.svc
		all := []int64{f.orgA.ID, f.orgB.ID}
		byName := map[string]int64{}
		for _, o := range []catalog.NewOrganization{
			{Name: "七星岗慈善站", Kind: catalog.KindCharity, DivisionCode: qixinggang},
			{Name: "华一坡社区慈善超市", Kind: catalog.KindCharity, DivisionCode: huayipo},
			{Name: "渝中区民政局", Kind: catalog.KindGovernment, DivisionCode: yuzhong},
			{Name: "小龙坎社工站", Kind: catalog.KindSocialOrganization, DivisionCode: xiaolongkan},
			{Name: "重庆市民政局", Kind: catalog.KindGovernment, DivisionCode: chongqing},
		} {
			got, err := svc.CreateOrganization(adminCtx, o)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, got.ID)
			byName[o.Name] = got.ID
		}
		list := func(t *testing.T, flt catalog.OrganizationFilter, page aidhub.PageArgs) *aidhub.Page[*catalog.Organization] {
			t.Helper()
			p, err := svc.ListOrganizations(anonCtx, flt, page)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.IDs) != len(p.Items) {
				t.Fatalf("%d IDs for %d items", len(p.IDs), len(p.Items))
			}
			for i, o := range p.Items {
				if p.IDs[i] != o.ID {
					t.Fatalf("IDs %v do not match the items", p.IDs)
				}
			}
			return p
		}
		orgIDs := func(p *aidhub.Page[*catalog.Organization]) []int64 {
			out := []int64{}
			for _, o := range p.Items {
				out = append(out, o.ID)
			}
			return out
		}

		t.Run("All", func(t *testing.T) {
			p := list(t, catalog.OrganizationFilter{}, aidhub.PageArgs{})
			if got := orgIDs(p); !slices.Equal(got, all) || p.TotalCount != 7 || p.HasNextPage {
				t.Fatalf("ids %v (total %d, next %v), want %v", got, p.TotalCount, p.HasNextPage, all)
			}
		})
		t.Run("Filters", func(t *testing.T) {
			charity, gov, social := catalog.KindCharity, catalog.KindGovernment, catalog.KindSocialOrganization
			for _, tc := range []struct {
				name string
				flt  catalog.OrganizationFilter
				want []int64
			}{
				{"KindCharity", catalog.OrganizationFilter{Kind: &charity}, []int64{f.orgA.ID, byName["七星岗慈善站"], byName["华一坡社区慈善超市"]}},
				{"KindGovernment", catalog.OrganizationFilter{Kind: &gov}, []int64{byName["渝中区民政局"], byName["重庆市民政局"]}},
				{"KindSocial", catalog.OrganizationFilter{Kind: &social}, []int64{f.orgB.ID, byName["小龙坎社工站"]}},
				{"LocatedInDistrict", catalog.OrganizationFilter{LocatedIn: ptr(yuzhong)}, []int64{f.orgA.ID, byName["七星岗慈善站"], byName["华一坡社区慈善超市"], byName["渝中区民政局"]}},
				{"LocatedInStreet", catalog.OrganizationFilter{LocatedIn: ptr(qixinggang)}, []int64{byName["七星岗慈善站"], byName["华一坡社区慈善超市"]}},
				{"LocatedInVillage", catalog.OrganizationFilter{LocatedIn: ptr(huayipo)}, []int64{byName["华一坡社区慈善超市"]}},
				{"LocatedInOtherStreet", catalog.OrganizationFilter{LocatedIn: ptr(jiefangbei)}, []int64{}},
				{"LocatedInProvince", catalog.OrganizationFilter{LocatedIn: ptr(chongqing)}, all},
				{"KindAndPlace", catalog.OrganizationFilter{Kind: &charity, LocatedIn: ptr(qixinggang)}, []int64{byName["七星岗慈善站"], byName["华一坡社区慈善超市"]}},
				{"KindAndPlaceNone", catalog.OrganizationFilter{Kind: &gov, LocatedIn: ptr(shapingba)}, []int64{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					p := list(t, tc.flt, aidhub.PageArgs{First: 100})
					if got := orgIDs(p); !slices.Equal(got, tc.want) || p.TotalCount != len(tc.want) || p.HasNextPage {
						t.Fatalf("ids %v (total %d, next %v), want %v", got, p.TotalCount, p.HasNextPage, tc.want)
					}
				})
			}
		})
		t.Run("Paging", func(t *testing.T) {
			var seen []int64
			after := int64(0)
			for page := 1; ; page++ {
				p := list(t, catalog.OrganizationFilter{}, aidhub.PageArgs{First: 3, After: after})
				if p.TotalCount != 7 {
					t.Fatalf("page %d: totalCount %d, want 7", page, p.TotalCount)
				}
				wantLen, wantNext := 3, page < 3
				if page == 3 {
					wantLen = 1
				}
				if len(p.Items) != wantLen || p.HasNextPage != wantNext {
					t.Fatalf("page %d: %d items, hasNextPage %v; want %d, %v", page, len(p.Items), p.HasNextPage, wantLen, wantNext)
				}
				seen = append(seen, orgIDs(p)...)
				if !p.HasNextPage {
					break
				}
				after = p.IDs[len(p.IDs)-1]
			}
			if !slices.Equal(seen, all) {
				t.Fatalf("paged through %v, want %v", seen, all)
			}
			// Paging with a filter counts only the filtered rows.
			charity := catalog.KindCharity
			p := list(t, catalog.OrganizationFilter{Kind: &charity}, aidhub.PageArgs{First: 2})
			if len(p.Items) != 2 || !p.HasNextPage || p.TotalCount != 3 {
				t.Fatalf("filtered first page: %d items, next %v, total %d", len(p.Items), p.HasNextPage, p.TotalCount)
			}
			p = list(t, catalog.OrganizationFilter{Kind: &charity}, aidhub.PageArgs{First: 2, After: p.IDs[1]})
			if len(p.Items) != 1 || p.HasNextPage || p.TotalCount != 3 {
				t.Fatalf("filtered second page: %d items, next %v, total %d", len(p.Items), p.HasNextPage, p.TotalCount)
			}
			// Exactly a page: no next page.
			p = list(t, catalog.OrganizationFilter{}, aidhub.PageArgs{First: 7})
			if len(p.Items) != 7 || p.HasNextPage {
				t.Fatalf("First 7 of 7: %d items, next %v", len(p.Items), p.HasNextPage)
			}
			// Past the end.
			p = list(t, catalog.OrganizationFilter{}, aidhub.PageArgs{First: 5, After: all[len(all)-1]})
			if len(p.Items) != 0 || p.HasNextPage || p.TotalCount != 7 {
				t.Fatalf("after the last: %d items, next %v, total %d", len(p.Items), p.HasNextPage, p.TotalCount)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			bogus := catalog.OrgKind("COMPANY")
			for _, tc := range []struct {
				name  string
				flt   catalog.OrganizationFilter
				page  aidhub.PageArgs
				field string
			}{
				{"FirstOver100", catalog.OrganizationFilter{}, aidhub.PageArgs{First: 101}, "first"},
				{"FirstNegative", catalog.OrganizationFilter{}, aidhub.PageArgs{First: -1}, "first"},
				{"AfterNegative", catalog.OrganizationFilter{}, aidhub.PageArgs{First: 5, After: -1}, "after"},
				{"LocatedInUnknown", catalog.OrganizationFilter{LocatedIn: ptr(unknownArea)}, aidhub.PageArgs{}, "filter.locatedIn"},
				{"LocatedInOutsideChongqing", catalog.OrganizationFilter{LocatedIn: ptr(chengduJinjia)}, aidhub.PageArgs{}, "filter.locatedIn"},
				{"LocatedInMalformed", catalog.OrganizationFilter{LocatedIn: ptr("5001%")}, aidhub.PageArgs{}, "filter.locatedIn"},
				{"UnknownKind", catalog.OrganizationFilter{Kind: &bogus}, aidhub.PageArgs{}, "filter.kind"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := svc.ListOrganizations(anonCtx, tc.flt, tc.page)
					wantInvalid(t, err, tc.field)
				})
			}
			if _, err := svc.ListOrganizations(anonCtx, catalog.OrganizationFilter{}, aidhub.PageArgs{First: aidhub.MaxPage}); err != nil {
				t.Errorf("First = MaxPage: %v", err)
			}
		})
	})
}
