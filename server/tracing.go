package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracing is a gqlgen extension that gives each GraphQL response a span
// named after its operation, with the operation's type and the error codes
// it carried. It is ours rather than ravilushqa/otelgqlgen because that
// one records the query's variables and arguments, which carry personal
// data the house never writes out (see requestLogging).
type tracing struct{ tracer trace.Tracer }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = tracing{}

func (tracing) ExtensionName() string                   { return "Tracing" }
func (tracing) Validate(graphql.ExecutableSchema) error { return nil }

func (t tracing) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	name, opType := "GraphQL", ""
	// A request refused before parsing (bad body, no query) has no operation
	// context, and GetOperationContext panics without one.
	if oc := operationContext(ctx); oc != nil && oc.Operation != nil {
		opType = string(oc.Operation.Operation)
		name = opType
		if oc.Operation.Name != "" {
			name = opType + " " + oc.Operation.Name
		}
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	resp := next(ctx)
	span.SetAttributes(attribute.String("graphql.operation.type", opType))
	if resp != nil && len(resp.Errors) > 0 {
		var errCodes []string
		for _, e := range resp.Errors {
			if c, ok := e.Extensions["code"].(string); ok {
				errCodes = append(errCodes, c)
			}
		}
		span.SetAttributes(attribute.StringSlice("graphql.error_codes", errCodes))
		span.SetStatus(codes.Error, "GraphQL errors")
	}
	return resp
}

// operationContext is the request's operation context, nil before one
// exists.
func operationContext(ctx context.Context) *graphql.OperationContext {
	if !graphql.HasOperationContext(ctx) {
		return nil
	}
	return graphql.GetOperationContext(ctx)
}
