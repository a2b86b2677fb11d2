package hub

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aidhub/aidhub/buildinfo"
	"github.com/aidhub/aidhub/db"
)

// openTracing returns the tracer provider the hub's spans go to: an OTLP/HTTP
// exporter to endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, e.g.
// http://127.0.0.1:4318), or, when endpoint is empty, a provider that records
// nothing and exports nothing. SQL statements are traced through bun's hook,
// without their arguments (they may carry personal data). shutdown flushes.
func openTracing(ctx context.Context, d *db.DB, endpoint string) (trace.TracerProvider, func(context.Context) error, error) {
	if endpoint == "" {
		return tracenoop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimSuffix(endpoint, "/")+"/v1/traces"))
	if err != nil {
		return nil, nil, fmt.Errorf("hub: tracing: %w", err)
	}
	res := resource.NewSchemaless(semconv.ServiceName("aidhub"), semconv.ServiceVersion(buildinfo.Get().Version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	// Before any service holds the database: they share d, whose bun
	// handle becomes the hooked clone.
	d.DB = d.DB.WithQueryHook(bunotel.NewQueryHook(bunotel.WithTracerProvider(tp), bunotel.WithMeterProvider(metricnoop.NewMeterProvider()),
		bunotel.WithDBName(d.Engine), bunotel.WithFormattedQueries(false)))
	return tp, tp.Shutdown, nil
}
