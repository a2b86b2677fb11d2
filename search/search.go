// Package search finds published charity resources by Chinese full text,
// facets and distance. One Index interface has two implementations:
// Meilisearch (production) and an embedded Bleve index (default). The
// database is the source of truth; the index follows it through the
// transactional outbox in sync.go and can be rebuilt from it at any time.
package search

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aidhub/aidhub"
)

// Document is what the index holds of one resource: public fields only.
// Contact people, and anything about a person, never go in.
type Document struct {
	ID               int64    `json:"id"`
	Version          int64    `json:"version"`
	Title            string   `json:"title"`
	Description      string   `json:"description"`
	OrganizationID   int64    `json:"organizationId"`
	OrganizationName string   `json:"organizationName"`
	Categories       []string `json:"categories"` // category codes of the items, with their ancestors
	CategoryNames    []string `json:"categoryNames"`
	Items            []string `json:"items"`
	ItemNames        []string `json:"itemNames"`
	Groups           []string `json:"groups"`
	GroupNames       []string `json:"groupNames"`
	Coverage         []string `json:"coverage"` // division-code prefixes served
	District         string   `json:"district"` // 6-digit district of the location, "" when none
	Location         []string `json:"location"` // every prefix of the location's division code
	Address          string   `json:"address"`
	Geo              *Geo     `json:"_geo,omitempty"`
	// ValidUntil is YYYYMMDD, NoEnd when the resource does not expire.
	ValidUntil int `json:"validUntil"`
}

// NoEnd is the ValidUntil of resources without an end date.
const NoEnd = 99991231

// Geo is a point.
type Geo struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Facet fields a caller may ask for.
const (
	FacetCategory     = "category"
	FacetGroup        = "group"
	FacetDistrict     = "district"
	FacetOrganization = "organization"
)

// FacetFields lists the facet fields in a stable order.
var FacetFields = []string{FacetCategory, FacetGroup, FacetDistrict, FacetOrganization}

// facetAttribute maps a facet field to the document attribute behind it.
var facetAttribute = map[string]string{
	FacetCategory:     "categories",
	FacetGroup:        "groups",
	FacetDistrict:     "district",
	FacetOrganization: "organizationId",
}

// Filter narrows a search; all given conditions must hold, values within
// one condition are alternatives.
type Filter struct {
	Categories      []string
	Items           []string
	Groups          []string
	OrganizationIDs []int64
	// CoversRegion keeps resources whose coverage contains this division code.
	CoversRegion string
	// LocatedIn keeps resources located inside this division.
	LocatedIn string
}

// Near keeps resources within RadiusMeters of a point.
type Near struct {
	Lat, Lng     float64
	RadiusMeters float64
}

// Sort orders hits.
type Sort string

const (
	ByRelevance Sort = "RELEVANCE" // text relevance, then ID
	ByDistance  Sort = "DISTANCE"  // nearest first; needs Near
)

// Request is one search.
type Request struct {
	Text   string
	Filter Filter
	Near   *Near
	Sort   Sort
	Facets []string
	Offset int
	Limit  int
	// Today (YYYYMMDD) hides resources whose validity ended before it.
	Today int
}

// Limits of a request.
const (
	MaxTextRunes = 100
	MaxRadius    = 500_000 // meters: Chongqing is about 470 km across
	MaxLimit     = 100
	MaxOffset    = 10_000
)

