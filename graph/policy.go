package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
)

// rule says which roles may resolve a field. A nil roles list is public.
// This file is the one place that says which roles may call an operation:
// resolvers do not check roles again. Which rows a caller sees is the
// domain's decision (a charity's drafts, a case manager's region).
type rule struct{ roles []auth.Role }

var (
	public         = rule{}
	adminOnly      = rule{roles: []auth.Role{auth.Admin}}
	resourceOwners = rule{roles: []auth.Role{auth.Admin, auth.Charity}}
	// caseworkers see and change casework in their region.
	caseworkers = rule{roles: []auth.Role{auth.Admin, auth.CaseManager}}
	// caseParties adds the charity a household was referred to; which rows
	// it sees (referred, consenting) is the casework service's decision.
	caseParties  = rule{roles: []auth.Role{auth.Admin, auth.CaseManager, auth.Charity}}
	caseManagers = rule{roles: []auth.Role{auth.CaseManager}}
	// signalSenders record signals: ADMIN, and a DATA_FEED for its own
	// source (the warning service's decision).
	signalSenders = rule{roles: []auth.Role{auth.Admin, auth.DataFeed}}
	// signalReaders see the signals they stored (a DATA_FEED through
	// recordSignals' answer) and case workers the ones behind warnings.
	signalReaders = rule{roles: []auth.Role{auth.Admin, auth.CaseManager, auth.DataFeed}}
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

	// Casework: donors and anonymous callers see none of it.
	"Household":                  caseParties,
	"HouseholdEdge":              caseParties,
	"HouseholdConnection":        caseParties,
	"RigidSpending":              caseworkers,
	"Person":                     caseParties,
	"GroupMembership":            caseworkers,
	"Consent":                    caseworkers,
	"Application":                caseworkers,
	"ApplicationEvent":           caseworkers,
	"Assessment":                 caseworkers,
	"Need":                       caseParties,
	"AidRecord":                  caseParties,
	"AidRecordEdge":              caseParties,
	"AidRecordConnection":        caseParties,
	"Referral":                   caseParties,
	"ReferralEvent":              caseParties,
	"ReferralEdge":               caseParties,
	"ReferralConnection":         caseParties,
	"RegisterHouseholdPayload":   public,
	"AddPersonPayload":           public,
	"RecordConsentPayload":       public,
	"RevokeConsentPayload":       public,
	"SubmitApplicationPayload":   public,
	"ClassifyApplicationPayload": public,
	"CreateAssessmentPayload":    public,
	"RecordAidPayload":           public,
	"CreateReferralPayload":      public,
	"TransitionReferralPayload":  public,
	"RevealResidentIdPayload":    public,

	// Matching: the charity sees its resource's matches without names.
	"MatchFactor":         caseParties,
	"Match":               caseParties,
	"NeedMatches":         caseworkers,
	"ResourceMatch":       resourceOwners,
	"FilterFailure":       caseworkers,
	"WhyNotMatched":       caseworkers,
	"UnmetNeed":           caseworkers,
	"UnmetNeedEdge":       caseworkers,
	"UnmetNeedConnection": caseworkers,
	"WatchlistCount":      caseworkers,
	"MatchSuggestion":     caseworkers,
	"Subscription":        caseworkers,

	// Early warning: case workers only; a DATA_FEED records signals and
	// sees what it stored, nothing else.
	"Signal":                   signalReaders,
	"RecordedSignal":           public,
	"RecordSignalsPayload":     public,
	"WarningType":              caseworkers,
	"ThresholdRule":            caseworkers,
	"UpdateWarningTypePayload": public,
	"Threshold":                caseworkers,
	"Calibration":              caseworkers,
	"RecalibratePayload":       public,
	"WarningFact":              caseworkers,
	"WarningEvidence":          caseworkers,
	"WarningEvent":             caseworkers,
	"Warning":                  caseworkers,
	"WarningEdge":              caseworkers,
	"WarningConnection":        caseworkers,
	"TransitionWarningPayload": public,
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

	"Query.household":              caseParties,
	"Query.households":             caseParties,
	"Query.aidHistory":             caseParties,
	"Query.referrals":              caseParties,
	"Mutation.registerHousehold":   caseworkers,
	"Mutation.addPerson":           caseworkers,
	"Mutation.recordConsent":       caseworkers,
	"Mutation.revokeConsent":       caseworkers,
	"Mutation.submitApplication":   caseworkers,
	"Mutation.classifyApplication": caseworkers,
	"Mutation.createAssessment":    caseworkers,
	"Mutation.createReferral":      caseworkers,
	"Mutation.recordAid":           caseParties,
	"Mutation.transitionReferral":  caseParties,
	"Mutation.revealResidentId":    caseManagers,
	"Household.externalId":         caseworkers,
	"Household.monthlyIncomeFen":   caseworkers,
	"Household.spending":           caseworkers,
	"Household.consents":           caseworkers,
	"Household.sharingConsented":   caseworkers,
	"Household.applications":       caseworkers,
	"Household.assessments":        caseworkers,
	"Household.currentAssessment":  caseworkers,
	"Person.birthDate":             caseworkers,
	"Person.age":                   caseworkers,
	"Person.female":                caseworkers,
	"Person.groups":                caseworkers,
	"Person.possibleDuplicateOf":   caseworkers,
	"Need.assessment":              caseworkers,
	"Query.matches":                caseworkers,
	"Query.whyNotMatched":          caseworkers,
	"Query.unmetNeeds":             caseworkers,
	"Query.watchlistCounts":        caseworkers,
	"Query.matchesForResource":     resourceOwners,
	"Mutation.referMatch":          caseworkers,

	"Query.warnings":             caseworkers,
	"Query.warningTypes":         caseworkers,
	"Query.thresholds":           caseworkers,
	"Mutation.recordSignals":     signalSenders,
	"Mutation.updateWarningType": adminOnly,
	"Mutation.recalibrate":       adminOnly,
	"Mutation.transitionWarning": caseworkers,
	"Signal.household":           caseworkers,
	"Signal.person":              caseworkers,
}

