// Package matchsvc is the matching service: it keeps the pure matching
// engine (package matching) fed from the store and answers the matching
// questions of the API: the best resources for a need, the best needs for a resource, why a resource does not match, the
// referral of a match, re-matching when resources or needs change (at
// once in the request that changed them, and through durable jobs),
// suggestions for case managers, and the full sweep.
package matchsvc

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/matching"
)

// Config is the scoring and the watchlist thresholds.
type Config struct {
	Weights matching.Weights
	Colours aidhub.Colours
}

// DefaultConfig is the engine's defaults.
func DefaultConfig() Config {
	return Config{Weights: matching.DefaultWeights(), Colours: aidhub.DefaultColours()}
}

// Validate refuses weights that are negative or not finite and colour
// thresholds that do not increase.
func (c Config) Validate() error {
	if err := c.Weights.Validate(); err != nil {
		return err
	}
	return c.Colours.Validate()
}

// Service is the hub's matcher.
type Service struct {
	db       *db.DB
	catalog  *catalog.Service
	casework *casework.Service
	cfg      Config
	now      func() time.Time
	Broker   *Broker

	// loading serializes loads. It is not held to read the engine, so
	// matching goes on with the old engine while a reload (a minute at
	// Chongqing scale) builds the new one; only the first load is waited for.
	loading sync.Mutex
	mu      sync.Mutex // guards engine; the engine locks itself for matching
	engine  *matching.Engine

	// syncing serializes rereading one resource or household into the
	// engine (requests and jobs; see sync.go) with each other and with a
	// load's swap, so a later reread is never overwritten by an earlier
	// one. Not held while a load reads: a mutation does not wait a minute
	// for a reload. Instead missed, non-nil while a load runs, notes what
	// was synced meanwhile, and the load replays it into what it built.
	syncing sync.Mutex
	missed  *Changes
	// loadRead, when set (tests), runs once a load has read the store.
	loadRead func()

	// published holds the resources the engine matches on, as the catalog
	// had them when the engine last read them: a match list shows them
	// without reading the store (see MatchedResources).
	published sync.Map // resource ID → *catalog.Resource

	idx   sync.RWMutex // guards the need index: read to match, write to change
	index *matching.NeedIndex
	slots *needSlots // need ID → index slot; household → its indexed needs

	timings Timings // nil: none
}

