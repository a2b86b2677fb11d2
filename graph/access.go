package graph

import (
	"slices"
	"sort"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/aidhub/aidhub/auth"
)

// The policy as data, for the SDL's @allowed directives and the README's
// role × field table (graph/internal/allowedgen writes both), so what the
// schema and the docs say is what Authorize does.

// TypeRoles returns the roles of each type rule; nil roles mean public.
func TypeRoles() map[string][]auth.Role {
	out := make(map[string][]auth.Role, len(typeRules))
	for k, r := range typeRules {
		out[k] = r.roles
	}
	return out
}

// FieldRoles returns the roles of each field rule ("Type.field"), the
// exceptions to TypeRoles; nil roles mean public.
func FieldRoles() map[string][]auth.Role {
	out := make(map[string][]auth.Role, len(fieldRules))
	for k, r := range fieldRules {
		out[k] = r.roles
	}
	return out
}

// NodeRoles returns the roles that may fetch each type by node(id:) that
// nodeRules gates; a Node type not in it is public.
func NodeRoles() map[string][]auth.Role {
	out := make(map[string][]auth.Role, len(nodeRules))
	for k, r := range nodeRules {
		out[k] = r.roles
	}
	return out
}

// RolesFor returns the roles that may resolve object.field (nil: public)
// and whether the policy has a rule for it.
func RolesFor(object, field string) ([]auth.Role, bool) {
	r, ok := ruleFor(object, field)
	return r.roles, ok
}

// allows reports whether role may resolve a field under r.
func (r rule) allows(role auth.Role) bool {
	return r.roles == nil || role != auth.Anonymous && slices.Contains(r.roles, role)
}

// DeniableFields returns the fields ("Type.field", sorted) that some role
// can be refused on an object it was allowed to reach: the object types
// it reaches from the roots through fields it may resolve (and node(id:)
// through nodeRules), and the restricted fields of Query and Mutation. Each
// must be nullable in the schema so a refusal nulls that field only, never
// its allowed parent (for a root field, the response's data and so every
// other root field, of mutations that ran too). Subscription is left out:
// a subscription has one root field.
func DeniableFields(schema *ast.Schema) []string {
	roles := append([]auth.Role{auth.Anonymous}, auth.Roles...)
	found := map[string]bool{}
	for _, role := range roles {
		for key := range deniedReachable(schema, role) {
			found[key] = true
		}
	}
	out := make([]string, 0, len(found))
	for k := range found {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// deniedReachable walks the object types role reaches and returns the
// fields of non-root ones it is refused.
func deniedReachable(schema *ast.Schema, role auth.Role) map[string]bool {
	roots := map[string]bool{}
	var queue []string
	for _, def := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		if def != nil {
			roots[def.Name] = true
			queue = append(queue, def.Name)
		}
	}
	seen := map[string]bool{}
	denied := map[string]bool{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		def := schema.Types[name]
		for _, f := range def.Fields {
			if len(f.Name) >= 2 && f.Name[:2] == "__" {
				continue
			}
			r, _ := ruleFor(name, f.Name)
			if !r.allows(role) {
				if schema.Subscription == nil || name != schema.Subscription.Name {
					denied[name+"."+f.Name] = true
				}
				continue
			}
			for _, t := range schema.GetPossibleTypes(schema.Types[f.Type.Name()]) {
				// An object whose type rule refuses role is not an
				// allowed parent: refusing its fields refuses it.
				if tr, ok := typeRules[t.Name]; t.Kind == ast.Object && (!ok || tr.allows(role)) {
					queue = append(queue, t.Name)
				}
			}
		}
	}
	return denied
}
