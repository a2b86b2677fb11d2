package graph

import (
	"context"
	"fmt"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/warning/detect"
)

func init() {
	// A list too long is refused before execution, as a request error:
	// GraphQL-over-HTTP answers it like the other limits and variable
	// coercion failures. Only errors raised before execution carry the
	// code at that point (the presenter adds it to the others), so this
	// does not change the status of resolver errors.
	errcode.RegisterErrorType(aidhub.EBADINPUT, errcode.KindProtocol)
}

// ListMaxima are the longest lists the domain accepts where it knows a
// sensible maximum, keyed by input field ("SearchFilter.organizationIds")
// or by field argument ("Query.searchResources(facets)"). A list of an
// enum may hold at most as many values as the enum has; any other list at
// most ListLimits.Global.
var ListMaxima = map[string]int{
	// Resources: catalog's codeList takes at most 50 codes a list.
	"CreateResourceInput.itemCodes":  50,
	"CreateResourceInput.groupCodes": 50,
	"CreateResourceInput.coverage":   50,
	"UpdateResourceInput.itemCodes":  50,
	"UpdateResourceInput.groupCodes": 50,
	"UpdateResourceInput.coverage":   50,
	// Search filters: as many as a resource may carry; organizations a page.
	"SearchFilter.categoryCodes":    50,
	"SearchFilter.itemCodes":        50,
	"SearchFilter.groupCodes":       50,
	"SearchFilter.organizationIds":  100,
	"Query.searchResources(facets)": len(search.FacetFields),
	// Casework: an application names at most 20 categories (casework's
	// categoryList); a household of more than 30 people or a person in
	// more than 20 population groups is a mistake, not a household.
	"SubmitApplicationInput.categoryCodes": 20,
	"RegisterHouseholdInput.members":       30,
	"PersonInput.groups":                   20,
	"ClassifyApplicationInput.needs":       50,
	"CreateAssessmentInput.needs":          50,
	// Early warning: a warning's application names categories as
	// submitApplication does; a type reads at most every signal kind and
	// casework's three facts.
	"TransitionWarningInput.categoryCodes": 20,
	"WarningTypeInput.signals":             len(detect.Kinds) + 3,
	"WarningTypeInput.groups":              50,
}

// ListLimits refuses, before anything executes, an operation whose
// arguments or variables hold a list longer than its maximum (Maxima, the
// number of values of an enum, or Global), with BAD_USER_INPUT naming the
// argument ("filter.organizationIds", "input.members[2].groups"). Without
// it a 1 MiB body of 45,000 organization IDs costs seconds of CPU and
// 100 MB of memory to execute; counting costs microseconds.
type ListLimits struct {
	Global int
	Maxima map[string]int

	schema *ast.Schema
}

// NewListLimits returns the limits of ListMaxima with global for every
// other list.
func NewListLimits(global int) *ListLimits {
	return &ListLimits{Global: global, Maxima: ListMaxima}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &ListLimits{}

// ExtensionName implements graphql.HandlerExtension.
func (*ListLimits) ExtensionName() string { return "ListLimits" }

// Validate implements graphql.HandlerExtension.
func (l *ListLimits) Validate(es graphql.ExecutableSchema) error {
	l.schema = es.Schema()
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator. Each
// field is checked where it is written, once per fragment definition and
// not once per spread: arguments do not change between spreads.
func (l *ListLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Doc == nil {
		return nil
	}
	c := listChecker{limits: l, schema: l.schema, vars: oc.Variables}
	var err *aidhub.Error
	if err = c.selections(oc.Operation.SelectionSet); err == nil {
		for _, f := range oc.Doc.Fragments {
			if err = c.selections(f.SelectionSet); err != nil {
				break
			}
		}
	}
	if err == nil {
		return nil
	}
	return &gqlerror.Error{
		Err:        err,
		Message:    aidhub.ErrorMessage(err),
		Extensions: map[string]any{"code": aidhub.EBADINPUT, "field": err.Field},
	}
}

type listChecker struct {
	limits *ListLimits
	schema *ast.Schema
	vars   map[string]any
}

func (c *listChecker) max(key string, elem *ast.Type, def *ast.Definition) int {
	if n, ok := c.limits.Maxima[key]; ok {
		return n
	}
	if def != nil && def.Kind == ast.Enum && elem.Elem == nil && len(def.EnumValues) > 0 {
		return len(def.EnumValues)
	}
	return c.limits.Global
}

func (c *listChecker) selections(set ast.SelectionSet) *aidhub.Error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Definition != nil && sel.ObjectDefinition != nil {
				for _, arg := range sel.Arguments {
					def := sel.Definition.Arguments.ForName(arg.Name)
					if def == nil {
						continue
					}
					key := fmt.Sprintf("%s.%s(%s)", sel.ObjectDefinition.Name, sel.Name, arg.Name)
					if err := c.value(arg.Value, def.Type, key, arg.Name); err != nil {
						return err
					}
				}
			}
			if err := c.selections(sel.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := c.selections(sel.SelectionSet); err != nil {
				return err
			}
		}
	}
	return nil
}

