package graph

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/aidhub/aidhub"
)

// ErrorPresenter shows *aidhub.Error with its code and message, passes the
// request errors gqlgen itself raises (parse, validation, limits) with a
// code, and turns everything else into "internal error", logged in full.
func ErrorPresenter(log zerolog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var ae *aidhub.Error
		if errors.As(err, &ae) {
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
