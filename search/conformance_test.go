package search_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/search/searchtest"
)

const today = 20261128

// fixture is a small set of resources over real Chongqing codes; every
// expectation below is written out by hand from it.
func fixture() []search.Document {
	geo := func(lat, lng float64) *search.Geo { return &search.Geo{Lat: lat, Lng: lng} }
	return []search.Document{
		{ID: 1, Version: 1, Title: "困难家庭学生助学金", Description: "资助低保、特困家庭在读学生完成学业。", OrganizationID: 1, OrganizationName: "重庆市慈善总会",
			Categories: []string{"EDUCATION_GRANTS", "EDUCATION"}, CategoryNames: []string{"助学资助", "教育"}, Items: []string{"SCHOOL_GRANT"}, ItemNames: []string{"助学金"},
			Groups: []string{"DIBAO", "TEKUN"}, GroupNames: []string{"低保对象", "特困供养人员"}, Coverage: []string{"500103"},
			District: "500103", Location: []string{"50", "500103", "500103003"}, Address: "渝中区解放碑街道", Geo: geo(29.5570, 106.5770), ValidUntil: 20271231},
		{ID: 2, Version: 3, Title: "大病医疗救助补充金", Description: "为重特大疾病患者补充报销自付费用。", OrganizationID: 2, OrganizationName: "沙坪坝区社会工作服务中心",
			Categories: []string{"MEDICAL_INPATIENT", "MEDICAL"}, CategoryNames: []string{"住院救助", "医疗"}, Items: []string{"CRITICAL_ILLNESS_AID"}, ItemNames: []string{"大病医疗救助"},
			Groups: []string{"DIBAO", "SERIOUS_ILLNESS"}, GroupNames: []string{"低保对象", "因病致贫重病患者"}, Coverage: []string{"50"},
			District: "500106", Location: []string{"50", "500106"}, Address: "沙坪坝区", Geo: geo(29.5410, 106.4570), ValidUntil: search.NoEnd},
		{ID: 3, Version: 1, Title: "社区长者助餐服务", Description: "为独居老人提供午餐。", OrganizationID: 1, OrganizationName: "重庆市慈善总会",
			Categories: []string{"BASIC_LIVING"}, CategoryNames: []string{"基本生活"}, Items: []string{"MEAL_ASSISTANCE"}, ItemNames: []string{"助餐服务"},
			Groups: []string{"TEKUN", "LEFT_BEHIND_ELDERLY"}, GroupNames: []string{"特困供养人员", "农村留守老年人"}, Coverage: []string{"500103001"},
			District: "500103", Location: []string{"50", "500103", "500103001"}, Address: "渝中区七星岗街道", Geo: geo(29.5590, 106.5640), ValidUntil: 20270630},
		{ID: 4, Version: 1, Title: "法律援助咨询", Description: "免费法律咨询与代写文书。", OrganizationID: 3, OrganizationName: "万州区三峡善源公益基金会",
			Categories: []string{"LEGAL"}, CategoryNames: []string{"法律援助"}, Items: []string{"LEGAL_CONSULTATION"}, ItemNames: []string{"法律咨询"},
			Groups: []string{"DIBAO"}, GroupNames: []string{"低保对象"}, Coverage: []string{"500101"},
			District: "500101", Location: []string{"50", "500101"}, Address: "万州区", Geo: geo(30.8080, 108.4080), ValidUntil: search.NoEnd},
		{ID: 5, Version: 1, Title: "冬季送温暖棉被发放", Description: "已结束的冬季物资发放。", OrganizationID: 1, OrganizationName: "重庆市慈善总会",
			Categories: []string{"BASIC_LIVING"}, CategoryNames: []string{"基本生活"}, Items: []string{"WINTER_SUPPLIES"}, ItemNames: []string{"冬季物资"},
			Groups: []string{"DIBAO"}, GroupNames: []string{"低保对象"}, Coverage: []string{"500103"},
			District: "500103", Location: []string{"50", "500103"}, Address: "渝中区", Geo: geo(29.5560, 106.5700), ValidUntil: 20261001},
		{ID: 6, Version: 1, Title: "心理疏导志愿服务", Description: "志愿者上门心理陪伴。", OrganizationID: 2, OrganizationName: "沙坪坝区社会工作服务中心",
			Categories: []string{"PSYCHOLOGICAL"}, CategoryNames: []string{"心理疏导"}, Items: []string{"PSYCH_COUNSELING"}, ItemNames: []string{"心理咨询"},
			Groups: []string{"UNATTENDED_CHILD"}, GroupNames: []string{"事实无人抚养儿童"}, Coverage: []string{"500106"},
			Location: []string{}, ValidUntil: search.NoEnd},
		{ID: 7, Version: 2, Title: "医疗救助住院费用补贴", Description: "住院自付部分按比例补贴。", OrganizationID: 3, OrganizationName: "万州区三峡善源公益基金会",
			Categories: []string{"MEDICAL_INPATIENT", "MEDICAL"}, CategoryNames: []string{"住院救助", "医疗"}, Items: []string{"INPATIENT_AID"}, ItemNames: []string{"住院费用救助"},
			Groups: []string{"TEKUN"}, GroupNames: []string{"特困供养人员"}, Coverage: []string{"500101001"},
			District: "500101", Location: []string{"50", "500101", "500101001"}, Address: "万州区高笋塘街道", Geo: geo(30.8110, 108.4010), ValidUntil: search.NoEnd},
		{ID: 8, Version: 1, Title: "学习用品发放", Description: "开学季助学帮扶，发放书包文具。", OrganizationID: 2, OrganizationName: "沙坪坝区社会工作服务中心",
			Categories: []string{"EDUCATION"}, CategoryNames: []string{"教育"}, Items: []string{"SCHOOL_SUPPLIES"}, ItemNames: []string{"学习用品"},
			Groups: []string{"DIBAO", "ORPHAN"}, GroupNames: []string{"低保对象", "孤儿"}, Coverage: []string{"500106", "500103"},
			District: "500106", Location: []string{"50", "500106"}, Address: "沙坪坝区", Geo: geo(29.5500, 106.4600), ValidUntil: search.NoEnd},
	}
}

