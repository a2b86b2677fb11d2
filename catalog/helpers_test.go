package catalog_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/regions"
)

// Real Chongqing division codes used throughout the tests.
const (
	yuzhong       = "500103"       // 渝中区
	qixinggang    = "500103001"    // 渝中区七星岗街道
	huayipo       = "500103001003" // 七星岗街道华一坡社区
	jiefangbei    = "500103003"    // 渝中区解放碑街道
	minshenglu    = "500103003013" // 解放碑街道民生路社区
	shapingba     = "500106"       // 沙坪坝区
	xiaolongkan   = "500106001"    // 沙坪坝区小龙坎街道
	longquanlu    = "500106001001" // 小龙坎街道龙泉路社区
	jiaxin        = "500106001004" // 小龙坎街道嘉新社区
	chongqing     = "50"           // 重庆市
	unknownArea   = "500199"       // well-formed, not a Chongqing district
	chengduJinjia = "510104"       // 成都市锦江区: Sichuan, not Chongqing
)

// fixedNow is the tests' clock: 2026-11-28 12:00 in Chongqing.
func fixedNow() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }

// clockAt returns a clock stopped at t.
func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

func ptr[T any](v T) *T { return &v }

func date(t testing.TB, s string) aidhub.Date {
	t.Helper()
	d, err := aidhub.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func as(p auth.Principal) context.Context {
	return auth.WithPrincipal(context.Background(), p)
}

var (
	anonCtx        = context.Background()
	adminCtx       = as(auth.Principal{Role: auth.Admin})
	donorCtx       = as(auth.Principal{Role: auth.Donor})
	caseManagerCtx = as(auth.Principal{Role: auth.CaseManager, RegionPrefix: yuzhong})
)

func charityCtx(orgID int64) context.Context {
	return as(auth.Principal{Role: auth.Charity, OrganizationID: orgID})
}

// fixture is a seeded catalog with two organizations.
type fixture struct {
	d    *db.DB
	svc  *catalog.Service
	orgA *catalog.Organization // CHARITY in 渝中区
	orgB *catalog.Organization // SOCIAL_ORGANIZATION in 沙坪坝区
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	svc := catalog.NewService(d, regions.Chongqing(), audit.New(d, fixedNow), fixedNow)
	if seeded, err := svc.SeedDefaults(context.Background()); err != nil || !seeded {
		t.Fatalf("SeedDefaults = %v, %v", seeded, err)
	}
	orgA, err := svc.CreateOrganization(adminCtx, catalog.NewOrganization{Name: "重庆市慈善总会", Kind: catalog.KindCharity, DivisionCode: yuzhong})
	if err != nil {
		t.Fatal(err)
	}
	orgB, err := svc.CreateOrganization(adminCtx, catalog.NewOrganization{Name: "沙坪坝区社会工作服务中心", Kind: catalog.KindSocialOrganization, DivisionCode: shapingba})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{d: d, svc: svc, orgA: orgA, orgB: orgB}
}

// withClock returns a service over the same database with another clock.
func (f *fixture) withClock(now time.Time) *catalog.Service {
	return catalog.NewService(f.d, regions.Chongqing(), audit.New(f.d, clockAt(now)), clockAt(now))
}

func (f *fixture) charityA() context.Context { return charityCtx(f.orgA.ID) }
func (f *fixture) charityB() context.Context { return charityCtx(f.orgB.ID) }

// validPatch is a complete, publishable resource.
func validPatch(t testing.TB) catalog.ResourcePatch {
	return catalog.ResourcePatch{
		Title:             ptr("冬季温暖包"),
		Description:       ptr("为困难群众发放棉被、棉衣等过冬物资。"),
		ItemCodes:         &[]string{"WINTER_SUPPLIES"},
		GroupCodes:        &[]string{"DIBAO", "TEKUN"},
		Coverage:          &[]string{yuzhong},
		AgeMin:            aidhub.Some(18),
		AgeMax:            aidhub.Some(90),
		IncomeCeilingFen:  aidhub.Some[int64](80_000),
		CapacityUnits:     aidhub.Some[int64](100),
		CapacityBudgetFen: aidhub.Some[int64](5_000_000),
		ValidFrom:         aidhub.Some(date(t, "2026-11-01")),
		ValidUntil:        aidhub.Some(date(t, "2027-02-28")),
		Address:           ptr("渝中区七星岗街道中山一路 1 号"),
		ContactName:       ptr("李老师"),
		ContactPhone:      ptr("023-6380 1234"),
		DivisionCode:      aidhub.Some(qixinggang),
		Lat:               aidhub.Some(29.556),
		Lng:               aidhub.Some(106.566),
	}
}

// mustCreate creates a resource as ctx and fails the test on error.
func mustCreate(t *testing.T, svc *catalog.Service, ctx context.Context, orgID int64, p catalog.ResourcePatch) *catalog.Resource {
	t.Helper()
	r, err := svc.CreateResource(ctx, orgID, p)
	if err != nil {
		t.Fatalf("CreateResource: %v", err)
	}
	return r
}

// mustPublish creates and publishes a resource as admin for orgID.
func mustPublish(t *testing.T, svc *catalog.Service, orgID int64, p catalog.ResourcePatch) *catalog.Resource {
	t.Helper()
	r := mustCreate(t, svc, adminCtx, orgID, p)
	r, err := svc.PublishResource(adminCtx, r.ID, nil)
	if err != nil {
		t.Fatalf("PublishResource: %v", err)
	}
	return r
}

// reload reads a resource back as admin.
func reload(t *testing.T, svc *catalog.Service, id int64) *catalog.Resource {
	t.Helper()
	r, err := svc.Resource(adminCtx, id)
	if err != nil {
		t.Fatalf("Resource(%d): %v", id, err)
	}
	return r
}

// wantCode fails unless err carries code ("" for no error).
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := aidhub.ErrorCode(err); got != code {
		t.Fatalf("error code %q, want %q (error: %v)", got, code, err)
	}
}

