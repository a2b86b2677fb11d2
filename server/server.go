// Package server wires the HTTP side of the hub: the GraphQL endpoint with
// its transports and limits, GraphiQL, health checks, authentication and
// one structured log line per request.
package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/graph"
	"github.com/aidhub/aidhub/matchsvc"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/server/explorer"
	"github.com/aidhub/aidhub/warning"
)

// Limits bound what one request may ask for.
type Limits struct {
	MaxBodyBytes  int64
	MaxComplexity int
	MaxTokens     int
	MaxDepth      int
	MaxAliases    int
	// MaxSelections bounds the fields of an operation once its fragments
	// are expanded (a fragment fan-out); MaxListLength any list in a body
	// (counted before it is decoded) and the lists of arguments for which
	// graph.ListMaxima names no smaller maximum.
	MaxSelections int
	MaxListLength int
	// MaxValidated bounds the work of validating a document: selections
	// walked (each fragment again for every operation and fragment that
	// reaches it) plus pairs of fields of one response name compared.
	MaxValidated   int
	RequestTimeout time.Duration
}

// DefaultLimits fit the API's own largest legitimate queries with room.
var DefaultLimits = Limits{
	MaxBodyBytes:   1 << 20,
	MaxComplexity:  5000,
	MaxTokens:      10000,
	MaxDepth:       12,
	MaxAliases:     30,
	MaxSelections:  5000,
	MaxListLength:  100,
	MaxValidated:   10000,
	RequestTimeout: 30 * time.Second,
}

// Config configures the HTTP handler.
type Config struct {
	// Production turns off introspection and GraphiQL.
	Production bool
	Limits     Limits
	// LoaderWait is how long a per-request loader gathers keys before it
	// reads them in one statement; zero means DefaultLoaderWait.
	LoaderWait time.Duration
}

// DefaultLoaderWait lets the resolvers of one list's rows, which run
// concurrently, reach a loader before it reads.
const DefaultLoaderWait = time.Millisecond

// Deps are the services the handler serves.
type Deps struct {
	DB       *db.DB
	Catalog  *catalog.Service
	Casework *casework.Service
	Matcher  *matchsvc.Service
	// Warning serves early warning; WarningFeed (one per process, made by
	// the hub) serves warningRaised.
	Warning     *warning.Service
	WarningFeed *warning.Feed
	Tokens      *auth.Tokens
	// Search serves searchResources; nil turns search off.
	Search search.Index
	Log    zerolog.Logger
	// Metrics, when set, receives the request metrics (the hub's
	// registry, hub.Hub.Metrics); serve them with MetricsHandler on the
	// admin address.
	Metrics prometheus.Registerer
	// Tracer, when set, gets a span for each GraphQL operation
	// (hub.Hub.Tracer; a no-op provider unless tracing is configured).
	Tracer trace.TracerProvider
}

// New returns the hub's HTTP handler. Whoever serves it calls
// CloseSubscriptions when shutting down (http.Server.RegisterOnShutdown)
// and then WaitSubscriptions.
func New(cfg Config, deps Deps) *Handler {
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	ws := newWebsockets()
	gql := newGraphQL(cfg, deps, ws)
	mux := http.NewServeMux()
	mux.Handle("/graphql", authenticate(deps.Tokens, limitBody(cfg.Limits.MaxBodyBytes, screenBody(cfg.Limits.MaxListLength, gql))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := deps.DB.PingContext(ctx); err != nil {
			requestLog(r.Context()).Warn().Err(err).Msg("readiness: database unreachable")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
			return
		}
		// Search down is degraded, not unready: writes still succeed and
		// reach the index through the outbox once it is back.
		body := map[string]string{"status": "ready", "database": "ok"}
		if deps.Search != nil {
			body["search"] = "ok"
			if err := deps.Search.Health(ctx); err != nil {
				requestLog(r.Context()).Warn().Err(err).Str("backend", deps.Search.Name()).Msg("readiness: search degraded")
				body["status"], body["search"] = "degraded", "unreachable"
			}
		}
		writeJSON(w, http.StatusOK, body)
	})
	if !cfg.Production {
		// Served from the binary: the explorer must work with no internet.
		ex := explorer.New("aidhub GraphiQL", "/graphql")
		mux.Handle("GET /{$}", ex.Page())
		mux.Handle("GET "+explorer.AssetsPrefix, ex.Assets())
	}
	var metrics *Metrics
	if deps.Metrics != nil {
		var err error
		if metrics, err = NewMetrics(deps.Metrics); err != nil {
			deps.Log.Error().Err(err).Msg("metrics: registering the request metrics failed; serving without them")
		}
	}
	return &Handler{Handler: requestLogging(deps.Log, metrics, mux), websockets: ws}
}