func load(t *testing.T, idx search.Index) {
	t.Helper()
	if err := idx.Upsert(context.Background(), fixture()); err != nil {
		t.Fatal(err)
	}
}

func ids(res *search.Result) []int64 {
	out := make([]int64, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.ID
	}
	return out
}

func sorted(v []int64) []int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s
}

func run(t *testing.T, idx search.Index, req search.Request) *search.Result {
	t.Helper()
	if req.Limit == 0 {
		req.Limit = 50
	}
	res, err := idx.Search(context.Background(), req)
	if err != nil {
		t.Fatalf("%+v: %v", req, err)
	}
	return res
}

// TestConformance runs one suite against both backends: the same request
// must give the same set (filters, facets, geo) on either engine.
func TestConformance(t *testing.T) {
	searchtest.Each(t, func(t *testing.T, idx search.Index) {
		load(t, idx)

		t.Run("Chinese text needs segmentation", func(t *testing.T) {
			for _, tc := range []struct {
				text string
				want []int64 // must be among the hits
				not  []int64 // must not be
			}{
				{"助学", []int64{1, 8}, []int64{2, 3, 4}},
				{"助学金", []int64{1}, []int64{2, 4}},
				{"医疗", []int64{2, 7}, []int64{1, 3, 4}},
				{"医疗救助", []int64{2, 7}, []int64{1, 3}},
				{"助餐", []int64{3}, []int64{1, 2}},
				{"法律", []int64{4}, []int64{1, 2, 3}},
				{"量子计算机", nil, []int64{1, 2, 3, 4, 6, 7, 8}},
			} {
				got := ids(run(t, idx, search.Request{Text: tc.text, Today: today}))
				for _, id := range tc.want {
					if !slices.Contains(got, id) {
						t.Errorf("%q: %v lacks %d", tc.text, got, id)
					}
				}
				for _, id := range tc.not {
					if slices.Contains(got, id) {
						t.Errorf("%q: %v has %d", tc.text, got, id)
					}
				}
			}
		})

		t.Run("filters give exact sets", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				filter search.Filter
				want   []int64
			}{
				{"no filter (expired 5 hidden)", search.Filter{}, []int64{1, 2, 3, 4, 6, 7, 8}},
				{"category with its sub-categories", search.Filter{Categories: []string{"EDUCATION"}}, []int64{1, 8}},
				{"sub-category", search.Filter{Categories: []string{"MEDICAL_INPATIENT"}}, []int64{2, 7}},
				{"categories are alternatives", search.Filter{Categories: []string{"LEGAL", "PSYCHOLOGICAL"}}, []int64{4, 6}},
				{"item", search.Filter{Items: []string{"MEAL_ASSISTANCE"}}, []int64{3}},
				{"group", search.Filter{Groups: []string{"TEKUN"}}, []int64{1, 3, 7}},
				{"covers a community in 渝中区", search.Filter{CoversRegion: "500103001003"}, []int64{1, 2, 3, 8}},
				{"covers a community in 万州区", search.Filter{CoversRegion: "500101001001"}, []int64{2, 4, 7}},
				{"located in 渝中区", search.Filter{LocatedIn: "500103"}, []int64{1, 3}},
				{"organization", search.Filter{OrganizationIDs: []int64{2}}, []int64{2, 6, 8}},
				{"all together", search.Filter{Groups: []string{"DIBAO"}, CoversRegion: "500103003001", Categories: []string{"EDUCATION"}}, []int64{1, 8}},
				{"nothing matches", search.Filter{Groups: []string{"VAGRANT"}}, []int64{}},
			} {
				res := run(t, idx, search.Request{Filter: tc.filter, Today: today})
				if got := sorted(ids(res)); !slices.Equal(got, tc.want) || res.Total != len(tc.want) {
					t.Errorf("%s: got %v (total %d), want %v", tc.name, got, res.Total, tc.want)
				}
			}
			if got := ids(run(t, idx, search.Request{})); !slices.Contains(got, 5) {
				t.Errorf("without Today the expired resource must show: %v", got)
			}
		})

		t.Run("facet counts", func(t *testing.T) {
			res := run(t, idx, search.Request{Facets: search.FacetFields, Today: today})
			want := map[string]string{
				search.FacetCategory:     "BASIC_LIVING:1 EDUCATION:2 EDUCATION_GRANTS:1 LEGAL:1 MEDICAL:2 MEDICAL_INPATIENT:2 PSYCHOLOGICAL:1",
				search.FacetGroup:        "DIBAO:4 LEFT_BEHIND_ELDERLY:1 ORPHAN:1 SERIOUS_ILLNESS:1 TEKUN:3 UNATTENDED_CHILD:1",
				search.FacetDistrict:     "500101:2 500103:2 500106:2",
				search.FacetOrganization: "1:2 2:3 3:2",
			}
			if len(res.Facets) != len(search.FacetFields) {
				t.Fatalf("facets: %+v", res.Facets)
			}
			for _, f := range res.Facets {
				var parts []string
				for _, v := range f.Values {
					parts = append(parts, fmt.Sprintf("%s:%d", v.Value, v.Count))
				}
				sort.Strings(parts)
				if got := strings.Join(parts, " "); got != want[f.Field] {
					t.Errorf("facet %s: %s, want %s", f.Field, got, want[f.Field])
				}
			}
			// Facets follow the filters.
			res = run(t, idx, search.Request{Facets: []string{search.FacetGroup}, Filter: search.Filter{Categories: []string{"MEDICAL"}}, Today: today})
			if got := fmt.Sprint(res.Facets[0].Values); got != "[{DIBAO 1} {SERIOUS_ILLNESS 1} {TEKUN 1}]" {
				t.Errorf("filtered facet: %s", got)
			}
		})

		t.Run("geo radius and distance sort", func(t *testing.T) {
			near := &search.Near{Lat: 29.5575, Lng: 106.5765, RadiusMeters: 5000}
			res := run(t, idx, search.Request{Near: near, Sort: search.ByDistance, Today: today})
			if got := ids(res); !slices.Equal(got, []int64{1, 3}) {
				t.Fatalf("within 5 km of 解放碑, nearest first: %v", got)
			}
			prev := -1.0
			for _, h := range res.Hits {
				if h.DistanceMeters == nil || *h.DistanceMeters < prev {
					t.Fatalf("distances not ascending: %+v", res.Hits)
				}
				prev = *h.DistanceMeters
			}
			d := *res.Hits[0].DistanceMeters
			if want := 74.0; math.Abs(d-want) > 10 { // 解放碑 to the fixture point: about 74 m
				t.Errorf("distance %.1f m, want about %.0f", d, want)
			}
			wide := run(t, idx, search.Request{Near: &search.Near{Lat: 29.5575, Lng: 106.5765, RadiusMeters: 20000}, Sort: search.ByDistance, Today: today})
			if got := ids(wide); !slices.Equal(got, []int64{1, 3, 8, 2}) {
				t.Errorf("within 20 km: %v", got)
			}
		})

		t.Run("pagination is stable and complete", func(t *testing.T) {
			var all []int64
			for offset := 0; offset < 10; offset += 3 {
				res := run(t, idx, search.Request{Offset: offset, Limit: 3, Today: today})
				if res.Total != 7 {
					t.Fatalf("total %d at offset %d", res.Total, offset)
				}
				all = append(all, ids(res)...)
			}
			if !slices.Equal(all, []int64{1, 2, 3, 4, 6, 7, 8}) {
				t.Fatalf("pages: %v", all)
			}
		})

		t.Run("highlight", func(t *testing.T) {
			res := run(t, idx, search.Request{Text: "助学金", Today: today})
			if len(res.Hits) == 0 || !strings.Contains(res.Hits[0].Highlight, "<em>") {
				t.Fatalf("no highlight: %+v", res.Hits)
			}
		})

		t.Run("filter injection finds nothing extra", func(t *testing.T) {
			res := run(t, idx, search.Request{Text: `x" OR status = "DRAFT`, Today: today})
			if len(res.Hits) != 0 {
				t.Fatalf("injection text found %v", ids(res))
			}
			_, err := idx.Search(context.Background(), search.Request{Limit: 5, Filter: search.Filter{Groups: []string{`DIBAO" OR groups = "TEKUN`}}})
			if aidhub.ErrorCode(err) != aidhub.EBADINPUT {
				t.Fatalf("injected filter value: %v", err)
			}
		})

		t.Run("bad requests", func(t *testing.T) {
			for name, req := range map[string]search.Request{
				"overlong query":             {Text: strings.Repeat("助", 101), Limit: 5},
				"radius zero":                {Near: &search.Near{Lat: 29.5, Lng: 106.5, RadiusMeters: 0}, Limit: 5},
				"radius absurd":              {Near: &search.Near{Lat: 29.5, Lng: 106.5, RadiusMeters: 1e9}, Limit: 5},
				"latitude 91":                {Near: &search.Near{Lat: 91, Lng: 106.5, RadiusMeters: 100}, Limit: 5},
				"unknown facet":              {Facets: []string{"status"}, Limit: 5},
				"distance sort without near": {Sort: search.ByDistance, Limit: 5},
				"limit 0":                    {Limit: 0},
			} {
				if _, err := idx.Search(context.Background(), req); aidhub.ErrorCode(err) != aidhub.EBADINPUT {
					t.Errorf("%s: %v", name, err)
				}
			}
		})

		t.Run("upsert replaces, delete removes", func(t *testing.T) {
			doc := fixture()[3]
			doc.Version, doc.Title = 2, "法律援助与纠纷调解"
			if err := idx.Upsert(context.Background(), []search.Document{doc}); err != nil {
				t.Fatal(err)
			}
			if got := ids(run(t, idx, search.Request{Text: "调解", Today: today})); !slices.Equal(got, []int64{4}) {
				t.Fatalf("after upsert: %v", got)
			}
			if err := idx.Delete(context.Background(), []int64{4, 999}); err != nil {
				t.Fatal(err)
			}
			if got := ids(run(t, idx, search.Request{Filter: search.Filter{Categories: []string{"LEGAL"}}})); len(got) != 0 {
				t.Fatalf("after delete: %v", got)
			}
		})

		t.Run("rebuild swaps in a whole new index", func(t *testing.T) {
			docs := fixture()[:2]
			err := idx.Rebuild(context.Background(), func(yield func(search.Document) error) error {
				for _, d := range docs {
					if err := yield(d); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := sorted(ids(run(t, idx, search.Request{}))); !slices.Equal(got, []int64{1, 2}) {
				t.Fatalf("after rebuild: %v", got)
			}
			raw, err := idx.Raw(context.Background())
			if err != nil || len(raw) != 2 {
				t.Fatalf("raw after rebuild: %d, %v", len(raw), err)
			}
		})
	})
}
