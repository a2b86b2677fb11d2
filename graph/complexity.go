package graph

import (
	"github.com/aidhub/aidhub/graph/model"
	"github.com/aidhub/aidhub/search"
)

// pageCost is what a connection costs: its page size times what each node
// asks for, so nested connections multiply as they do in the database.
func pageCost(child int, first *int) int {
	n := 20
	if first != nil && *first > 0 {
		n = *first
	}
	return 1 + n*child
}

// Complexity returns the cost functions of the list fields.
func Complexity() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Resources = func(child int, _ *model.ResourceFilter, first *int, _ *string) int { return pageCost(child, first) }
	c.Query.Organizations = func(child int, _ *model.OrganizationFilter, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.Organization.Resources = func(child int, first *int, _ *string) int { return pageCost(child, first) }
	c.Query.SearchResources = func(child int, _ *string, _ *model.SearchFilter, _ *model.NearInput, _ *search.Sort, _ []string, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.Query.Households = func(child int, _ *model.HouseholdFilter, first *int, _ *string) int { return pageCost(child, first) }
	c.Query.AidHistory = func(child int, _ string, _ *string, _ *string, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.Query.Referrals = func(child int, _ *model.ReferralFilter, first *int, _ *string) int { return pageCost(child, first) }
	return c
}