func newGraphQL(cfg Config, deps Deps, ws *websockets) http.Handler {
	es := graph.NewExecutableSchema(graph.Config{
		Resolvers: &graph.Resolver{CatalogService: deps.Catalog, Casework: deps.Casework, Matcher: deps.Matcher, Search: deps.Search,
			WarningService: deps.Warning, WarningFeed: deps.WarningFeed},
		Complexity: graph.Complexity(),
	})
	srv := handler.New(es)
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			p, err := principalFor(ctx, deps.Tokens, payload.Authorization())
			if err != nil {
				return ctx, nil, err
			}
			// The upgrade request carried no token (browsers cannot send
			// one): the connection's log line names the role it signs in as.
			if info := infoFrom(ctx); info != nil {
				info.setRole(string(p.Role))
			}
			return auth.WithPrincipal(ctx, p), nil, nil
		},
	})
	srv.AddTransport(httpTransport{}) // GET, POST and the rest: transport.go

	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(cfg.Limits.MaxTokens)
	srv.SetDisableSuggestion(cfg.Production)
	srv.SetValidationRulesFn(graph.ValidationRules(cfg.Production))
	if !cfg.Production {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	// The shape and list limits cost what the document weighs and run first:
	// the complexity walk costs what the operation expands to.
	srv.Use(&graph.ShapeLimits{MaxDepth: cfg.Limits.MaxDepth, MaxAliases: cfg.Limits.MaxAliases, MaxSelections: cfg.Limits.MaxSelections,
		MaxValidated: cfg.Limits.MaxValidated, MaxTokens: cfg.Limits.MaxTokens})
	srv.Use(graph.NewListLimits(cfg.Limits.MaxListLength))
	srv.Use(graph.PageRanges{}) // `first` out of range is BAD_USER_INPUT, not a cost
	srv.Use(extension.FixedComplexityLimit(cfg.Limits.MaxComplexity))
	if deps.Tracer != nil {
		srv.Use(tracing{tracer: deps.Tracer.Tracer("github.com/aidhub/aidhub/server")})
	}
	srv.AroundFields(graph.Authorize)
	loaders := domainLoaders(deps, cfg.LoaderWait)
	// Every response (a subscription's: every event) reads through fresh
	// loaders, and so does every mutation field: rows cached before a
	// write are not served after it.
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		return next(loaders(ctx))
	})
	srv.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
			ctx = loaders(ctx)
		}
		return next(ctx)
	})
	if deps.Matcher != nil {
		srv.AroundRootFields(readYourWrites(deps.Matcher))
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		if info := infoFrom(ctx); info != nil && oc.Operation != nil {
			// The parsed operation's name: a client need not send
			// operationName for a document with one operation.
			info.setOperation(oc.Operation.Name, string(oc.Operation.Operation))
		}
		return next(ctx)
	})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if info := infoFrom(ctx); info != nil && resp != nil {
			for _, e := range resp.Errors {
				if code, ok := e.Extensions["code"].(string); ok {
					info.addCode(code)
				}
			}
		}
		return resp
	})
	srv.SetErrorPresenter(graph.ErrorPresenter(deps.Log, cfg.Production))
	srv.SetRecoverFunc(graph.Recover(deps.Log))
	timeout := cfg.Limits.RequestTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			ws.serve(srv, w, r) // long-lived: no request timeout, closed on shutdown
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		srv.ServeHTTP(w, r.WithContext(ctx))
	})
}

// readYourWrites applies what each mutation field changed to this
// process's matcher once its resolver has returned (its transaction is
// over) and before the next field runs or the response is written, so the
// caller's next matching query sees its own writes. The re-matching jobs
// queued with the change still make suggestions and update the other
// processes.
func readYourWrites(m *matchsvc.Service) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		if oc := graphql.GetOperationContext(ctx); oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
			return next(ctx)
		}
		ctx, changes := matchsvc.WithChanges(ctx)
		out := next(ctx)
		// The write is committed whether or not the caller still waits.
		if err := m.Sync(context.WithoutCancel(ctx), changes); err != nil {
			requestLog(ctx).Warn().Err(err).Msg("matcher: applying the mutation's changes failed; its re-matching jobs will")
		}
		return out
	}
}

// authenticate puts the caller's principal into the request context. No
// token is an anonymous caller; a bad token is refused outright, because a
// client that sends one expects to be someone.
func authenticate(tokens *auth.Tokens, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := principalFor(r.Context(), tokens, r.Header.Get("Authorization"))
		if err != nil {
			if aidhub.ErrorCode(err) == aidhub.EINTERNAL {
				requestLog(r.Context()).Error().Err(err).Msg("authentication failed")
			}
			writeGraphQLError(w, r, http.StatusUnauthorized, err)
			return
		}
		if info := infoFrom(r.Context()); info != nil {
			info.setRole(string(p.Role))
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func principalFor(ctx context.Context, tokens *auth.Tokens, header string) (auth.Principal, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return auth.AnonymousPrincipal, nil
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return auth.AnonymousPrincipal, aidhub.Errorf(aidhub.EUNAUTHENTICATED, "the Authorization header must be `Bearer <token>`")
	}
	return tokens.Authenticate(ctx, strings.TrimSpace(token))
}

// domainLoaders returns what puts each domain's fresh per-request loaders
// into a context.
func domainLoaders(deps Deps, wait time.Duration) func(context.Context) context.Context {
	if wait == 0 {
		wait = DefaultLoaderWait
	}
	return func(ctx context.Context) context.Context {
		if deps.Catalog != nil {
			ctx = deps.Catalog.NewLoaderContext(ctx, wait)
		}
		if deps.Casework != nil {
			ctx = deps.Casework.NewLoaderContext(ctx, wait)
		}
		if deps.Warning != nil {
			ctx = deps.Warning.NewLoaderContext(ctx, wait)
		}
		return ctx
	}
}

// limitBody refuses bodies over max bytes with 413 before gqlgen reads them.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeGraphQLError(w, r, http.StatusRequestEntityTooLarge,
				aidhub.Errorf(aidhub.EBADINPUT, "the request body is larger than %d bytes", max))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

func writeGraphQLError(w http.ResponseWriter, r *http.Request, status int, err error) {
	code := aidhub.ErrorCode(err)
	if info := infoFrom(r.Context()); info != nil {
		info.addCode(code)
	}
	ct, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		ct = mediaJSON
	}
	w.Header().Set("Content-Type", ct)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="aidhub"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": aidhub.ErrorMessage(err), "extensions": map[string]string{"code": code}}},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// OrganizationRowID decodes an Organization global ID, for the command line.
func OrganizationRowID(id string) (int64, bool) {
	n, err := graph.DecodeOrganizationID(id)
	return n, err == nil
}
