package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/search/searchtest"
	"github.com/aidhub/aidhub/server"
)

// searchQuery asks for everything a search returns about its hits.
const searchQuery = `query($query: String, $filter: SearchFilter, $near: NearInput, $sort: SearchSort, $facets: [String!], $first: Int, $after: String) {
	searchResources(query: $query, filter: $filter, near: $near, sort: $sort, facets: $facets, first: $first, after: $after) {
		totalCount
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		edges { cursor highlight distanceMeters node { id title status } }
		facets { field values { value label count } }
	}
}`

type searchPage struct {
	TotalCount int `json:"totalCount"`
	PageInfo   struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
	} `json:"pageInfo"`
	Edges []struct {
		Cursor         string   `json:"cursor"`
		Highlight      string   `json:"highlight"`
		DistanceMeters *float64 `json:"distanceMeters"`
		Node           struct {
			ID     string `json:"id"`
			Title  string `json:"title"`
			Status string `json:"status"`
		} `json:"node"`
	} `json:"edges"`
	Facets []struct {
		Field  string `json:"field"`
		Values []struct {
			Value string `json:"value"`
			Label string `json:"label"`
			Count int    `json:"count"`
		} `json:"values"`
	} `json:"facets"`
}

// searchFixture is a small catalog of resources over real Chongqing codes,
// created through the service so the outbox fills the index. Every
// expectation below is written out by hand from it. The resources that are
// not published carry the words the searches use (助学金, 医疗救助, DRAFT)
// and a group no published one has (VAGRANT), so a leak shows in hits and
// in facet counts alike.
type searchFixture struct {
	h     *hub
	orgC  *catalog.Organization
	ids   map[string]string // name → Resource global ID
	names map[string]string // Resource global ID → name
	rows  map[string]*catalog.Resource
}

var publishedNames = []string{"grant", "medical", "critical", "meal", "supplies", "psych", "legal"}

