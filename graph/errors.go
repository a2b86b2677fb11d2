package graph

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/aidhub/aidhub"
)

// ErrorPresenter shows *aidhub.Error with its code and message, passes the
// request errors gqlgen itself raises (parse, validation, limits) with a
// code, and turns everything else into "internal error", logged in full.
// In production it also strips every "Did you mean …?" from the messages
// (ValidationRules makes none; this is the net under it), so that errors
// reveal no name of the schema that the request did not already hold.
func ErrorPresenter(log zerolog.Logger, production bool) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if production {
			gqlErr.Message = StripSuggestions(gqlErr.Message)
		}
		var ae *aidhub.Error
		if errors.As(err, &ae) {
			ae = withInputPath(ctx, gqlErr.Path, ae) // inputpath.go
			gqlErr.Message = aidhub.ErrorMessage(ae)
			gqlErr.Extensions = map[string]any{"code": ae.Code}
			if ae.Field != "" {
				gqlErr.Extensions["field"] = ae.Field
			}
			if ae.Existing != nil {
				gqlErr.Extensions["existingId"] = rowID(ae.Existing.Type, ae.Existing.ID)
			}
			if ae.MessageZh != "" {
				gqlErr.Extensions["messageZh"] = ae.MessageZh
			}
			for k, v := range ae.Details {
				if _, taken := gqlErr.Extensions[k]; !taken {
					gqlErr.Extensions[k] = v
				}
			}
			return gqlErr
		}
		if gqlErr.Err == nil {
			// Raised by gqlgen about the request itself: safe to show.
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			if _, ok := gqlErr.Extensions["code"]; !ok {
				gqlErr.Extensions["code"] = aidhub.EBADINPUT
			}
			return gqlErr
		}
		if isIntrospection(gqlErr.Path) {
			// gqlgen refuses introspection with a plain error when it is off.
			return &gqlerror.Error{
				Message:    "introspection is disabled in production",
				Path:       gqlErr.Path,
				Locations:  gqlErr.Locations,
				Extensions: map[string]any{"code": aidhub.EFORBIDDEN},
			}
		}
		RequestLogger(ctx, log).Error().Err(err).Str("path", gqlErr.Path.String()).Msg("internal error")
		return &gqlerror.Error{
			Message:    "internal error",
			Path:       gqlErr.Path,
			Locations:  gqlErr.Locations,
			Extensions: map[string]any{"code": aidhub.EINTERNAL},
		}
	}
}

// suggestion matches gqlparser's hints: ` Did you mean "filter" or "first"?`,
// ` Did you mean the enum value "PUBLISHED"?`, ` Did you mean to use an
// inline fragment on "Resource"?`, ` Did you mean "viewer { ... }"?`.
var suggestion = regexp.MustCompile(`\s*Did you mean\b[^?]*\?`)

// StripSuggestions removes every "Did you mean …?" from msg.
func StripSuggestions(msg string) string {
	return suggestion.ReplaceAllString(msg, "")
}

// ValidationRules returns the validation rules of a hub: gqlparser's
// defaults, and in production the variants of every rule that would
// suggest a name of the schema (fields, arguments, input fields, enum
// values, types) that suggest none, so no "Did you mean" is even computed.
func ValidationRules(production bool) func() *rules.Rules {
	if !production {
		return rules.NewDefaultRules
	}
	return func() *rules.Rules {
		r := rules.NewDefaultRules()
		for _, rule := range []core.Rule{
			rules.FieldsOnCorrectTypeRuleWithoutSuggestions,
			rules.KnownArgumentNamesRuleWithoutSuggestions,
			rules.KnownTypeNamesRuleWithoutSuggestions,
			rules.ScalarLeafsRuleWithoutSuggestions,
			rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
		} {
			r.RemoveRule(strings.TrimSuffix(rule.Name, "WithoutSuggestions"))
			r.AddRule(rule.Name, rule.RuleFunc)
		}
		return r
	}
}

func isIntrospection(path ast.Path) bool {
	if len(path) == 0 {
		return false
	}
	name, ok := path[len(path)-1].(ast.PathName)
	return ok && (name == "__schema" || name == "__type")
}

// Recover turns a resolver panic into an internal error, logged with its stack.
func Recover(log zerolog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		RequestLogger(ctx, log).Error().Str("panic", fmt.Sprint(p)).Bytes("stack", debug.Stack()).Msg("resolver panic")
		return errors.New("panic in resolver")
	}
}

type requestLoggerKey struct{}

// WithRequestLogger stores the request-scoped logger (carrying the request ID).
func WithRequestLogger(ctx context.Context, l zerolog.Logger) context.Context {
	return context.WithValue(ctx, requestLoggerKey{}, l)
}

// RequestLogger returns the request's logger, or fallback outside a request.
func RequestLogger(ctx context.Context, fallback zerolog.Logger) *zerolog.Logger {
	if l, ok := ctx.Value(requestLoggerKey{}).(zerolog.Logger); ok {
		return &l
	}
	return &fallback
}
