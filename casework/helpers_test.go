package casework_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/secret"
)

// Real Chongqing division codes.
const (
	yuzhong  = "500103"       // 渝中区
	dadukou  = "500104"       // 大渡口区
	huayipo  = "500103001003" // 渝中区七星岗街道华一坡社区
	linhualu = "500103001006" // 渝中区七星岗街道临华路社区
)

// Village codes looked up in the real directory, so the tests follow it.
var (
	dir             = regions.Chongqing()
	yuzhongVillages = villagesIn(yuzhong)
	dadukouVillages = villagesIn(dadukou)
)

func villagesIn(prefix string) []string {
	var out []string
	for _, v := range dir.AtLevel(regions.Village) {
		if strings.HasPrefix(v.Code, prefix) {
			out = append(out, v.Code)
		}
	}
	return out
}

// fixedNow is the tests' start time: 2026-11-28 12:00 in Chongqing.
func fixedNow() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }

// clock is a settable clock shared by the services of one fixture.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func ptr[T any](v T) *T { return &v }

func date(t testing.TB, s string) aidhub.Date {
	t.Helper()
	d, err := aidhub.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func period(t testing.TB, start, end string) casework.Period {
	return casework.Period{Start: date(t, start), End: date(t, end)}
}

func as(p auth.Principal) context.Context { return auth.WithPrincipal(context.Background(), p) }

// Principals. Token IDs are set so none of them is auth.System.
var (
	anonCtx    = context.Background()
	adminCtx   = as(auth.Principal{TokenID: 1, Role: auth.Admin})
	donorCtx   = as(auth.Principal{TokenID: 2, Role: auth.Donor})
	cmCtx      = as(auth.Principal{TokenID: 3, Role: auth.CaseManager, RegionPrefix: yuzhong})
	cmOtherCtx = as(auth.Principal{TokenID: 4, Role: auth.CaseManager, RegionPrefix: dadukou})
	// cmStreetCtx works in one street of 渝中区 only.
	cmStreetCtx = as(auth.Principal{TokenID: 5, Role: auth.CaseManager, RegionPrefix: "500103001"})
)

func charityCtx(orgID int64) context.Context {
	return as(auth.Principal{TokenID: 100 + orgID, Role: auth.Charity, OrganizationID: orgID})
}

// ---- resident IDs ----

var idSeq atomic.Int64

// checkChar is the ISO 7064 MOD 11-2 check character of 17 digits.
func checkChar(s string) byte {
	w := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(s[i]-'0') * w[i]
	}
	return "10X98765432"[sum%11]
}

// makeID builds a valid 18-character number.
func makeID(region string, birth time.Time, seq int) string {
	s := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), seq%1000)
	return s + string(checkChar(s))
}

// newID returns a valid number no other call returns.
func newID() string {
	n := idSeq.Add(1)
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n))
	return makeID(yuzhong, birth, int(n))
}

// wrongCheck returns id with a wrong check character.
func wrongCheck(id string) string {
	for _, c := range "0123456789X" {
		if byte(c) != id[17] {
			return id[:17] + string(c)
		}
	}
	panic("unreachable")
}

// ---- error checks ----

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := aidhub.ErrorCode(err); got != code {
		t.Fatalf("error code %q, want %q (error: %v)", got, code, err)
	}
}

func wantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	wantCode(t, err, aidhub.EBADINPUT)
	var e *aidhub.Error
	errors.As(err, &e)
	if e.Field != field {
		t.Fatalf("error is about field %q, want %q (error: %v)", e.Field, field, err)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Fatalf("error %v has no message", err)
	}
}

func wantMessage(t testing.TB, err error, parts ...string) {
	t.Helper()
	msg := aidhub.ErrorMessage(err)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Fatalf("error message %q does not mention %q", msg, p)
		}
	}
}

func wantNoMessage(t testing.TB, err error, parts ...string) {
	t.Helper()
	msg := aidhub.ErrorMessage(err)
	for _, p := range parts {
		if strings.Contains(msg, p) {
			t.Fatalf("error message %q mentions %q", msg, p)
		}
	}
}

// ---- fixture ----

