package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
)

// rule says which roles may resolve a field. A nil roles list is public.
// Field rules gate who may ask at all; which rows a caller sees is the
// domain's decision (a charity's drafts, a case manager's region).
type rule struct{ roles []auth.Role }

var (
	public         = rule{}
	adminOnly      = rule{roles: []auth.Role{auth.Admin}}
	resourceOwners = rule{roles: []auth.Role{auth.Admin, auth.Charity}}
)

// typeRules cover every field of a type unless fieldRules says otherwise.
// Every object type in the schema must appear here or have all its fields
// in fieldRules; TestPolicy_CoversEveryField enforces it, so a new field
// is never public by accident.
var typeRules = map[string]rule{
	"Query":                     public,
	"Viewer":                    public,
	"Catalog":                   public,
	"PopulationGroup":           public,
	"ServiceCategory":           public,
	"ServiceItem":               public,
	"PlanEntry":                 public,
	"Organization":              public,
	"OrganizationEdge":          public,
	"OrganizationConnection":    public,
	"Resource":                  public,
	"ResourceEdge":              public,
	"ResourceConnection":        public,
	"Capacity":                  public,
	"Location":                  public,
	"PageInfo":                  public,
	"SearchHit":                 public,
	"Facet":                     public,
	"FacetValue":                public,
	"SearchResultConnection":    public,
	"CreateOrganizationPayload": public,
	"CreateResourcePayload":     public,
	"UpdateResourcePayload":     public,
	"ResourceTransitionPayload": public,
	"PopulationGroupPayload":    public,
	"ServiceCategoryPayload":    public,
	"ServiceItemPayload":        public,
	"DeleteCatalogEntryPayload": public,
	"SetPlanEntryPayload":       public,
	"RemovePlanEntryPayload":    public,
}

var fieldRules = map[string]rule{
	"Mutation.createOrganization":    adminOnly,
	"Mutation.createResource":        resourceOwners,
	"Mutation.updateResource":        resourceOwners,
	"Mutation.publishResource":       resourceOwners,
	"Mutation.pauseResource":         resourceOwners,
	"Mutation.closeResource":         resourceOwners,
	"Mutation.createPopulationGroup": adminOnly,
	"Mutation.updatePopulationGroup": adminOnly,
	"Mutation.deletePopulationGroup": adminOnly,
	"Mutation.createServiceCategory": adminOnly,
	"Mutation.updateServiceCategory": adminOnly,
	"Mutation.deleteServiceCategory": adminOnly,
	"Mutation.createServiceItem":     adminOnly,
	"Mutation.updateServiceItem":     adminOnly,
	"Mutation.deleteServiceItem":     adminOnly,
	"Mutation.setPlanEntry":          adminOnly,
	"Mutation.removePlanEntry":       adminOnly,
}

func ruleFor(object, field string) (rule, bool) {
	if r, ok := fieldRules[object+"."+field]; ok {
		return r, true
	}
	r, ok := typeRules[object]
	return r, ok
}

// Authorize is field middleware that applies the rules to every field the
// executor resolves. A field without a rule is refused: deny by default.
func Authorize(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || len(fc.Object) >= 2 && fc.Object[:2] == "__" {
		return next(ctx)
	}
	r, ok := ruleFor(fc.Object, fc.Field.Name)
	if !ok {
		return nil, aidhub.Errorf(aidhub.EFORBIDDEN, "%s.%s has no access rule", fc.Object, fc.Field.Name)
	}
	if r.roles != nil {
		if err := auth.FromContext(ctx).Require(fc.Object+"."+fc.Field.Name, r.roles...); err != nil {
			return nil, err
		}
	}
	return next(ctx)
}