// nodeRules gate node(id:) by the type its ID names, before anything is
// loaded: Query.node is public, so no field rule can, and a refused caller
// learns nothing of what exists. A type not named here is public
// (resources, organizations, the catalog). Which rows a caller then sees
// (region, referral, consent) is the casework service's decision, which is
// why charities pass here for every casework type.
// TestPolicy_GatesEveryNode keeps it in step with typeRules.
var nodeRules = map[string]rule{
	typeHousehold:   caseParties,
	typePerson:      caseParties,
	typeConsent:     caseParties,
	typeApplication: caseParties,
	typeAssessment:  caseParties,
	typeNeed:        caseParties,
	typeAidRecord:   caseParties,
	typeReferral:    caseParties,
	typeWarning:     caseworkers,
	typeSignal:      caseworkers,
}

// authorizeNode applies nodeRules to node(id:) for an ID of type typ.
func authorizeNode(ctx context.Context, typ string) error {
	return nodeRules[typ].check(auth.FromContext(ctx), "reading casework")
}

// check returns UNAUTHENTICATED or FORBIDDEN when p may not act; action
// names the refused operation in the message.
func (r rule) check(p auth.Principal, action string) error {
	if r.roles == nil || !p.IsAnonymous() && p.Is(r.roles...) {
		return nil
	}
	return p.Require(action, r.roles...)
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
		// The action's name is built only for a refusal: this runs for
		// every field of every response.
		if p := auth.FromContext(ctx); p.IsAnonymous() || !p.Is(r.roles...) {
			return nil, r.check(p, fc.Object+"."+fc.Field.Name)
		}
	}
	return next(ctx)
}
