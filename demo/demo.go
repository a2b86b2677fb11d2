// Package demo loads demonstration organizations and charity resources so a
// new hub has something to show. It goes through the catalog service, so
// demo data obeys every rule real data does.
package demo

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
)

//go:embed demo.json
var demoJSON []byte

type file struct {
	Organizations []struct {
		Key          string          `json:"key"`
		Name         string          `json:"name"`
		Kind         catalog.OrgKind `json:"kind"`
		DivisionCode string          `json:"divisionCode"`
		Description  string          `json:"description"`
		ContactPhone string          `json:"contactPhone"`
		Website      string          `json:"website"`
	} `json:"organizations"`
	Resources []struct {
		Org               string         `json:"org"`
		Title             string         `json:"title"`
		Description       string         `json:"description"`
		Items             []string       `json:"items"`
		Groups            []string       `json:"groups"`
		Coverage          []string       `json:"coverage"`
		AgeMin            *int           `json:"ageMin"`
		AgeMax            *int           `json:"ageMax"`
		IncomeCeilingFen  *int64         `json:"incomeCeilingFen"`
		CapacityUnits     *int64         `json:"capacityUnits"`
		CapacityBudgetFen *int64         `json:"capacityBudgetFen"`
		ValidDays         int            `json:"validDays"`
		Address           string         `json:"address"`
		DivisionCode      *string        `json:"divisionCode"`
		Lat               *float64       `json:"lat"`
		Lng               *float64       `json:"lng"`
		ContactName       string         `json:"contactName"`
		ContactPhone      string         `json:"contactPhone"`
		Status            catalog.Status `json:"status"`
	} `json:"resources"`
}

// Result counts what Load created.
type Result struct {
	Organizations, Resources, Published int
}

// Load adds the demo organizations and resources unless the hub already has
// organizations; validity windows start today. It reports what it created
// (all zero when it left a non-empty hub alone).
func Load(ctx context.Context, svc *catalog.Service, today aidhub.Date) (Result, error) {
	var res Result
	var f file
	if err := json.Unmarshal(demoJSON, &f); err != nil {
		return res, fmt.Errorf("demo: parse: %w", err)
	}
	ctx = auth.WithPrincipal(ctx, auth.System)
	existing, err := svc.ListOrganizations(ctx, catalog.OrganizationFilter{}, aidhub.PageArgs{First: 1})
	if err != nil {
		return res, fmt.Errorf("demo: %w", err)
	}
	if existing.TotalCount > 0 {
		return res, nil
	}
	orgs := map[string]int64{}
	for _, o := range f.Organizations {
		org, err := svc.CreateOrganization(ctx, catalog.NewOrganization{
			Name: o.Name, Kind: o.Kind, DivisionCode: o.DivisionCode,
			Description: o.Description, ContactPhone: o.ContactPhone, Website: o.Website,
		})
		if err != nil {
			return res, fmt.Errorf("demo: organization %s: %w", o.Key, err)
		}
		orgs[o.Key] = org.ID
		res.Organizations++
	}
	for _, r := range f.Resources {
		from, until := today, today.AddDays(r.ValidDays)
		created, err := svc.CreateResource(ctx, orgs[r.Org], catalog.ResourcePatch{
			Title: &r.Title, Description: &r.Description,
			ItemCodes: &r.Items, GroupCodes: &r.Groups, Coverage: &r.Coverage,
			AgeMin: optional(r.AgeMin), AgeMax: optional(r.AgeMax), IncomeCeilingFen: optional(r.IncomeCeilingFen),
			CapacityUnits: optional(r.CapacityUnits), CapacityBudgetFen: optional(r.CapacityBudgetFen),
			ValidFrom: aidhub.Some(from), ValidUntil: aidhub.Some(until),
			Address: &r.Address, DivisionCode: optional(r.DivisionCode), Lat: optional(r.Lat), Lng: optional(r.Lng),
			ContactName: &r.ContactName, ContactPhone: &r.ContactPhone,
		})
		if err != nil {
			return res, fmt.Errorf("demo: resource %q: %w", r.Title, err)
		}
		res.Resources++
		if r.Status == catalog.Published || r.Status == catalog.Paused {
			if _, err := svc.PublishResource(ctx, created.ID, nil); err != nil {
				return res, fmt.Errorf("demo: publish %q: %w", r.Title, err)
			}
			res.Published++
		}
		if r.Status == catalog.Paused {
			if _, err := svc.PauseResource(ctx, created.ID, nil); err != nil {
				return res, fmt.Errorf("demo: pause %q: %w", r.Title, err)
			}
			res.Published--
		}
	}
	return res, nil
}

func optional[T any](v *T) aidhub.Opt[T] {
	if v == nil {
		return aidhub.Opt[T]{}
	}
	return aidhub.Some(*v)
}
