package search

import (
	"slices"
	"strconv"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
)

// Searchable reports whether a resource belongs in the index: published
// and with capacity left. Expiry is a query-time filter (the index cannot
// follow the clock).
func Searchable(r *catalog.Resource) bool {
	if r.Status != catalog.Published {
		return false
	}
	units, budget := r.UnitsLeft(), r.BudgetLeftFen()
	return units != nil && *units > 0 || budget != nil && *budget > 0
}

// NewDocument builds the index document of a resource. Only public fields
// are copied; contact people stay out.
func NewDocument(r *catalog.Resource, orgName string, cat *catalog.Catalog) Document {
	d := Document{
		ID: r.ID, Version: r.Version, Title: r.Title, Description: r.Description,
		OrganizationID: r.OrganizationID, OrganizationName: orgName,
		Items: nonNil(r.ItemCodes), Groups: nonNil(r.GroupCodes), Coverage: nonNil(r.Coverage),
		Categories: []string{}, CategoryNames: []string{}, ItemNames: []string{}, GroupNames: []string{},
		Location: []string{}, Address: r.Address, ValidUntil: NoEnd,
	}
	for _, code := range r.ItemCodes {
		it, ok := cat.Item(code)
		if !ok {
			continue
		}
		d.ItemNames = append(d.ItemNames, it.NameZh)
		// The item's category and every category above it, so a search
		// for 医疗 finds an item filed under 住院救助 within it.
		for c := it.CategoryCode; c != ""; {
			cc, ok := cat.Category(c)
			if !ok {
				break
			}
			if !slices.Contains(d.Categories, c) {
				d.Categories = append(d.Categories, c)
				d.CategoryNames = append(d.CategoryNames, cc.NameZh)
			}
			c = ""
			if cc.ParentCode != nil {
				c = *cc.ParentCode
			}
		}
	}
	for _, code := range r.GroupCodes {
		if g, ok := cat.Group(code); ok {
			d.GroupNames = append(d.GroupNames, g.NameZh)
		}
	}
	if r.DivisionCode != nil {
		d.Location = prefixes(*r.DivisionCode)
		if len(*r.DivisionCode) >= 6 {
			d.District = (*r.DivisionCode)[:6]
		}
	}
	if r.Lat != nil && r.Lng != nil {
		d.Geo = &Geo{Lat: *r.Lat, Lng: *r.Lng}
	}
	if r.ValidUntil != nil {
		d.ValidUntil = DateNumber(*r.ValidUntil)
	}
	return d
}

// DateNumber turns a date into YYYYMMDD.
func DateNumber(d aidhub.Date) int {
	n, _ := strconv.Atoi(d.Format("20060102"))
	return n
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