// wantInvalid fails unless err is BAD_USER_INPUT about field ("" accepts any).
func wantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	wantCode(t, err, aidhub.EBADINPUT)
	var e *aidhub.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not an *aidhub.Error", err)
	}
	if field != "" && e.Field != field {
		t.Fatalf("error is about field %q, want %q (error: %v)", e.Field, field, err)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Fatalf("error %v has no message", err)
	}
}

// wantMessage fails unless err's safe message contains every part.
func wantMessage(t testing.TB, err error, parts ...string) {
	t.Helper()
	msg := aidhub.ErrorMessage(err)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Fatalf("error message %q does not mention %q", msg, p)
		}
	}
}

func snapshot(t testing.TB, svc *catalog.Service) *catalog.Catalog {
	t.Helper()
	c, err := svc.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sameCatalog fails when the stored catalog differs from before.
func sameCatalog(t testing.TB, svc *catalog.Service, before *catalog.Catalog) {
	t.Helper()
	after := snapshot(t, svc)
	for _, part := range []struct {
		name      string
		got, want any
	}{
		{"groups", after.Groups, before.Groups},
		{"categories", after.Categories, before.Categories},
		{"items", after.Items, before.Items},
		{"plans", after.Plans, before.Plans},
	} {
		if !reflect.DeepEqual(part.got, part.want) {
			t.Fatalf("the catalog's %s changed", part.name)
		}
	}
}

// countRows counts the rows of a table.
func countRows(t testing.TB, d *db.DB, table string) int {
	t.Helper()
	n, err := d.NewSelect().TableExpr(table).Count(context.Background())
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return int(n)
}

// resourceRows counts the rows of the resource tables.
func resourceRows(t testing.TB, d *db.DB) [4]int {
	t.Helper()
	return [4]int{
		countRows(t, d, "resources"), countRows(t, d, "resource_items"),
		countRows(t, d, "resource_groups"), countRows(t, d, "resource_coverage"),
	}
}

// sameResource fails when the stored resource differs from before.
func sameResource(t testing.TB, svc *catalog.Service, before *catalog.Resource) {
	t.Helper()
	after, err := svc.Resource(adminCtx, before.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("resource %d changed:\n got %+v\nwant %+v", before.ID, after, before)
	}
}

func ids(rs []*catalog.Resource) []int64 {
	out := []int64{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func resourceIDs(rs ...*catalog.Resource) []int64 {
	out := ids(rs)
	slices.Sort(out)
	return out
}

// listIDs lists every resource ctx sees under f (one page of 100).
func listIDs(t testing.TB, svc *catalog.Service, ctx context.Context, f catalog.ResourceFilter) []int64 {
	t.Helper()
	p, err := svc.ListResources(ctx, f, aidhub.PageArgs{First: 100})
	if err != nil {
		t.Fatalf("ListResources(%+v): %v", f, err)
	}
	if p.TotalCount != len(p.Items) || p.HasNextPage {
		t.Fatalf("ListResources(%+v): totalCount %d, %d items, hasNextPage %v", f, p.TotalCount, len(p.Items), p.HasNextPage)
	}
	return ids(p.Items)
}