// Validate checks a request and returns BAD_USER_INPUT naming the field.
func (r *Request) Validate() error {
	r.Text = strings.TrimSpace(r.Text)
	if !utf8.ValidString(r.Text) {
		return aidhub.Invalid("query", "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(r.Text); n > MaxTextRunes {
		return aidhub.Invalid("query", "is %d characters long; at most %d allowed", n, MaxTextRunes)
	}
	if r.Near != nil {
		n := r.Near
		if math.IsNaN(n.Lat) || n.Lat < -90 || n.Lat > 90 {
			return aidhub.Invalid("near.lat", "must be -90 to 90")
		}
		if math.IsNaN(n.Lng) || n.Lng < -180 || n.Lng > 180 {
			return aidhub.Invalid("near.lng", "must be -180 to 180")
		}
		if math.IsNaN(n.RadiusMeters) || n.RadiusMeters <= 0 || n.RadiusMeters > MaxRadius {
			return aidhub.Invalid("near.radiusMeters", "must be more than 0 and at most %d", MaxRadius)
		}
	}
	switch r.Sort {
	case "":
		r.Sort = ByRelevance
	case ByRelevance:
	case ByDistance:
		if r.Near == nil {
			return aidhub.Invalid("sort", "DISTANCE needs near")
		}
	default:
		return aidhub.Invalid("sort", "unknown sort %q", r.Sort)
	}
	for _, f := range r.Facets {
		if !slices.Contains(FacetFields, f) {
			return aidhub.Invalid("facets", "unknown facet field %q: want one of %s", f, strings.Join(FacetFields, ", "))
		}
	}
	if r.Limit < 1 || r.Limit > MaxLimit {
		return aidhub.Invalid("first", "must be 1 to %d, got %d", MaxLimit, r.Limit)
	}
	if r.Offset < 0 || r.Offset > MaxOffset {
		return aidhub.Invalid("after", "is not a cursor of this search")
	}
	for _, c := range [][]string{r.Filter.Categories, r.Filter.Items, r.Filter.Groups} {
		for _, v := range c {
			if !isCode(v) {
				return aidhub.Invalid("filter", "%q is not a code", v)
			}
		}
	}
	for _, v := range []string{r.Filter.CoversRegion, r.Filter.LocatedIn} {
		if v != "" && !isDigits(v) {
			return aidhub.Invalid("filter", "%q is not a division code", v)
		}
	}
	return nil
}

// isCode and isDigits guard every value that becomes part of an engine
// filter: filters are built from these checked values only, never from
// free text.
func isCode(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Hit is one result.
type Hit struct {
	ID int64
	// Highlight is the title with matched text wrapped in <em>…</em>; the
	// rest is HTML-escaped.
	Highlight string
	// DistanceMeters is set when the request had Near.
	DistanceMeters *float64
}

// FacetValue is one value of a facet with its count.
type FacetValue struct {
	Value string
	Count int
}

// Facet is the distribution of one field over all matches.
type Facet struct {
	Field  string
	Values []FacetValue // by count, then value
}

// Result is one page of hits plus totals over all matches.
type Result struct {
	Hits   []Hit
	Total  int
	Facets []Facet
}

// Index is a search backend.
type Index interface {
	// Name says which backend this is ("meilisearch" or "bleve").
	Name() string
	// Upsert adds or replaces documents and returns once they are searchable.
	Upsert(ctx context.Context, docs []Document) error
	// Delete removes documents by resource ID; absent ones are ignored.
	Delete(ctx context.Context, ids []int64) error
	Search(ctx context.Context, req Request) (*Result, error)
	// Rebuild builds a fresh index from docs and swaps it in atomically.
	Rebuild(ctx context.Context, docs func(yield func(Document) error) error) error
	// Raw returns every stored document as the engine holds it, for audits
	// and tests (what is in the index, field by field).
	Raw(ctx context.Context) ([]map[string]any, error)
	// Health returns an error when the backend cannot serve.
	Health(ctx context.Context) error
	Close() error
}

// sortFacet orders facet values by count, then value, for stable output.
func sortFacet(values []FacetValue) {
	slices.SortFunc(values, func(a, b FacetValue) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Value, b.Value)
	})
}

// prefixes returns every division-code prefix of code (2, 6, 9, 12 digits).
func prefixes(code string) []string {
	var out []string
	for _, n := range []int{2, 6, 9, 12} {
		if len(code) >= n {
			out = append(out, code[:n])
		}
	}
	return out
}

func docID(id int64) string { return strconv.FormatInt(id, 10) }

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
