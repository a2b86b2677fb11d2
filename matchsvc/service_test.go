package matchsvc_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/matching"
	"github.com/aidhub/aidhub/matchsvc"
	"github.com/aidhub/aidhub/migrations"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/secret"
)

// Real village codes.
const (
	huayipo  = "500103001003" // 渝中区七星岗街道华一坡社区
	longquan = "500106001001" // 沙坪坝区小龙坎街道龙泉路社区
)

func fixedNow() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }

func as(p auth.Principal) context.Context { return auth.WithPrincipal(context.Background(), p) }

var (
	admin = as(auth.Principal{Role: auth.Admin, TokenID: 1})
	cmA   = as(auth.Principal{Role: auth.CaseManager, RegionPrefix: "500103", TokenID: 2})
	cmB   = as(auth.Principal{Role: auth.CaseManager, RegionPrefix: "500106", TokenID: 3})
	donor = as(auth.Principal{Role: auth.Donor, TokenID: 4})
)

func residentID(region string, birth string, seq int) string {
	s := fmt.Sprintf("%s%s%03d", region, birth, seq)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range w {
		sum += int(s[i]-'0') * w[i]
	}
	return s + string("10X98765432"[sum%11])
}

type fixture struct {
	d        *db.DB
	cat      *catalog.Service
	cw       *casework.Service
	m        *matchsvc.Service
	org      *catalog.Organization
	orgOther *catalog.Organization
	seq      int
	timings  *timings
}

// timings counts what the matcher observed, by operation.
type timings struct {
	mu  sync.Mutex
	ops map[string]int
}

func (t *timings) Observe(op string, took time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ops == nil {
		t.ops = map[string]int{}
	}
	if took > 0 && err == nil {
		t.ops[op]++
	}
}