// fixture is a migrated database with the default catalog, three
// organizations and the casework service over one settable clock.
type fixture struct {
	d     *db.DB
	clock *clock
	keys  *secret.Keys
	cat   *catalog.Service
	svc   *casework.Service
	log   *audit.Log
	orgA  *catalog.Organization // CHARITY
	orgB  *catalog.Organization // CHARITY
	orgS  *catalog.Organization // SOCIAL_ORGANIZATION
}

var testMaster = []byte("casework tests: a master secret of more than 32 bytes")

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	keys, err := secret.NewKeys(testMaster)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{d: d, clock: &clock{t: fixedNow()}, keys: keys}
	f.log = audit.New(d, f.clock.now)
	f.cat = catalog.NewService(d, dir, f.log, f.clock.now)
	if _, err := f.cat.SeedDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.svc = casework.NewService(d, dir, keys, f.cat, f.log, f.clock.now)
	for _, o := range []struct {
		dst  **catalog.Organization
		name string
		kind catalog.OrgKind
	}{
		{&f.orgA, "重庆市慈善总会", catalog.KindCharity},
		{&f.orgB, "渝中区爱心基金会", catalog.KindCharity},
		{&f.orgS, "渝中区社会工作服务中心", catalog.KindSocialOrganization},
	} {
		org, err := f.cat.CreateOrganization(adminCtx, catalog.NewOrganization{Name: o.name, Kind: o.kind, DivisionCode: yuzhong})
		if err != nil {
			t.Fatal(err)
		}
		*o.dst = org
	}
	return f
}

func (f *fixture) charityA() context.Context { return charityCtx(f.orgA.ID) }
func (f *fixture) charityB() context.Context { return charityCtx(f.orgB.ID) }

// today is the fixture's calendar date in China.
func (f *fixture) today() aidhub.Date {
	return aidhub.DateOf(f.clock.now().In(time.FixedZone("CST", 8*3600)))
}

// person is a member to register, with a fresh resident ID.
func person(name string, rel casework.Relation) casework.PersonInput {
	return casework.PersonInput{Name: name, ResidentID: newID(), Relation: rel}
}

// register registers a household in village as ctx and fails on error.
func (f *fixture) register(t testing.TB, ctx context.Context, village string, members ...casework.PersonInput) (*casework.Household, []*casework.Person) {
	t.Helper()
	h, ps, err := f.svc.RegisterHousehold(ctx, casework.HouseholdInput{RegionCode: village, Address: "测试路 1 号", MonthlyIncomeFen: 80_000, Members: members})
	if err != nil {
		t.Fatalf("RegisterHousehold: %v", err)
	}
	return h, ps
}

// family registers a household of three in 华一坡社区: head, spouse, child.
func (f *fixture) family(t testing.TB) (*casework.Household, []*casework.Person) {
	t.Helper()
	n := idSeq.Load()
	return f.register(t, cmCtx, huayipo,
		person(fmt.Sprintf("户主%d", n), "HEAD"), person(fmt.Sprintf("配偶%d", n), "SPOUSE"), person(fmt.Sprintf("子女%d", n), "CHILD"))
}

// share records an open-ended consent to share with charities.
func (f *fixture) share(t testing.TB, h *casework.Household, by *casework.Person) *casework.Consent {
	t.Helper()
	c, err := f.svc.RecordConsent(cmCtx, casework.ConsentInput{
		HouseholdID: h.ID, Purposes: []casework.Purpose{casework.ShareWithCharities, casework.EconomicVerification},
		GrantedByPersonID: by.ID, Method: casework.Electronic,
	})
	if err != nil {
		t.Fatalf("RecordConsent: %v", err)
	}
	return c
}

// sharedFamily is a family that consents to sharing.
func (f *fixture) sharedFamily(t testing.TB) (*casework.Household, []*casework.Person) {
	t.Helper()
	h, ps := f.family(t)
	f.share(t, h, ps[0])
	return h, ps
}

// resourcePatch is a publishable resource for 渝中区 offering items with
// capacity in units.
func resourcePatch(units int64, items ...string) catalog.ResourcePatch {
	return catalog.ResourcePatch{
		Title:         ptr("测试资源"),
		ItemCodes:     &items,
		Coverage:      &[]string{yuzhong},
		CapacityUnits: aidhub.Some(units),
		ValidFrom:     aidhub.Some(aidhub.Date{Time: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}),
		ValidUntil:    aidhub.Some(aidhub.Date{Time: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)}),
	}
}