// New returns a matcher; Load fills it.
func New(d *db.DB, cat *catalog.Service, cw *casework.Service, cfg Config, now func() time.Time, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{db: d, catalog: cat, casework: cw, cfg: cfg, now: now, Broker: NewBroker()}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Colours are the watchlist thresholds.
func (s *Service) Colours() aidhub.Colours { return s.cfg.Colours }

// Engine returns the engine, loading it on first use. The load is not
// cut short when the caller gives up: others wait for it too, and on a
// large store it outlasts a request's timeout (serve warms it at start).
func (s *Service) Engine(ctx context.Context) (*matching.Engine, error) {
	if e := s.current(); e != nil {
		return e, nil
	}
	s.loading.Lock()
	defer s.loading.Unlock()
	if e := s.current(); e != nil { // loaded while this call waited
		return e, nil
	}
	if err := s.load(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	return s.current(), nil
}

// current is the engine in use, nil before the first load.
func (s *Service) current() *matching.Engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.engine
}

func (s *Service) loaded() bool { return s.current() != nil }

// Reload rebuilds the engine and the need index from the store (after a
// catalog change, or to recover). Matching uses the old ones meanwhile.
func (s *Service) Reload(ctx context.Context) error {
	s.loading.Lock()
	defer s.loading.Unlock()
	return s.load(ctx)
}

func (s *Service) today() aidhub.Date { return s.casework.Today() }

func (s *Service) load(ctx context.Context) (err error) {
	defer s.timed(TimingLoad, time.Now(), &err)
	s.syncing.Lock()
	s.missed = &Changes{}
	s.syncing.Unlock()
	defer func() { // also when the load fails: the old engine has the syncs
		s.syncing.Lock()
		s.missed = nil
		s.syncing.Unlock()
	}()
	engine, rows, err := s.loadEngine(ctx)
	if err != nil {
		return err
	}
	cat := engine.Catalog()
	index := matching.NewNeedIndex(matching.NewPopulation(cat))
	slots := newNeedSlots()
	err = s.loadAllNeeds(ctx, cat, loadWorkers, needChunk, func(needs []matching.Need) error {
		for i := range needs {
			slot, err := index.Add(&needs[i])
			if err != nil {
				continue // a need the catalog no longer knows: it stays off the index
			}
			slots.add(needs[i].ID, needs[i].HouseholdID, slot)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.loadRead != nil {
		s.loadRead()
	}
	s.syncing.Lock()
	defer s.syncing.Unlock()
	// The published copies first (a match list of the old engine that
	// misses one reads it from the store), then what was synced meanwhile
	// into the new engine and index, so they go live with it.
	s.published.Clear()
	for _, r := range rows {
		s.published.Store(r.ID, r)
	}
	replayErr := s.replayMissed(ctx, engine, index, slots, s.missed)
	// Engine and index change together: a reader holding idx sees a pair
	// over one catalog.
	s.idx.Lock()
	s.index, s.slots = index, slots
	s.mu.Lock()
	s.engine = engine
	s.mu.Unlock()
	s.idx.Unlock()
	if replayErr != nil {
		return fmt.Errorf("matcher: load: replay changes made while loading: %w", replayErr)
	}
	return nil
}

// needs loads the given open needs in the engine's form.
func (s *Service) needs(ctx context.Context, cat *aidhub.Catalog, ids []int64) (map[int64]matching.Need, error) {
	out := map[int64]matching.Need{}
	if len(ids) == 0 {
		return out, nil
	}
	open, err := s.casework.OpenNeedsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, n := range engineNeeds(cat, open) {
		out[n.ID] = n
	}
	return out, nil
}

// describe gives the engine's view of open needs: from the in-memory
// index, which Sync and the re-matching jobs keep in step with the store,
// or from the store for needs it does not hold (yet).
func (s *Service) describe(ctx context.Context, cat *aidhub.Catalog, needs []*casework.Need) (map[int64]matching.Need, error) {
	out := map[int64]matching.Need{}
	var missing []int64
	s.idx.RLock()
	for _, n := range needs {
		if n.Status != casework.NeedOpen {
			continue
		}
		if slot, ok := s.slots.slot(n.ID); ok && s.index.Population().Catalog() == cat {
			out[n.ID] = s.index.Population().Need(slot)
		} else {
			missing = append(missing, n.ID)
		}
	}
	s.idx.RUnlock()
	if len(missing) > 0 {
		more, err := s.needs(ctx, cat, missing)
		if err != nil {
			return nil, err
		}
		for id, n := range more {
			out[id] = n
		}
	}
	return out, nil
}

// NeedMatches are the matches of one need.
type NeedMatches struct {
	NeedID int64
	// Need is the need as read from the store; nil when the answer came
	// from the in-memory index alone (NeedOf reads it then).
	Need    *casework.Need
	Matches []ShownMatch
}

// ShownMatch is a match with its resource as the caller may see it (nil
// when the caller may not, or it is gone), as MatchedResources gives it.
type ShownMatch struct {
	matching.Match
	Resource *catalog.Resource
}

// show pairs the matches of every list with their resources, in one read.
func (s *Service) show(ctx context.Context, lists ...*NeedMatches) error {
	var ids []int64
	for _, l := range lists {
		for _, m := range l.Matches {
			ids = append(ids, m.ResourceID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	resources, err := s.MatchedResources(ctx, ids)
	if err != nil {
		return err
	}
	k := 0
	for _, l := range lists {
		for i := range l.Matches {
			l.Matches[i].Resource = resources[k]
			k++
		}
	}
	return nil
}

func shown(ms []matching.Match) []ShownMatch {
	out := make([]ShownMatch, len(ms))
	for i, m := range ms {
		out[i].Match = m
	}
	return out
}

// MaxMatches bounds first on the matching queries.
const MaxMatches = 100

func checkFirst(first int) error {
	if first < 1 || first > MaxMatches {
		return aidhub.Invalid("first", "must be 1 to %d, got %d", MaxMatches, first)
	}
	return nil
}

// Matches ranks the resources for one need, or for every open need of an
// assessment, with explanations. Case workers of the household's region
// only.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) Matches(ctx context.Context, needID, assessmentID *int64, first int) ([]NeedMatches, error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("matching", auth.Admin, auth.CaseManager); err != nil {
		return nil, err
	}
	if err := checkFirst(first); err != nil {
		return nil, err
	}
	if (needID == nil) == (assessmentID == nil) {
		return nil, aidhub.Invalid("needId", "give a needId or an assessmentId")
	}
	if needID != nil {
		if nm, ok, err := s.matchesIndexed(ctx, pr, *needID, first); ok || err != nil {
			return []NeedMatches{nm}, err
		}
	}
	var needs []*casework.Need
	if needID != nil {
		n, err := s.casework.Need(ctx, *needID)
		if err != nil {
			return nil, err
		}
		needs = append(needs, n)
	} else {
		if _, err := s.casework.Assessment(ctx, *assessmentID); err != nil {
			return nil, err
		}
		all, err := s.casework.Needs(ctx, *assessmentID)
		if err != nil {
			return nil, err
		}
		needs = all
	}
	engine, err := s.Engine(ctx)
	if err != nil {
		return nil, err
	}
	described, err := s.describe(ctx, engine.Catalog(), needs)
	if err != nil {
		return nil, err
	}
	today := aidhub.DayOf(s.today().Time)
	out := make([]NeedMatches, 0, len(needs))
	for _, n := range needs {
		nm := NeedMatches{NeedID: n.ID, Need: n, Matches: []ShownMatch{}}
		if m, ok := described[n.ID]; ok { // only OPEN needs match
			nm.Matches = shown(engine.Match(&m, today, first))
		}
		out = append(out, nm)
	}
	lists := make([]*NeedMatches, len(out))
	for i := range out {
		lists[i] = &out[i]
	}
	return out, s.show(ctx, lists...)
}

// matchesIndexed answers Matches for one need from memory alone when the
// need index holds it (every open need the matcher has loaded): the index
// knows the household's region, which is all the access rule needs. At
// thousands of requests a second the store's two reads (need, household)
// cost more than the matching. ok is false when the index does not hold
// the need (not open, unknown, or not loaded yet); the store answers then.
func (s *Service) matchesIndexed(ctx context.Context, pr auth.Principal, needID int64, first int) (NeedMatches, bool, error) {
	engine := s.current()
	if engine == nil {
		return NeedMatches{}, false, nil
	}
	s.idx.RLock()
	slot, ok := s.slots.slot(needID)
	var n matching.Need
	if ok && s.index.Population().Catalog() == engine.Catalog() {
		n = s.index.Population().Need(slot)
	} else {
		ok = false
	}
	s.idx.RUnlock()
	if !ok {
		return NeedMatches{}, false, nil
	}
	if !pr.WorksIn(n.Region) {
		return NeedMatches{}, true, casework.ErrNeedNotFound
	}
	nm := NeedMatches{NeedID: needID, Matches: shown(engine.Match(&n, aidhub.DayOf(s.today().Time), first))}
	return nm, true, s.show(ctx, &nm)
}

// MatchedResources returns the resources with the given IDs as the engine
// matched on them, in the same order, for showing a match list: the
// store is read only for those the engine does not hold (nil where the
// caller may not see one). Reading the same top resources from the store
// for every match list was most of a `matches` request's cost. The copies
// follow the store as the engine does (Sync and the re-matching jobs);
// they are shared and must not be modified.
func (s *Service) MatchedResources(ctx context.Context, ids []int64) ([]*catalog.Resource, error) {
	out := make([]*catalog.Resource, len(ids))
	var missing []int64
	for i, id := range ids {
		if v, ok := s.published.Load(id); ok {
			if r := v.(*catalog.Resource); catalog.Visible(ctx, r) {
				out[i] = r
			}
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	read, err := s.catalog.ResourcesByID(ctx, missing)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*catalog.Resource, len(read))
	for _, r := range read {
		if r != nil {
			byID[r.ID] = r
		}
	}
	for i, id := range ids {
		if out[i] == nil {
			out[i] = byID[id]
		}
	}
	return out, nil
}

// NeedOf returns the need of nm, reading it when the answer came from
// the index.
func (s *Service) NeedOf(ctx context.Context, nm *NeedMatches) (*casework.Need, error) {
	if nm.Need != nil {
		return nm.Need, nil
	}
	return s.casework.Need(ctx, nm.NeedID)
}

// WhyNot tells whether a resource matches a need and, if not, every
// filter it fails. Case workers of the need's region only.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
func (s *Service) WhyNot(ctx context.Context, needID, resourceID int64) (bool, []matching.Failure, *matching.Match, error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("matching", auth.Admin, auth.CaseManager); err != nil {
		return false, nil, nil, err
	}
	n, err := s.casework.Need(ctx, needID)
	if err != nil {
		return false, nil, nil, err
	}
	r, err := s.catalog.LoadResource(ctx, resourceID)
	if err != nil {
		return false, nil, nil, err
	}
	// A resource once published was public: say it is paused, expired or
	// closed rather than that it does not exist. A draft stays private.
	if r.Status != catalog.Published && !catalog.Visible(ctx, r) && r.PublishedAt == nil {
		return false, nil, nil, aidhub.Errorf(aidhub.ENOTFOUND, "no resource with this ID")
	}
	if r.Status != catalog.Published {
		return false, []matching.Failure{statusFailure(r)}, nil, nil
	}
	engine, err := s.Engine(ctx)
	if err != nil {
		return false, nil, nil, err
	}
	described, err := s.needs(ctx, engine.Catalog(), []int64{n.ID})
	if err != nil {
		return false, nil, nil, err
	}
	m, ok := described[n.ID]
	if !ok {
		return false, []matching.Failure{{Filter: matching.FilterNeed, Reason: fmt.Sprintf("the need is %s, not OPEN", n.Status),
			ReasonZh: fmt.Sprintf("该需求状态为 %s，不是待帮扶（OPEN）", n.Status)}}, nil, nil
	}
	today := aidhub.DayOf(s.today().Time)
	matched, failures := engine.WhyNot(&m, resourceID, today)
	if !matched {
		return false, failures, nil, nil
	}
	for _, match := range engine.Match(&m, today, MaxMatches) {
		if match.ResourceID == resourceID {
			return true, nil, &match, nil
		}
	}
	return true, nil, nil, nil
}

// statusFailure says why a resource that is not published matches nothing.
func statusFailure(r *catalog.Resource) matching.Failure {
	f := matching.Failure{Filter: matching.FilterStatus}
	switch r.Status {
	case catalog.Paused:
		f.Reason, f.ReasonZh = "the resource is paused by its organization", "暂停中：该资源已被发布机构暂停"
	case catalog.Expired:
		f.Reason, f.ReasonZh = "the resource has expired", "已过期"
		if r.ValidUntil != nil {
			until := aidhub.DayOf(r.ValidUntil.Time)
			f.Until = &until
			f.Reason += " (valid until " + until.String() + ")"
			f.ReasonZh += " " + until.String()
		}
	case catalog.Closed:
		f.Reason, f.ReasonZh = "the resource is closed for good", "已关闭"
	case catalog.Draft:
		f.Reason, f.ReasonZh = "the resource is a draft, not yet published", "草稿，尚未发布"
	default:
		f.Reason, f.ReasonZh = "the resource is "+string(r.Status), "资源状态为 "+string(r.Status)
	}
	return f
}

// ResourceMatch is an open need a resource matches, for its charity.
type ResourceMatch struct {
	Need  *casework.Need
	Match matching.NeedMatch
	// Region (the street, 9 digits) and AgeBand ("40–49") describe the
	// person coarsely enough not to single them out in a small village.
	Region  string
	AgeBand string
}

// ageBand is a ten-year band, "80+" from 80 on.
func ageBand(age int) string {
	if age >= 80 {
		return "80+"
	}
	lo := age / 10 * 10
	return fmt.Sprintf("%d–%d", lo, lo+9)
}

// street is a village code cut to its street.
func street(region string) string {
	if len(region) > 9 {
		return region[:9]
	}
	return region
}

// MatchesForResource ranks the open needs a resource matches, for the
// charity that owns it (or an administrator): only households that
// consent to sharing with charities, and only what the charity needs to
// judge demand — never names or IDs.
//
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) MatchesForResource(ctx context.Context, resourceID int64, first int) ([]ResourceMatch, error) {
	pr := auth.FromContext(ctx)
	if err := pr.Require("matching a resource", auth.Admin, auth.Charity); err != nil {
		return nil, err
	}
	if err := checkFirst(first); err != nil {
		return nil, err
	}
	r, err := s.catalog.Resource(ctx, resourceID)
	if err != nil {
		return nil, err
	}
	if !pr.Is(auth.Admin) && !pr.OwnsOrganization(r.OrganizationID) {
		return nil, aidhub.Errorf(aidhub.EFORBIDDEN, "only the charity that owns the resource sees its matches")
	}
	engine, err := s.Engine(ctx)
	if err != nil {
		return nil, err
	}
	today := aidhub.DayOf(s.today().Time)
	// Households without consent drop out after ranking: ask for more.
	s.idx.RLock()
	candidates := engine.MatchResource(resourceID, s.index, today, 4*first)
	described := make([]matching.Need, len(candidates))
	for i, c := range candidates {
		described[i] = s.index.Population().Need(c.Index)
	}
	s.idx.RUnlock()
	households := make([]int64, 0, len(described))
	for _, n := range described {
		households = append(households, n.HouseholdID)
	}
	// One read for every candidate household, not one per household.
	consent, err := s.casework.SharingConsents(ctx, slices.Compact(slices.Sorted(slices.Values(households))))
	if err != nil {
		return nil, err
	}
	var out []ResourceMatch
	for i, c := range candidates {
		n := described[i]
		if !consent[n.HouseholdID] {
			continue
		}
		out = append(out, ResourceMatch{
			Need:    &casework.Need{ID: n.ID, HouseholdID: n.HouseholdID, CategoryCode: n.Category, ItemCode: strPtr(n.Item), Severity: n.Severity, OpenedOn: aidhub.DateOf(n.OpenedOn.Time()), Status: casework.NeedOpen},
			Match:   c,
			Region:  street(n.Region),
			AgeBand: ageBand(n.Age),
		})
		if len(out) == first {
			break
		}
	}
	return out, nil
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ReferMatch refers a need to a resource it matches, through the
// casework rules (consent, duplicate aid, capacity).
//
// Errors: those of WhyNot, CONFLICT when the resource does not match (the
// message lists why), and those of casework.CreateReferral.
func (s *Service) ReferMatch(ctx context.Context, in casework.ReferralInput) (*casework.Referral, error) {
	if in.NeedID == nil {
		return nil, aidhub.Invalid("needId", "is required")
	}
	matched, failures, _, err := s.WhyNot(ctx, *in.NeedID, in.ResourceID)
	if err != nil {
		return nil, err
	}
	if !matched {
		// The duplicate rule is casework's: a case manager may override it
		// there with a reason. Every other failure stops the referral.
		var reasons, reasonsZh, filters []string
		for _, f := range failures {
			if f.Filter == matching.FilterDuplicate && in.OverrideReason != "" {
				continue
			}
			reasons = append(reasons, f.Filter+": "+f.Reason)
			reasonsZh = append(reasonsZh, f.ReasonZh)
			filters = append(filters, strings.ToUpper(f.Filter))
		}
		if len(reasons) > 0 {
			sort.Strings(reasons)
			e := aidhub.Errorf(aidhub.ECONFLICT, "the resource does not match this need: %s", strings.Join(reasons, "; "))
			e.MessageZh = "该资源与此需求不匹配：" + strings.Join(reasonsZh, "；")
			e.Details = map[string]any{"failures": filters}
			return nil, e
		}
	}
	return s.casework.CreateReferral(ctx, in)
}

// BestMatches returns the best match now of each of the given open needs
// (absent when none). The caller has checked who may see the needs.
func (s *Service) BestMatches(ctx context.Context, needIDs []int64) (map[int64]*ShownMatch, error) {
	engine, err := s.Engine(ctx)
	if err != nil {
		return nil, err
	}
	described, err := s.needs(ctx, engine.Catalog(), needIDs)
	if err != nil {
		return nil, err
	}
	today := aidhub.DayOf(s.today().Time)
	out := map[int64]*ShownMatch{}
	var lists []*NeedMatches
	for id, n := range described {
		if m := engine.Match(&n, today, 1); len(m) == 1 {
			l := &NeedMatches{NeedID: id, Matches: shown(m)}
			lists = append(lists, l)
			out[id] = &l.Matches[0]
		}
	}
	return out, s.show(ctx, lists...)
}