// value checks a literal (or the variable standing in its place) of type
// typ at the input position key.
func (c *listChecker) value(v *ast.Value, typ *ast.Type, key, path string) *aidhub.Error {
	if v == nil || typ == nil {
		return nil
	}
	switch v.Kind {
	case ast.Variable:
		val, ok := c.vars[v.Raw]
		if !ok {
			return nil
		}
		return c.variable(reflect.ValueOf(val), typ, key, path)
	case ast.ListValue:
		if typ.Elem == nil {
			return nil
		}
		if err := c.length(len(v.Children), typ, key, path); err != nil {
			return err
		}
		for i, child := range v.Children {
			if err := c.value(child.Value, typ.Elem, key, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case ast.ObjectValue:
		def := c.definition(typ)
		if def == nil || typ.Elem != nil {
			return nil
		}
		for _, child := range v.Children {
			f := def.Fields.ForName(child.Name)
			if f == nil {
				continue
			}
			if err := c.value(child.Value, f.Type, def.Name+"."+child.Name, path+"."+child.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// variable checks a variable's (coerced) value: JSON arrays and objects.
func (c *listChecker) variable(v reflect.Value, typ *ast.Type, key, path string) *aidhub.Error {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		v = v.Elem()
	}
	if !v.IsValid() {
		return nil
	}
	switch {
	case typ.Elem != nil && (v.Kind() == reflect.Slice || v.Kind() == reflect.Array):
		if err := c.length(v.Len(), typ, key, path); err != nil {
			return err
		}
		if c.leaf(typ.Elem) {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := c.variable(v.Index(i), typ.Elem, key, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case typ.Elem == nil && v.Kind() == reflect.Map:
		def := c.definition(typ)
		if def == nil || def.Kind != ast.InputObject {
			return nil
		}
		for _, f := range def.Fields {
			fv := v.MapIndex(reflect.ValueOf(f.Name))
			if !fv.IsValid() {
				continue
			}
			if err := c.variable(fv, f.Type, def.Name+"."+f.Name, path+"."+f.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// leaf reports whether values of typ hold no list: scalars and enums.
func (c *listChecker) leaf(typ *ast.Type) bool {
	if typ.Elem != nil {
		return false
	}
	def := c.definition(typ)
	return def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum
}

func (c *listChecker) definition(typ *ast.Type) *ast.Definition {
	if c.schema == nil {
		return nil
	}
	return c.schema.Types[typ.Name()]
}

func (c *listChecker) length(n int, typ *ast.Type, key, path string) *aidhub.Error {
	max := c.max(key, typ.Elem, c.definition(typ.Elem))
	if max <= 0 || n <= max {
		return nil
	}
	return &aidhub.Error{
		Code:    aidhub.EBADINPUT,
		Field:   path,
		Message: fmt.Sprintf("a list of %d values; at most %d allowed", n, max),
		Details: map[string]any{"maxLength": max},
	}
}