// publish creates and publishes a resource of org as admin.
func (f *fixture) publish(t testing.TB, org *catalog.Organization, p catalog.ResourcePatch) *catalog.Resource {
	t.Helper()
	r, err := f.cat.CreateResource(adminCtx, org.ID, p)
	if err != nil {
		t.Fatalf("CreateResource: %v", err)
	}
	if r, err = f.cat.PublishResource(adminCtx, r.ID, nil); err != nil {
		t.Fatalf("PublishResource: %v", err)
	}
	return r
}

// resource reads a resource back as admin.
func (f *fixture) resource(t testing.TB, id int64) *catalog.Resource {
	t.Helper()
	r, err := f.cat.Resource(adminCtx, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) unitsTaken(t testing.TB, id int64) int64 {
	t.Helper()
	return f.resource(t, id).UnitsTaken
}

// refer creates a referral as the case manager and fails on error.
func (f *fixture) refer(t testing.TB, in casework.ReferralInput) *casework.Referral {
	t.Helper()
	r, err := f.svc.CreateReferral(cmCtx, in)
	if err != nil {
		t.Fatalf("CreateReferral: %v", err)
	}
	return r
}

// move transitions a referral and fails on error.
func (f *fixture) move(t testing.TB, ctx context.Context, id int64, to casework.ReferralStatus) *casework.Referral {
	t.Helper()
	tr := casework.Transition{ReferralID: id, To: to}
	if to == casework.Declined {
		tr.DeclineReason = ptr(casework.DeclineReason("NOT_ELIGIBLE"))
	}
	r, err := f.svc.TransitionReferral(ctx, tr)
	if err != nil {
		t.Fatalf("referral %d to %s: %v", id, to, err)
	}
	return r
}

// referral reads a referral back as admin.
func (f *fixture) referral(t testing.TB, id int64) *casework.Referral {
	t.Helper()
	r, err := f.svc.Referral(adminCtx, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
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

// caseworkTables are every table this package writes.
var caseworkTables = []string{
	"households", "persons", "group_memberships", "consents", "applications", "application_events",
	"assessments", "needs", "referrals", "referral_events", "aid_records", "audit_log",
}

// rowCounts counts the rows of every casework table.
func rowCounts(t testing.TB, d *db.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range caseworkTables {
		out[table] = countRows(t, d, table)
	}
	out["audit_log"] = len(auditEntries(t, d)) // casework's entries only
	return out
}

// unchanged fails when a casework table gained or lost rows since before.
func unchanged(t testing.TB, d *db.DB, before map[string]int) {
	t.Helper()
	after := rowCounts(t, d)
	for table, n := range before {
		if after[table] != n {
			t.Fatalf("table %s has %d rows, had %d: a refused call wrote", table, after[table], n)
		}
	}
}

// catalogSubjects are the subjects of the catalog's audit entries, which
// the fixture's organizations and resources write to the same log.
var catalogSubjects = []string{"Organization", "PlanEntry", "PopulationGroup", "Resource", "ServiceCategory", "ServiceItem"}

// auditEntries lists casework's entries of the audit log in order.
func auditEntries(t testing.TB, d *db.DB) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	if err := d.NewSelect().Model(&out).Where("subject_type NOT IN (?)", bun.List(catalogSubjects)).Order("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

// lastAudit returns the newest audit entry and fails unless it is action.
func lastAudit(t testing.TB, d *db.DB, action string) audit.Entry {
	t.Helper()
	es := auditEntries(t, d)
	if len(es) == 0 {
		t.Fatalf("no audit entry, want %s", action)
	}
	e := es[len(es)-1]
	if e.Action != action {
		t.Fatalf("last audit entry is %s, want %s", e.Action, action)
	}
	return e
}

// rawRows reads every column of every row of a table as text.
func rawRows(t testing.TB, d *db.DB, table string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := d.NewSelect().TableExpr(table).Scan(context.Background(), &rows); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return rows
}

func cellText(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func page(first int) aidhub.PageArgs { return aidhub.PageArgs{First: first} }

// race runs fn(0) … fn(n-1) at once (as near as goroutines allow) and
// returns their errors in order.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// within returns ctx with a deadline, so a deadlock fails the test instead
// of hanging it.
func within(t testing.TB, ctx context.Context, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(ctx, d)
	t.Cleanup(cancel)
	return ctx
}