func (t *timings) count(op string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ops[op]
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	m, err := migrations.New(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := secret.NewKeys([]byte("matcher tests: thirty-two bytes of key material"))
	if err != nil {
		t.Fatal(err)
	}
	dir := regions.Chongqing()
	f := &fixture{d: d}
	log := audit.New(d, fixedNow)
	f.cat = catalog.NewService(d, dir, log, fixedNow, catalog.WithRuleCheck(matching.CheckRule))
	if _, err := f.cat.SeedDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	f.cw = casework.NewService(d, dir, keys, f.cat, log, fixedNow)
	f.timings = &timings{}
	if f.m, err = matchsvc.New(d, f.cat, f.cw, matchsvc.DefaultConfig(), fixedNow, matchsvc.WithTimings(f.timings)); err != nil {
		t.Fatal(err)
	}
	if f.org, err = f.cat.CreateOrganization(admin, catalog.NewOrganization{Name: "重庆市慈善总会", Kind: catalog.KindCharity, DivisionCode: "500103"}); err != nil {
		t.Fatal(err)
	}
	if f.orgOther, err = f.cat.CreateOrganization(admin, catalog.NewOrganization{Name: "沙坪坝区慈善会", Kind: catalog.KindCharity, DivisionCode: "500106"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func ptr[T any](v T) *T { return &v }

// publish creates and publishes a resource of org offering items.
func (f *fixture) publish(t *testing.T, org *catalog.Organization, title string, coverage []string, p catalog.ResourcePatch) *catalog.Resource {
	t.Helper()
	ctx := as(auth.Principal{Role: auth.Charity, OrganizationID: org.ID})
	p.Title, p.Coverage = &title, &coverage
	if p.CapacityUnits.Set == false {
		p.CapacityUnits = aidhub.Some[int64](10)
	}
	r, err := f.cat.CreateResource(ctx, 0, p)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = f.cat.PublishResource(ctx, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// household registers a household with a head born in birth, consenting
// to sharing when consent is true, and assesses needs opened days ago.
func (f *fixture) household(t *testing.T, ctx context.Context, village, birth string, groups []string, consent bool, openedDaysAgo int, needs ...casework.NeedInput) (*casework.Household, []*casework.Need) {
	t.Helper()
	f.seq++
	var ms []casework.MembershipInput
	for _, g := range groups {
		since, _ := aidhub.ParseDate("2024-01-01")
		ms = append(ms, casework.MembershipInput{GroupCode: g, Since: since})
	}
	h, persons, err := f.cw.RegisterHousehold(ctx, casework.HouseholdInput{
		RegionCode: village, MonthlyIncomeFen: 80000,
		Members: []casework.PersonInput{{Name: fmt.Sprintf("住户%d", f.seq), ResidentID: residentID(village[:6], birth, f.seq), Relation: "HEAD", Groups: ms}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if consent {
		if _, err := f.cw.RecordConsent(ctx, casework.ConsentInput{HouseholdID: h.ID, Purposes: []casework.Purpose{casework.ShareWithCharities}, GrantedByPersonID: persons[0].ID, Method: casework.Electronic}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range needs {
		needs[i].PersonID = &persons[0].ID
	}
	on := f.cw.Today().AddDays(-openedDaysAgo)
	_, ns, err := f.cw.CreateAssessment(ctx, casework.AssessmentInput{HouseholdID: h.ID, AssessedOn: &on, Needs: needs})
	if err != nil {
		t.Fatal(err)
	}
	return h, ns
}

func code(err error) string { return aidhub.ErrorCode(err) }

func TestMatching(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		medical := f.publish(t, f.org, "大病医疗救助", []string{"500103"}, catalog.ResourcePatch{ItemCodes: &[]string{"INPATIENT_AID"}})
		elderly := f.publish(t, f.org, "老年人住院补助", []string{"500103"}, catalog.ResourcePatch{ItemCodes: &[]string{"INPATIENT_AID"}, AgeMin: aidhub.Some(60)})
		elsewhere := f.publish(t, f.orgOther, "沙坪坝医疗救助", []string{"500106"}, catalog.ResourcePatch{ItemCodes: &[]string{"INPATIENT_AID"}})
		ruled := f.publish(t, f.org, "低保家庭医疗补助", []string{"500103"}, catalog.ResourcePatch{ItemCodes: &[]string{"INPATIENT_AID"}, EligibilityRule: ptr(`"DIBAO" in groups`)})

		h, needs := f.household(t, cmA, huayipo, "19800101", []string{"DIBAO"}, true, 40, casework.NeedInput{CategoryCode: "MEDICAL_INPATIENT", Severity: 4})
		need := needs[0]

		t.Run("matches are ranked and explained", func(t *testing.T) {
			got, err := f.m.Matches(cmA, &need.ID, nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d need results", len(got))
			}
			ids := map[int64]bool{}
			for _, m := range got[0].Matches {
				ids[m.ResourceID] = true
				sum := 0.0
				for _, fa := range m.Factors {
					sum += fa.Contribution
					if math.Abs(fa.Contribution-fa.Value*fa.MaxPoints) > 1e-9 {
						t.Errorf("factor %s: %v × %v ≠ %v", fa.Name, fa.Value, fa.MaxPoints, fa.Contribution)
					}
				}
				if m.Score < 0 || m.Score > 100 {
					t.Errorf("resource %d: score %v outside 0–100", m.ResourceID, m.Score)
				}
				if math.Abs(sum-m.Score) > 1e-9 {
					t.Errorf("resource %d: contributions add to %v, score %v", m.ResourceID, sum, m.Score)
				}
			}
			if !ids[medical.ID] || !ids[ruled.ID] || ids[elderly.ID] || ids[elsewhere.ID] {
				t.Errorf("matched %v; want %d and %d only", ids, medical.ID, ruled.ID)
			}
			for i := 1; i < len(got[0].Matches); i++ {
				a, b := got[0].Matches[i-1], got[0].Matches[i]
				if a.Score < b.Score || (a.Score == b.Score && a.ResourceID > b.ResourceID) {
					t.Errorf("not ranked: %v before %v", a, b)
				}
			}
		})

		t.Run("from the index as from the store", func(t *testing.T) {
			// By need ID the answer comes from the in-memory index once the
			// matcher is loaded; by assessment it is read from the store.
			if err := f.m.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			byNeed, err := f.m.Matches(cmA, &need.ID, nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			byAssessment, err := f.m.Matches(cmA, nil, &need.AssessmentID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if byNeed[0].Need != nil {
				t.Errorf("by need ID the store was read: %+v", byNeed[0].Need)
			}
			if len(byAssessment) != 1 || byAssessment[0].Need == nil || !reflect.DeepEqual(byNeed[0].Matches, byAssessment[0].Matches) {
				t.Errorf("by need %+v, by assessment %+v", byNeed[0].Matches, byAssessment)
			}
			n, err := f.m.NeedOf(cmA, &byNeed[0])
			if err != nil || n.ID != need.ID {
				t.Errorf("NeedOf: %+v, %v", n, err)
			}
			if _, err := f.m.NeedOf(cmB, &byNeed[0]); code(err) != aidhub.ENOTFOUND {
				t.Errorf("NeedOf from another region: %v", err)
			}
		})

		t.Run("matching goes on during a reload", func(t *testing.T) {
			release := f.m.HoldLoading()
			defer release()
			done := make(chan error, 2)
			go func() { _, err := f.m.Matches(cmA, &need.ID, nil, 10); done <- err }()
			go func() { _, err := f.m.Matches(cmA, nil, &need.AssessmentID, 10); done <- err }()
			for range 2 {
				select {
				case err := <-done:
					if err != nil {
						t.Error(err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("matches waited for the reload")
				}
			}
		})

		t.Run("why not", func(t *testing.T) {
			matched, failures, _, err := f.m.WhyNot(cmA, need.ID, elderly.ID)
			if err != nil || matched || len(failures) != 1 || failures[0].Filter != matching.FilterAge {
				t.Errorf("elderly: matched %v failures %v err %v", matched, failures, err)
			}
			matched, failures, _, err = f.m.WhyNot(cmA, need.ID, elsewhere.ID)
			if err != nil || matched || len(failures) == 0 || failures[0].Filter != matching.FilterCoverage {
				t.Errorf("elsewhere: matched %v failures %v err %v", matched, failures, err)
			}
			matched, failures, m, err := f.m.WhyNot(cmA, need.ID, medical.ID)
			if err != nil || !matched || len(failures) != 0 || m == nil || m.ResourceID != medical.ID {
				t.Errorf("medical: matched %v failures %v match %v err %v", matched, failures, m, err)
			}
		})

		t.Run("who may ask", func(t *testing.T) {
			if _, err := f.m.Matches(cmB, &need.ID, nil, 10); code(err) != aidhub.ENOTFOUND {
				t.Errorf("case manager of another region: %v", err)
			}
			if _, err := f.m.Matches(donor, &need.ID, nil, 10); code(err) != aidhub.EFORBIDDEN {
				t.Errorf("donor: %v", err)
			}
			if _, err := f.m.Matches(context.Background(), &need.ID, nil, 10); code(err) != aidhub.EUNAUTHENTICATED {
				t.Errorf("anonymous: %v", err)
			}
			charity := as(auth.Principal{Role: auth.Charity, OrganizationID: f.org.ID})
			if _, err := f.m.Matches(charity, &need.ID, nil, 10); code(err) != aidhub.EFORBIDDEN {
				t.Errorf("charity: %v", err)
			}
			if _, _, _, err := f.m.WhyNot(cmB, need.ID, medical.ID); code(err) != aidhub.ENOTFOUND {
				t.Errorf("whyNot from another region: %v", err)
			}
			for _, first := range []int{0, -1, 101} {
				if _, err := f.m.Matches(cmA, &need.ID, nil, first); code(err) != aidhub.EBADINPUT {
					t.Errorf("first %d: %v", first, err)
				}
			}
			if _, err := f.m.Matches(cmA, nil, nil, 10); code(err) != aidhub.EBADINPUT {
				t.Errorf("neither need nor assessment: %v", err)
			}
			other := as(auth.Principal{Role: auth.Charity, OrganizationID: f.orgOther.ID})
			if _, err := f.m.MatchesForResource(other, medical.ID, 10); code(err) != aidhub.EFORBIDDEN {
				t.Errorf("another charity's resource: %v", err)
			}
			if _, err := f.m.MatchesForResource(cmA, medical.ID, 10); code(err) != aidhub.EFORBIDDEN {
				t.Errorf("case manager asking for a resource's matches: %v", err)
			}
		})

		t.Run("a charity sees consenting needs only, without names", func(t *testing.T) {
			f.household(t, cmA, huayipo, "19700101", nil, false, 10, casework.NeedInput{CategoryCode: "MEDICAL_INPATIENT", Severity: 5})
			if err := f.m.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			charity := as(auth.Principal{Role: auth.Charity, OrganizationID: f.org.ID})
			got, err := f.m.MatchesForResource(charity, medical.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Need.ID != need.ID || got[0].Region != huayipo[:9] || got[0].AgeBand != "40–49" {
				t.Fatalf("got %+v", got)
			}
		})

		t.Run("refer a match", func(t *testing.T) {
			if _, err := f.m.ReferMatch(cmA, casework.ReferralInput{NeedID: &need.ID, ResourceID: elderly.ID}); code(err) != aidhub.ECONFLICT || !strings.Contains(err.Error(), "age") {
				t.Errorf("referring a resource that does not match: %v", err)
			}
			ref, err := f.m.ReferMatch(cmA, casework.ReferralInput{NeedID: &need.ID, ResourceID: medical.ID})
			if err != nil {
				t.Fatal(err)
			}
			if ref.NeedID == nil || *ref.NeedID != need.ID || ref.Status != casework.Pending {
				t.Errorf("referral %+v", ref)
			}
			// The referral is aid under way: the need is off the watchlist
			// and the duplicate rule now blocks it.
			matched, failures, _, err := f.m.WhyNot(cmA, need.ID, ruled.ID)
			if err != nil || matched || failures[len(failures)-1].Filter != matching.FilterDuplicate {
				t.Errorf("after referral: matched %v failures %v err %v", matched, failures, err)
			}
			page, err := f.cw.UnmetNeeds(cmA, casework.UnmetFilter{}, f.m.Colours(), aidhub.PageArgs{First: 50})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range page.Items {
				if n.ID == need.ID {
					t.Errorf("a referred need is still on the watchlist")
				}
			}
		})
		_ = h
	})
}

func TestWatchlist(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		colours := f.m.Colours()
		want := map[aidhub.Colour]int{}
		for i, days := range []int{0, 6, 7, 13, 14, 29, 30, 59, 60, 200} {
			f.household(t, cmA, huayipo, fmt.Sprintf("19%02d0101", 50+i), nil, false, days, casework.NeedInput{CategoryCode: "BASIC_LIVING", Severity: 3})
			want[colours.Of(days)]++
		}
		f.household(t, cmB, longquan, "19600101", nil, false, 100, casework.NeedInput{CategoryCode: "EDUCATION", Severity: 3})

		page, err := f.cw.UnmetNeeds(cmA, casework.UnmetFilter{}, colours, aidhub.PageArgs{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 10 || len(page.Items) != 10 {
			t.Fatalf("case manager A sees %d unmet needs, want 10 (not B's)", page.TotalCount)
		}
		for i := 1; i < len(page.Items); i++ {
			if page.Items[i].OpenedOn.Before(page.Items[i-1].OpenedOn) {
				t.Errorf("not longest waiting first")
			}
		}
		for c, n := range want {
			cc := c
			p, err := f.cw.UnmetNeeds(cmA, casework.UnmetFilter{Colour: &cc}, colours, aidhub.PageArgs{First: 100})
			if err != nil {
				t.Fatal(err)
			}
			if p.TotalCount != n {
				t.Errorf("%s: %d needs, want %d", c, p.TotalCount, n)
			}
			for _, item := range p.Items {
				if got := colours.Of(f.cw.WaitingDays(item)); got != c {
					t.Errorf("%s filter returned a %s need", c, got)
				}
			}
		}
		p, err := f.cw.UnmetNeeds(cmA, casework.UnmetFilter{MinWaitingDays: 30}, colours, aidhub.PageArgs{First: 2})
		if err != nil || p.TotalCount != 4 || len(p.Items) != 2 || !p.HasNextPage {
			t.Errorf("minWaitingDays 30, first 2: %+v %v", p, err)
		}
		counts, err := f.cw.WatchlistCounts(admin, "", colours)
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) != 2 || counts[0].District != "500103" || counts[1].District != "500106" || counts[1].Counts[aidhub.Red] != 1 {
			t.Fatalf("counts %+v", counts)
		}
		for c, n := range want {
			if counts[0].Counts[c] != n {
				t.Errorf("district 500103 %s = %d, want %d", c, counts[0].Counts[c], n)
			}
		}
		if _, err := f.cw.WatchlistCounts(donor, "", colours); code(err) != aidhub.EFORBIDDEN {
			t.Errorf("donor: %v", err)
		}
		for _, bad := range []casework.UnmetFilter{{RegionPrefix: "5001x"}, {CategoryCode: "NOPE"}, {MinWaitingDays: -1}} {
			if _, err := f.cw.UnmetNeeds(cmA, bad, colours, aidhub.PageArgs{First: 10}); code(err) != aidhub.EBADINPUT {
				t.Errorf("%+v: %v", bad, err)
			}
		}
	})
}

// A full load reads ranges of need IDs two at a time and must hand over
// every open need once, in ID order, as one sequential read does.
func TestLoadInRanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		for i := range 6 {
			f.household(t, cmA, huayipo, fmt.Sprintf("19%d0101", 70+i), nil, true, i,
				casework.NeedInput{CategoryCode: "EDUCATION", Severity: 2}, casework.NeedInput{CategoryCode: "MEDICAL_INPATIENT", Severity: 3})
		}
		want, err := f.m.OpenNeedIDs(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != 12 || !slices.IsSorted(want) {
			t.Fatalf("sequential read: %v", want)
		}
		for _, c := range []struct {
			workers int
			chunk   int64
		}{{1, 1}, {2, 1}, {2, 3}, {3, 5}, {2, 5000}} {
			got, err := f.m.OpenNeedIDs(ctx, c.workers, c.chunk)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("%d workers, ranges of %d: %v, %v; want %v", c.workers, c.chunk, got, err, want)
			}
		}
	})
}

func TestRematchAndSweep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		_, needs := f.household(t, cmA, huayipo, "19800101", nil, true, 20, casework.NeedInput{CategoryCode: "EDUCATION", Severity: 2})
		f.household(t, cmB, longquan, "19810101", nil, true, 20, casework.NeedInput{CategoryCode: "EDUCATION", Severity: 2})
		if _, err := f.m.Engine(ctx); err != nil {
			t.Fatal(err)
		}
		suggestions, cancel := f.m.Broker.Subscribe("500103")
		defer cancel()

		r := f.publish(t, f.org, "助学金", []string{"50"}, catalog.ResourcePatch{ItemCodes: &[]string{"SCHOOL_SUPPLIES"}})
		if err := f.m.RematchResource(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-suggestions:
			if s.NeedID != needs[0].ID || s.ResourceID != r.ID || s.Reason != "RESOURCE_CHANGED" {
				t.Errorf("suggestion %+v", s)
			}
		case <-time.After(time.Second):
			t.Fatal("no suggestion for 500103 after publishing")
		}
		select {
		case s := <-suggestions:
			t.Errorf("a suggestion outside the subscriber's region reached it: %+v", s)
		default:
		}

		_, more := f.household(t, cmA, huayipo, "19900101", nil, true, 0, casework.NeedInput{CategoryCode: "EDUCATION", Severity: 5})
		if err := f.m.RematchHousehold(ctx, more[0].HouseholdID); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-suggestions:
			if s.NeedID != more[0].ID || s.Reason != "NEEDS_ASSESSED" {
				t.Errorf("suggestion %+v", s)
			}
		case <-time.After(time.Second):
			t.Fatal("no suggestion after a new assessment")
		}

		res, err := f.m.Sweep(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.Needs != 3 || res.Stats.Matched != 3 {
			t.Errorf("sweep stats %+v", res.Stats)
		}
		var rows []matchsvc.NeedMatch
		if err := d.NewSelect().Model(&rows).Order("need_id").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[0].ResourceID != r.ID {
			t.Errorf("need_matches %+v", rows)
		}
		// Match lists show the resource as the engine last read it: an
		// edit shows once its re-matching job has run.
		owner := as(auth.Principal{Role: auth.Charity, OrganizationID: f.org.ID})
		title := "助学金（第二期）"
		if _, err := f.cat.UpdateResource(owner, r.ID, nil, catalog.ResourcePatch{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if err := f.m.RematchResource(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		shown, err := f.m.MatchedResources(cmA, []int64{r.ID, 987654})
		if err != nil || len(shown) != 2 || shown[0] == nil || shown[0].Title != title || shown[1] != nil {
			t.Errorf("matched resources after the edit: %+v, %v", shown, err)
		}
		// Closing the resource removes it from the engine; a closed
		// resource is read from the store, and only its owner sees it.
		if _, err := f.cat.CloseResource(admin, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.m.RematchResource(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if shown, err := f.m.MatchedResources(cmA, []int64{r.ID}); err != nil || shown[0] != nil {
			t.Errorf("a case manager sees the closed resource: %+v, %v", shown, err)
		}
		if shown, err := f.m.MatchedResources(owner, []int64{r.ID}); err != nil || shown[0] == nil || shown[0].Status != catalog.Closed {
			t.Errorf("its owner: %+v, %v", shown, err)
		}
		if res, err = f.m.Sweep(ctx, nil); err != nil || res.Stats.Matched != 0 {
			t.Errorf("after closing: %+v %v", res, err)
		}
		// The operator's histograms are fed through Timings.
		for op, atLeast := range map[string]int{matchsvc.TimingLoad: 1, matchsvc.TimingRematchResource: 3,
			matchsvc.TimingRematchHousehold: 1, matchsvc.TimingSweep: 2} {
			if n := f.timings.count(op); n < atLeast {
				t.Errorf("timings observed %s %d times, want at least %d", op, n, atLeast)
			}
		}
	})
}

func TestConfigRefusesBadWeights(t *testing.T) {
	for _, w := range []float64{-1, math.NaN(), math.Inf(1)} {
		cfg := matchsvc.DefaultConfig()
		cfg.Weights.Severity = w
		if err := cfg.Validate(); err == nil {
			t.Errorf("weight %v accepted", w)
		}
	}
	cfg := matchsvc.DefaultConfig()
	cfg.Colours.Red = cfg.Colours.Orange
	if err := cfg.Validate(); err == nil {
		t.Error("non-increasing colours accepted")
	}
}