func newSearchFixture(t *testing.T, h *hub) *searchFixture {
	t.Helper()
	ctx := auth.WithPrincipal(context.Background(), auth.System)
	orgC, err := h.svc.CreateOrganization(ctx, catalog.NewOrganization{Name: "万州区三峡善源公益基金会", Kind: catalog.KindCharity, DivisionCode: "500101"})
	if err != nil {
		t.Fatal(err)
	}
	f := &searchFixture{h: h, orgC: orgC, ids: map[string]string{}, names: map[string]string{}, rows: map[string]*catalog.Resource{}}
	type spec struct {
		name, title, desc    string
		org                  *catalog.Organization
		items, groups, cover []string
		division             string
		lat, lng             float64
		status               catalog.Status
	}
	// Published ones first, so their IDs are 1–7 on a fresh database and
	// an unsorted search (by ID) lists them in this order.
	for _, s := range []spec{
		{"grant", "困难家庭学生助学金", "资助低保、特困家庭在读学生完成学业。", h.orgA, []string{"SCHOOL_GRANT"}, []string{"DIBAO", "TEKUN"}, []string{"500103"}, "500103003", 29.5570, 106.5770, catalog.Published},
		{"medical", "医疗救助住院费用补贴", "住院自付部分按比例补贴。", orgC, []string{"INPATIENT_AID"}, []string{"TEKUN"}, []string{"500101001"}, "500101001", 30.8110, 108.4010, catalog.Published},
		{"critical", "大病医疗救助补充金", "为重特大疾病患者补充报销自付费用。", h.orgB, []string{"CRITICAL_ILLNESS_AID"}, []string{"DIBAO", "SERIOUS_ILLNESS"}, []string{"50"}, "500106", 29.5410, 106.4570, catalog.Published},
		{"meal", "社区长者助餐服务", "为独居老人提供午餐。", h.orgA, []string{"MEAL_ASSISTANCE"}, []string{"TEKUN", "LEFT_BEHIND_ELDERLY"}, []string{"500103001"}, "500103001", 29.5590, 106.5640, catalog.Published},
		{"supplies", "学习用品发放", "开学季助学帮扶，发放书包文具。", h.orgB, []string{"SCHOOL_SUPPLIES"}, []string{"DIBAO", "ORPHAN"}, []string{"500106", "500103"}, "500106", 29.5500, 106.4600, catalog.Published},
		{"psych", "心理疏导志愿服务", "志愿者上门心理陪伴。", h.orgB, []string{"PSYCH_COUNSELING"}, []string{"UNATTENDED_CHILD"}, []string{"500106"}, "", 0, 0, catalog.Published},
		{"legal", "法律援助 <免费> & 代写文书", "免费法律咨询与代写文书。", orgC, []string{"LEGAL_CONSULTATION"}, []string{"DIBAO"}, []string{"500101"}, "500101", 30.8080, 108.4080, catalog.Published},
		{"draft", "助学金 DRAFT 医疗救助 x", "草稿：x OR status = DRAFT", h.orgA, []string{"SCHOOL_GRANT", "INPATIENT_AID"}, []string{"VAGRANT"}, []string{"50"}, "500103003", 29.5571, 106.5771, catalog.Draft},
		{"paused", "暂停的助学金 医疗救助", "暂停", h.orgA, []string{"SCHOOL_GRANT", "INPATIENT_AID"}, []string{"VAGRANT"}, []string{"50"}, "500103003", 29.5572, 106.5772, catalog.Paused},
		{"closed", "已关闭的助学金 医疗救助", "关闭", h.orgA, []string{"SCHOOL_GRANT", "INPATIENT_AID"}, []string{"VAGRANT"}, []string{"50"}, "500103003", 29.5573, 106.5773, catalog.Closed},
	} {
		items, groups, cover := s.items, s.groups, s.cover
		contact, phone := "王小明", "023-63000000"
		p := catalog.ResourcePatch{Title: &s.title, Description: &s.desc, ItemCodes: &items, GroupCodes: &groups, Coverage: &cover,
			CapacityUnits: aidhub.Some(int64(50)), ContactName: &contact, ContactPhone: &phone}
		if s.division != "" {
			p.DivisionCode = aidhub.Some(s.division)
			p.Address = &s.title
		}
		if s.lat != 0 {
			p.Lat, p.Lng = aidhub.Some(s.lat), aidhub.Some(s.lng)
		}
		r, err := h.svc.CreateResource(ctx, s.org.ID, p)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		switch s.status {
		case catalog.Published:
			r, err = h.svc.PublishResource(ctx, r.ID, nil)
		case catalog.Paused:
			if _, err = h.svc.PublishResource(ctx, r.ID, nil); err == nil {
				r, err = h.svc.PauseResource(ctx, r.ID, nil)
			}
		case catalog.Closed:
			if _, err = h.svc.PublishResource(ctx, r.ID, nil); err == nil {
				r, err = h.svc.CloseResource(ctx, r.ID, nil)
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		id := resourceID(r.ID)
		f.ids[s.name], f.names[id], f.rows[s.name] = id, s.name, r
	}
	return f
}

// converged waits until the index holds exactly the searchable resources
// of the database at their current versions, as hub/hub_test.go does.
func (f *searchFixture) converged(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rs, err := f.h.svc.ScanResources(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]int64{}
		for _, r := range rs {
			if search.Searchable(r) {
				want[r.ID] = r.Version
			}
		}
		raw, err := f.h.app.Index.Raw(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]int64{}
		for _, doc := range raw {
			got[int64(doc["id"].(float64))] = int64(doc["version"].(float64))
		}
		if maps.Equal(want, got) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index did not converge:\n database %v\n index    %v", want, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// search runs searchResources as caller with the given arguments and
// fails on any error.
func (f *searchFixture) search(t *testing.T, caller string, args map[string]any) *searchPage {
	t.Helper()
	resp := f.h.do(caller, searchQuery, args)
	if len(resp.Errors) > 0 || resp.Status != 200 {
		t.Fatalf("search %v as %s: %s", args, caller, resp.Raw)
	}
	var out struct {
		Data struct {
			SearchResources *searchPage `json:"searchResources"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(resp.Raw), &out); err != nil || out.Data.SearchResources == nil {
		t.Fatalf("search %v: %v: %s", args, err, resp.Raw)
	}
	page := out.Data.SearchResources
	// Whatever the search, only published resources come back.
	for _, e := range page.Edges {
		if name := f.names[e.Node.ID]; !slices.Contains(publishedNames, name) || e.Node.Status != "PUBLISHED" {
			t.Errorf("search %v as %s returned %s %q (%s)", args, caller, name, e.Node.Title, e.Node.Status)
		}
	}
	return page
}

// hits names the hits of a page in order.
func (f *searchFixture) hits(p *searchPage) []string {
	out := []string{}
	for _, e := range p.Edges {
		name, ok := f.names[e.Node.ID]
		if !ok {
			name = e.Node.ID
		}
		out = append(out, name)
	}
	return out
}

// set names the hits of a page in publishing order (their ID order).
func (f *searchFixture) set(p *searchPage) []string {
	got := f.hits(p)
	slices.SortFunc(got, func(a, b string) int {
		return slices.Index(publishedNames, a) - slices.Index(publishedNames, b)
	})
	return got
}

// idsOf gives the global IDs of named resources.
func (f *searchFixture) idsOf(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = f.ids[n]
	}
	return out
}

// facetString writes a page's facets as "field: value=label:count …", values sorted.
func facetString(p *searchPage) string {
	var fields []string
	for _, fc := range p.Facets {
		var vs []string
		for _, v := range fc.Values {
			vs = append(vs, fmt.Sprintf("%s=%s:%d", v.Value, v.Label, v.Count))
		}
		sort.Strings(vs)
		fields = append(fields, fc.Field+": "+strings.Join(vs, " "))
	}
	return strings.Join(fields, "\n")
}

// TestSearchResources searches through the real HTTP handler on both
// backends, with the index filled by the outbox jobs, and checks that both
// return the same sets for the same filters and facets.
func TestSearchResources(t *testing.T) {
	// results[backend][case] is what a case returned, for the comparison
	// at the end; distances[backend][case] the distances it reported.
	results := map[string]map[string]string{}
	distances := map[string]map[string][]float64{}
	for _, backend := range []string{"bleve", "meilisearch"} {
		t.Run(backend, func(t *testing.T) {
			began := time.Now()
			var idx search.Index
			if backend == "bleve" {
				idx = searchtest.Bleve(t)
			} else {
				idx = searchtest.Meili(t) // fails in CI when Meilisearch is missing
			}
			h := newHubWithIndex(t, dbtest.SQLite(t), server.Config{}, idx)
			f := newSearchFixture(t, h)
			f.converged(t)
			convergedAfter := time.Since(began)
			got, dist := map[string]string{}, map[string][]float64{}
			record := func(name string, v any) { got[name] = fmt.Sprint(v) }
			t.Cleanup(func() {
				results[backend], distances[backend] = got, dist
				t.Logf("%s: %s (the outbox filled the index in %s)", backend,
					time.Since(began).Round(time.Millisecond), convergedAfter.Round(time.Millisecond))
				if logs := h.logs.String(); strings.Contains(logs, "internal error") || strings.Contains(logs, "resolver panic") {
					t.Errorf("the handler logged an internal error:\n%s", logs)
				}
			})

			t.Run("anonymous Chinese text search with highlight", func(t *testing.T) {
				for _, tc := range []struct {
					text      string
					want, not []string
				}{
					{"助学", []string{"grant", "supplies"}, []string{"medical", "critical", "meal", "legal"}},
					{"助学金", []string{"grant"}, []string{"medical", "critical", "meal", "legal"}},
					{"医疗", []string{"medical", "critical"}, []string{"grant", "meal", "supplies", "legal"}},
					{"医疗救助", []string{"medical", "critical"}, []string{"grant", "meal", "supplies"}},
					{"助餐", []string{"meal"}, []string{"grant", "medical"}},
					{"量子计算机", nil, publishedNames},
				} {
					p := f.search(t, "anonymous", map[string]any{"query": tc.text})
					hits := f.hits(p)
					for _, n := range tc.want {
						if !slices.Contains(hits, n) {
							t.Errorf("%q: %v lacks %s", tc.text, hits, n)
						}
					}
					for _, n := range tc.not {
						if slices.Contains(hits, n) {
							t.Errorf("%q: %v has %s", tc.text, hits, n)
						}
					}
					if p.TotalCount != len(p.Edges) {
						t.Errorf("%q: totalCount %d for %d hits", tc.text, p.TotalCount, len(p.Edges))
					}
					for _, e := range p.Edges {
						// The highlight is the whole title, escaped, with
						// the matched text in <em>.
						plain := strings.NewReplacer("<em>", "", "</em>", "").Replace(e.Highlight)
						if plain != html.EscapeString(e.Node.Title) {
							t.Errorf("%q: highlight %q is not the title %q", tc.text, e.Highlight, e.Node.Title)
						}
						if n := f.names[e.Node.ID]; slices.Contains(tc.want, n) && strings.Contains(e.Node.Title, tc.text) &&
							!strings.Contains(e.Highlight, "<em>") {
							t.Errorf("%q: %s has no <em> in %q", tc.text, n, e.Highlight)
						}
					}
				}
				// The title's own markup is escaped, never passed through.
				p := f.search(t, "anonymous", map[string]any{"query": "法律"})
				if hits := f.hits(p); !slices.Equal(hits, []string{"legal"}) {
					t.Fatalf("法律: %v", hits)
				}
				if hl := p.Edges[0].Highlight; strings.Contains(hl, "<免费>") || !strings.Contains(hl, "&lt;免费&gt; &amp;") || !strings.Contains(hl, "<em>") {
					t.Errorf("highlight not escaped: %q", hl)
				}
			})

			t.Run("only published resources, for every caller", func(t *testing.T) {
				for _, caller := range []string{"anonymous", "charityA", "charityB", "admin", "caseManager", "donor"} {
					for _, text := range []string{"", "助学金", "医疗救助", "DRAFT", "暂停", "关闭"} {
						// f.search fails on anything not published.
						p := f.search(t, caller, map[string]any{"query": text, "first": 100})
						if text == "" && p.TotalCount != len(publishedNames) {
							t.Errorf("%s: totalCount %d, want %d", caller, p.TotalCount, len(publishedNames))
						}
					}
					p := f.search(t, caller, map[string]any{"facets": []string{"group"}, "filter": map[string]any{"groupCodes": []string{"VAGRANT"}}})
					if p.TotalCount != 0 || len(p.Facets[0].Values) != 0 {
						t.Errorf("%s: unpublished resources counted: %s", caller, facetString(p))
					}
				}
			})

			t.Run("filters", func(t *testing.T) {
				for _, tc := range []struct {
					name   string
					filter map[string]any
					query  string
					want   []string
				}{
					{"no filter", nil, "", publishedNames},
					{"category with its sub-categories", map[string]any{"categoryCodes": []string{"EDUCATION"}}, "", []string{"grant", "supplies"}},
					{"sub-category", map[string]any{"categoryCodes": []string{"MEDICAL_INPATIENT"}}, "", []string{"medical", "critical"}},
					{"categories are alternatives", map[string]any{"categoryCodes": []string{"LEGAL", "PSYCHOLOGICAL"}}, "", []string{"psych", "legal"}},
					{"item", map[string]any{"itemCodes": []string{"MEAL_ASSISTANCE"}}, "", []string{"meal"}},
					{"items are alternatives", map[string]any{"itemCodes": []string{"SCHOOL_GRANT", "LEGAL_CONSULTATION"}}, "", []string{"grant", "legal"}},
					{"group", map[string]any{"groupCodes": []string{"TEKUN"}}, "", []string{"grant", "medical", "meal"}},
					{"organization", map[string]any{"organizationIds": []string{orgID(h.orgB.ID)}}, "", []string{"critical", "supplies", "psych"}},
					{"organizations are alternatives", map[string]any{"organizationIds": []string{orgID(h.orgA.ID), orgID(f.orgC.ID)}}, "", []string{"grant", "medical", "meal", "legal"}},
					{"organization with nothing published", map[string]any{"organizationIds": []string{orgID(9999)}}, "", []string{}},
					{"covers a community in 渝中区", map[string]any{"coversRegion": "500103001003"}, "", []string{"grant", "critical", "meal", "supplies"}},
					{"covers a community in 万州区", map[string]any{"coversRegion": "500101001001"}, "", []string{"medical", "critical", "legal"}},
					{"covers a district", map[string]any{"coversRegion": "500106"}, "", []string{"critical", "supplies", "psych"}},
					{"located in 渝中区", map[string]any{"locatedIn": "500103"}, "", []string{"grant", "meal"}},
					{"located in a street", map[string]any{"locatedIn": "500101001"}, "", []string{"medical"}},
					{"all together", map[string]any{"groupCodes": []string{"TEKUN"}, "coversRegion": "500103001003", "categoryCodes": []string{"EDUCATION"}}, "", []string{"grant"}},
					{"filter and text", map[string]any{"locatedIn": "500101"}, "医疗", []string{"medical"}},
					{"nothing matches", map[string]any{"groupCodes": []string{"VAGRANT"}}, "", []string{}},
				} {
					args := map[string]any{"first": 100}
					if tc.filter != nil {
						args["filter"] = tc.filter
					}
					if tc.query != "" {
						args["query"] = tc.query
					}
					p := f.search(t, "anonymous", args)
					set := f.set(p)
					if !slices.Equal(set, tc.want) || p.TotalCount != len(tc.want) {
						t.Errorf("%s: got %v (totalCount %d), want %v", tc.name, set, p.TotalCount, tc.want)
					}
					record("filter: "+tc.name, fmt.Sprint(set, f.idsOf(set), p.TotalCount))
				}
			})

			t.Run("facets with labels and counts", func(t *testing.T) {
				p := f.search(t, "anonymous", map[string]any{"facets": []string{"category", "group", "district", "organization"}})
				want := strings.Join([]string{
					"category: BASIC_LIVING=基本生活:1 EDUCATION=教育:2 EDUCATION_GRANTS=助学资助:1 LEGAL=法律援助:1 MEDICAL=医疗:2 MEDICAL_INPATIENT=住院救助:2 PSYCHOLOGICAL=心理疏导:1",
					"group: DIBAO=低保对象:4 LEFT_BEHIND_ELDERLY=农村留守老年人:1 ORPHAN=孤儿:1 SERIOUS_ILLNESS=因病致贫重病患者:1 TEKUN=特困供养人员:3 UNATTENDED_CHILD=事实无人抚养儿童:1",
					"district: 500101=万州区:2 500103=渝中区:2 500106=沙坪坝区:2",
					"organization: " + strings.Join(sortedStrings(
						orgID(h.orgA.ID)+"="+h.orgA.Name+":2",
						orgID(h.orgB.ID)+"="+h.orgB.Name+":3",
						orgID(f.orgC.ID)+"="+f.orgC.Name+":2"), " "),
				}, "\n")
				if got := facetString(p); got != want {
					t.Errorf("facets:\n%s\nwant\n%s", got, want)
				}
				// Values come by count, then value.
				for _, fc := range p.Facets {
					for i := 1; i < len(fc.Values); i++ {
						a, b := fc.Values[i-1], fc.Values[i]
						if a.Count < b.Count || a.Count == b.Count && a.Value > b.Value {
							t.Errorf("facet %s out of order: %+v", fc.Field, fc.Values)
						}
					}
				}
				record("facets: all", facetString(p))

				// Facets follow the filters and the text.
				for _, tc := range []struct {
					name string
					args map[string]any
					want string
				}{
					{"group within MEDICAL", map[string]any{"facets": []string{"group"}, "filter": map[string]any{"categoryCodes": []string{"MEDICAL"}}},
						"group: DIBAO=低保对象:1 SERIOUS_ILLNESS=因病致贫重病患者:1 TEKUN=特困供养人员:1"},
					{"district covering a 渝中区 community", map[string]any{"facets": []string{"district", "category"}, "filter": map[string]any{"coversRegion": "500103001003"}},
						"district: 500103=渝中区:2 500106=沙坪坝区:2\ncategory: BASIC_LIVING=基本生活:1 EDUCATION=教育:2 EDUCATION_GRANTS=助学资助:1 MEDICAL=医疗:1 MEDICAL_INPATIENT=住院救助:1"},
					{"organization for 医疗", map[string]any{"facets": []string{"organization"}, "query": "医疗"},
						"organization: " + strings.Join(sortedStrings(orgID(h.orgB.ID)+"="+h.orgB.Name+":1", orgID(f.orgC.ID)+"="+f.orgC.Name+":1"), " ")},
					{"none asked", map[string]any{}, ""},
				} {
					p := f.search(t, "anonymous", tc.args)
					if got := facetString(p); got != tc.want {
						t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
					}
					record("facets: "+tc.name, facetString(p))
				}
			})

			t.Run("near and distance sort", func(t *testing.T) {
				jiefangbei := func(radius float64) map[string]any {
					return map[string]any{"lat": 29.5575, "lng": 106.5765, "radiusMeters": radius}
				}
				for _, tc := range []struct {
					name string
					args map[string]any
					want []string
				}{
					{"5 km of 解放碑, nearest first", map[string]any{"near": jiefangbei(5000), "sort": "DISTANCE"}, []string{"grant", "meal"}},
					{"20 km of 解放碑, nearest first", map[string]any{"near": jiefangbei(20000), "sort": "DISTANCE"}, []string{"grant", "meal", "supplies", "critical"}},
					{"20 km of 解放碑 with a filter", map[string]any{"near": jiefangbei(20000), "sort": "DISTANCE", "filter": map[string]any{"groupCodes": []string{"DIBAO"}}}, []string{"grant", "supplies", "critical"}},
					{"20 km of 解放碑 by relevance (ID)", map[string]any{"near": jiefangbei(20000)}, []string{"grant", "critical", "meal", "supplies"}},
					{"500 km covers 万州区", map[string]any{"near": jiefangbei(500000), "sort": "DISTANCE"}, []string{"grant", "meal", "supplies", "critical", "medical", "legal"}},
					{"middle of nowhere", map[string]any{"near": map[string]any{"lat": -45.0, "lng": -170.0, "radiusMeters": 1000.0}, "sort": "DISTANCE"}, []string{}},
					// With text, relevance ranks first: the title match 11 km
					// away before the description match next door.
					{"助学 near 沙坪坝, relevance first", map[string]any{"query": "助学", "near": map[string]any{"lat": 29.5500, "lng": 106.4600, "radiusMeters": 20000.0}, "sort": "DISTANCE"}, []string{"grant", "supplies"}},
				} {
					p := f.search(t, "anonymous", tc.args)
					if got := f.hits(p); !slices.Equal(got, tc.want) || p.TotalCount != len(tc.want) {
						t.Errorf("%s: %v (totalCount %d), want %v", tc.name, got, p.TotalCount, tc.want)
					}
					var ds []float64
					for i, e := range p.Edges {
						if e.DistanceMeters == nil {
							t.Errorf("%s: %s has no distanceMeters", tc.name, f.names[e.Node.ID])
							continue
						}
						ds = append(ds, *e.DistanceMeters)
						if r := tc.args["near"].(map[string]any)["radiusMeters"].(float64); *e.DistanceMeters > r {
							t.Errorf("%s: %s at %.0f m is outside %.0f m", tc.name, f.names[e.Node.ID], *e.DistanceMeters, r)
						}
						if tc.args["sort"] == "DISTANCE" && tc.args["query"] == nil && i > 0 && *e.DistanceMeters < ds[i-1] {
							t.Errorf("%s: distances not ascending: %v", tc.name, ds)
						}
					}
					record("near: "+tc.name, fmt.Sprint(f.hits(p), f.idsOf(f.hits(p))))
					dist[tc.name] = ds
				}
				p := f.search(t, "anonymous", map[string]any{"near": jiefangbei(5000), "sort": "DISTANCE"})
				if d := *p.Edges[0].DistanceMeters; math.Abs(d-74) > 10 { // 解放碑 to the resource: about 74 m
					t.Errorf("distance %.1f m, want about 74", d)
				}
				// Without near, no distances.
				p = f.search(t, "anonymous", map[string]any{"query": "助学金"})
				for _, e := range p.Edges {
					if e.DistanceMeters != nil {
						t.Errorf("distanceMeters %v without near", *e.DistanceMeters)
					}
				}
			})

			t.Run("pagination", func(t *testing.T) {
				for _, tc := range []struct {
					name  string
					args  map[string]any
					sizes []int // page sizes in turn; the last repeats
					want  []string
				}{
					{"pages of 3", map[string]any{}, []int{3}, publishedNames},
					{"pages of 2 then 3", map[string]any{}, []int{2, 3}, publishedNames},
					{"pages of 1 by distance", map[string]any{"near": map[string]any{"lat": 29.5575, "lng": 106.5765, "radiusMeters": 20000.0}, "sort": "DISTANCE"}, []int{1}, []string{"grant", "meal", "supplies", "critical"}},
					{"pages of 2 with a filter", map[string]any{"filter": map[string]any{"groupCodes": []string{"DIBAO"}}}, []int{2}, []string{"grant", "critical", "supplies", "legal"}},
				} {
					var all []string
					var cursors []string
					var after any
					for page := 0; ; page++ {
						args := maps.Clone(tc.args)
						args["first"] = tc.sizes[min(page, len(tc.sizes)-1)]
						if after != nil {
							args["after"] = after
						}
						p := f.search(t, "anonymous", args)
						all = append(all, f.hits(p)...)
						if p.TotalCount != len(tc.want) {
							t.Errorf("%s: page %d: totalCount %d, want %d", tc.name, page, p.TotalCount, len(tc.want))
						}
						if p.PageInfo.HasPreviousPage != (page > 0) {
							t.Errorf("%s: page %d: hasPreviousPage %v", tc.name, page, p.PageInfo.HasPreviousPage)
						}
						if len(p.Edges) > 0 && (p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor ||
							p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor) {
							t.Errorf("%s: page %d: pageInfo cursors do not match the edges", tc.name, page)
						}
						for _, e := range p.Edges {
							cursors = append(cursors, e.Cursor)
						}
						if !p.PageInfo.HasNextPage {
							break
						}
						if page > 10 || p.PageInfo.EndCursor == nil {
							t.Fatalf("%s: no end after %d pages: %v", tc.name, page, all)
						}
						after = *p.PageInfo.EndCursor
					}
					if !slices.Equal(all, tc.want) {
						t.Errorf("%s: pages give %v, want %v", tc.name, all, tc.want)
					}
					if c := slices.Compact(slices.Sorted(slices.Values(cursors))); len(c) != len(cursors) {
						t.Errorf("%s: cursors repeat: %v", tc.name, cursors)
					}
					record("page: "+tc.name, fmt.Sprint(all, f.idsOf(all)))
				}
			})

			t.Run("bad input", func(t *testing.T) {
				near := func(lat, lng, r float64) map[string]any {
					return map[string]any{"near": map[string]any{"lat": lat, "lng": lng, "radiusMeters": r}}
				}
				filter := func(k string, v any) map[string]any { return map[string]any{"filter": map[string]any{k: v}} }
				for _, tc := range []struct {
					name string
					args map[string]any
				}{
					{"query over 100 characters", map[string]any{"query": strings.Repeat("助", search.MaxTextRunes+1)}},
					{"radius 0", near(29.5, 106.5, 0)},
					{"radius negative", near(29.5, 106.5, -100)},
					{"radius absurd", near(29.5, 106.5, search.MaxRadius+1)},
					{"radius astronomical", near(29.5, 106.5, 1e12)},
					{"latitude 91", near(91, 106.5, 1000)},
					{"latitude -91", near(-91, 106.5, 1000)},
					{"longitude 181", near(29.5, 181, 1000)},
					{"longitude -181", near(29.5, -181, 1000)},
					{"unknown facet field", map[string]any{"facets": []string{"status"}}},
					{"facet field in the wrong case", map[string]any{"facets": []string{"Category"}}},
					{"unknown category", filter("categoryCodes", []string{"SPACE_TRAVEL"})},
					{"unknown item", filter("itemCodes", []string{"FREE_MONEY"})},
					{"unknown group", filter("groupCodes", []string{"RICH"})},
					{"one unknown among known groups", filter("groupCodes", []string{"DIBAO", "RICH"})},
					{"malformed organization ID", filter("organizationIds", []string{"not an id"})},
					{"resource ID as organization ID", filter("organizationIds", []string{f.ids["grant"]})},
					{"unknown coverage division", filter("coversRegion", "500199")},
					{"malformed location division", filter("locatedIn", "50A")},
					{"first over the page limit", map[string]any{"first": search.MaxLimit + 1}},
					{"first negative", map[string]any{"first": -1}},
					{"first zero", map[string]any{"first": 0}},
					{"malformed after cursor", map[string]any{"after": "not a cursor"}},
					{"cursor of another list", map[string]any{"after": globalID("cursor", 3)}},
					{"cursor beyond the last page", map[string]any{"after": globalID("search", search.MaxOffset+1)}},
					{"DISTANCE sort without near", map[string]any{"sort": "DISTANCE"}},
				} {
					resp := h.do("anonymous", searchQuery, tc.args)
					if resp.code() != "BAD_USER_INPUT" || len(resp.Errors) != 1 {
						t.Errorf("%s: want one BAD_USER_INPUT, got %s", tc.name, resp.Raw)
						continue
					}
					if resp.Errors[0].Message == "" {
						t.Errorf("%s: no message", tc.name)
					}
					if get(resp.Data, "searchResources") != nil {
						t.Errorf("%s: data returned with the error: %s", tc.name, resp.Raw)
					}
				}
			})

			t.Run("injection finds nothing it should not", func(t *testing.T) {
				injections := []string{`x" OR status = "DRAFT`, `') OR 1=1 --`, `DIBAO" OR groups = "VAGRANT`, `* OR id > 0`, `_geoRadius(0, 0, 1e9)`}
				for _, inj := range injections {
					for _, caller := range []string{"anonymous", "charityA", "admin"} {
						p := f.search(t, caller, map[string]any{"query": inj, "first": 100}) // fails on any unpublished hit
						if inj == injections[0] && len(p.Edges) != 0 {
							t.Errorf("query %q as %s found %v", inj, caller, f.hits(p))
						}
					}
					for _, args := range []map[string]any{
						{"filter": map[string]any{"categoryCodes": []string{inj}}},
						{"filter": map[string]any{"itemCodes": []string{inj}}},
						{"filter": map[string]any{"groupCodes": []string{"DIBAO", inj}}},
						{"filter": map[string]any{"organizationIds": []string{inj}}},
						{"filter": map[string]any{"organizationIds": []string{base64.RawURLEncoding.EncodeToString([]byte("Organization:1 " + inj))}}},
						{"filter": map[string]any{"coversRegion": inj}},
						{"filter": map[string]any{"locatedIn": inj}},
						{"facets": []string{inj}},
						{"after": base64.RawURLEncoding.EncodeToString([]byte("search:1 " + inj))},
					} {
						resp := h.do("charityA", searchQuery, args)
						if resp.code() != "BAD_USER_INPUT" || get(resp.Data, "searchResources") != nil {
							t.Errorf("%v: want BAD_USER_INPUT and no data, got %s", args, resp.Raw)
						}
					}
				}
			})

			t.Run("results carry only public fields", func(t *testing.T) {
				// graph/policy.go makes every field of Resource public
				// (typeRules "Resource": public, no field rule), and the
				// domain decides which rows a caller sees. So an anonymous
				// search may select every Resource field, and sees exactly
				// what the public resource(id) shows: no more, no less. The
				// nested organization's resources are the public ones only,
				// though charity A has a draft, a paused and a closed one.
				const fields = `id title description status coverage ageMin ageMax incomeCeilingFen validFrom validUntil expired
					contactName contactPhone eligibilityRule version createdAt updatedAt publishedAt
					organization { id name resources(first: 10) { totalCount edges { node { id status } } } }
					items { code } eligibleGroups { code }
					capacity { units unitsTaken unitsLeft budgetFen budgetTakenFen budgetLeftFen }
					location { address divisionCode divisionName lat lng }`
				intro := h.do("anonymous", `{ __type(name: "Resource") { fields { name } } }`, nil)
				var schemaFields []string
				for _, fl := range get(intro.Data, "__type", "fields").([]any) {
					schemaFields = append(schemaFields, fl.(map[string]any)["name"].(string))
				}
				selected := strings.Fields(strings.NewReplacer("{", " { ", "}", " } ").Replace(fields))
				for _, name := range schemaFields {
					if !slices.Contains(selected, name) {
						t.Errorf("Resource.%s is new: decide in graph/policy.go who may read it, and select it here", name)
					}
				}

				resp := h.do("anonymous", `{ searchResources(first: 20) { edges { node { `+fields+` } } } }`, nil)
				if len(resp.Errors) > 0 {
					t.Fatalf("anonymous search refused a public field: %s", resp.Raw)
				}
				edges := get(resp.Data, "searchResources", "edges").([]any)
				if len(edges) != len(publishedNames) {
					t.Fatalf("%d hits, want %d", len(edges), len(publishedNames))
				}
				for _, e := range edges {
					node := get(e, "node").(map[string]any)
					one := h.do("anonymous", `query($id: ID!) { resource(id: $id) { `+fields+` } }`, map[string]any{"id": node["id"]})
					a, _ := json.Marshal(node)
					b, _ := json.Marshal(get(one.Data, "resource"))
					if len(one.Errors) > 0 || string(a) != string(b) {
						t.Errorf("search shows %s\nresource(id) shows %s %v", a, b, one.Errors)
					}
					if node["status"] != "PUBLISHED" {
						t.Errorf("status %v", node["status"])
					}
					for _, r := range get(node, "organization", "resources", "edges").([]any) {
						if s := get(r, "node", "status"); s != "PUBLISHED" {
							t.Errorf("anonymous sees a %v resource of %v", s, get(node, "organization", "name"))
						}
					}
				}
			})

			t.Run("a stale index shows no unpublished resource", func(t *testing.T) {
				// The index is a moment behind the database: a resource just
				// paused, closed or never published is still there. Search
				// checks the database's status; an owner must not see its
				// own drafts through search either.
				cat, err := h.svc.Snapshot(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				var docs []search.Document
				for _, name := range []string{"draft", "paused", "closed"} {
					r := f.rows[name]
					r.Status = catalog.Published // as the index last saw it
					docs = append(docs, search.NewDocument(r, h.orgA.Name, cat))
				}
				if err := h.app.Index.Upsert(context.Background(), docs); err != nil {
					t.Fatal(err)
				}
				if res, err := h.app.Index.Search(context.Background(), search.Request{Limit: 100}); err != nil || res.Total != len(publishedNames)+3 {
					t.Fatalf("the index should hold the stale documents: %+v, %v", res, err)
				}
				for _, caller := range []string{"anonymous", "charityA", "admin"} {
					for _, text := range []string{"", "助学金", "医疗救助"} {
						f.search(t, caller, map[string]any{"query": text, "first": 100}) // fails on any unpublished hit
					}
				}
			})
		})
	}

	t.Run("same sets on both backends", func(t *testing.T) {
		b, m := results["bleve"], results["meilisearch"]
		if len(b) == 0 || len(m) == 0 {
			t.Skip("needs both backends to have run")
		}
		for _, k := range slices.Sorted(maps.Keys(b)) {
			if b[k] != m[k] {
				t.Errorf("%s:\n bleve       %s\n meilisearch %s", k, b[k], m[k])
			}
		}
		if len(b) != len(m) {
			t.Errorf("bleve ran %d cases, meilisearch %d", len(b), len(m))
		}
		for k, bd := range distances["bleve"] {
			md := distances["meilisearch"][k]
			if len(bd) != len(md) {
				t.Errorf("%s: distances %v and %v", k, bd, md)
				continue
			}
			for i := range bd {
				if math.Abs(bd[i]-md[i]) > 1+bd[i]*0.005 {
					t.Errorf("%s: distance %d is %.1f m on bleve, %.1f m on meilisearch", k, i, bd[i], md[i])
				}
			}
		}
	})
}

func sortedStrings(s ...string) []string {
	sort.Strings(s)
	return s
}
