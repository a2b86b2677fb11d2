package warning_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/secret"
	"github.com/aidhub/aidhub/warning"
)

// Real Chongqing division codes.
const (
	yuzhong = "500103"       // 渝中区
	dadukou = "500104"       // 大渡口区
	huayipo = "500103001003" // 渝中区七星岗街道华一坡社区
)

var dir = regions.Chongqing()

// fixedNow is the tests' start time: 2026-11-28 12:00 in Chongqing.
func fixedNow() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }

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

func ptr[T any](v T) *T { return &v }

func date(t testing.TB, s string) aidhub.Date {
	t.Helper()
	d, err := aidhub.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func as(p auth.Principal) context.Context { return auth.WithPrincipal(context.Background(), p) }

var (
	anonCtx    = context.Background()
	adminCtx   = as(auth.Principal{TokenID: 1, Role: auth.Admin})
	donorCtx   = as(auth.Principal{TokenID: 2, Role: auth.Donor})
	cmCtx      = as(auth.Principal{TokenID: 3, Role: auth.CaseManager, RegionPrefix: yuzhong})
	cmOtherCtx = as(auth.Principal{TokenID: 4, Role: auth.CaseManager, RegionPrefix: dadukou})
	charityCtx = as(auth.Principal{TokenID: 5, Role: auth.Charity, OrganizationID: 1})
	feedCtx    = as(auth.Principal{TokenID: 6, Role: auth.DataFeed, Source: "MEDICAL_INSURANCE"})
)

var idSeq atomic.Int64

func checkChar(s string) byte {
	w := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(s[i]-'0') * w[i]
	}
	return "10X98765432"[sum%11]
}

// newID returns a valid resident ID no other call returns, of someone born
// in year.
func newID(year int) string {
	n := idSeq.Add(1)
	birth := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n%300))
	s := fmt.Sprintf("%s%s%03d", yuzhong, birth.Format("20060102"), n%1000)
	return s + string(checkChar(s))
}

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

type fixture struct {
	d     *db.DB
	clock *clock
	cat   *catalog.Service
	cw    *casework.Service
	svc   *warning.Service
}

func newFixture(t testing.TB, d *db.DB, opts ...warning.Option) *fixture {
	t.Helper()
	keys, err := secret.NewKeys([]byte("warning tests: a master secret of more than 32 bytes"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{d: d, clock: &clock{t: fixedNow()}}
	log := audit.New(d, f.clock.now)
	f.cat = catalog.NewService(d, dir, log, f.clock.now)
	if _, err := f.cat.SeedDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.cw = casework.NewService(d, dir, keys, f.cat, log, f.clock.now)
	f.svc = warning.NewService(d, dir, f.cat, f.cw, log, f.clock.now, opts...)
	if _, err := f.svc.SeedDefaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

// member is a person to register, born in year, with groups.
func member(name string, rel casework.Relation, year int, groups ...string) casework.PersonInput {
	p := casework.PersonInput{Name: name, ResidentID: newID(year), Relation: rel}
	for _, g := range groups {
		p.Groups = append(p.Groups, casework.MembershipInput{GroupCode: g, Since: aidhub.Date{Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}})
	}
	return p
}

// register registers a household in village and fails on error.
func (f *fixture) register(t testing.TB, village string, members ...casework.PersonInput) (*casework.Household, []*casework.Person) {
	t.Helper()
	h, ps, err := f.cw.RegisterHousehold(adminCtx, casework.HouseholdInput{RegionCode: village, Address: "测试路 1 号", MonthlyIncomeFen: 300_000, Members: members})
	if err != nil {
		t.Fatalf("RegisterHousehold: %v", err)
	}
	return h, ps
}

// family is a DIBAO household of three in 华一坡社区: head, spouse, child of 10.
func (f *fixture) family(t testing.TB) (*casework.Household, []*casework.Person) {
	t.Helper()
	n := idSeq.Load()
	return f.register(t, huayipo,
		member(fmt.Sprintf("户主%d", n), "HEAD", 1980, "DIBAO"), member(fmt.Sprintf("配偶%d", n), "SPOUSE", 1982), member(fmt.Sprintf("子女%d", n), "CHILD", 2016))
}

// income is an INCOME signal of a household for a month (YYYY-MM), in yuan.
func income(h *casework.Household, month string, yuan int64) warning.SignalInput {
	return warning.SignalInput{Source: "HRSS", ExternalID: fmt.Sprintf("inc-%d-%s", h.ID, month), HouseholdID: h.ID,
		Kind: "INCOME", ObservedOn: aidhub.Date{Time: mustMonth(month)}, AmountFen: ptr(yuan * 100)}
}

func mustMonth(s string) time.Time {
	t, err := time.Parse("2006-01-02", s+"-15")
	if err != nil {
		panic(err)
	}
	return t
}

// record records signals as admin and fails on error.
func (f *fixture) record(t testing.TB, ins ...warning.SignalInput) []warning.RecordResult {
	t.Helper()
	out, err := f.svc.RecordSignals(adminCtx, ins)
	if err != nil {
		t.Fatalf("RecordSignals: %v", err)
	}
	return out
}

// count counts the rows of a table.
func (f *fixture) count(t testing.TB, table string) int {
	t.Helper()
	n, err := f.d.NewSelect().TableExpr(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}
