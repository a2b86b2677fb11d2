package graph

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/zerolog"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
)

// TestPolicy_GatesSubscriptions checks that the field policy alone refuses
// matchSuggested to roles it does not name: the resolver checks no role.
// Refusals answer at once, so a plain POST is enough to see them.
func TestPolicy_GatesSubscriptions(t *testing.T) {
	for _, tc := range []struct {
		who  auth.Principal
		want string
	}{
		{auth.Principal{Role: auth.Anonymous}, aidhub.EUNAUTHENTICATED},
		{auth.Principal{Role: auth.Donor}, aidhub.EFORBIDDEN},
		{auth.Principal{Role: auth.Charity, OrganizationID: 1}, aidhub.EFORBIDDEN},
	} {
		srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{}}))
		srv.AddTransport(transport.POST{})
		srv.AroundFields(Authorize)
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			return next(auth.WithPrincipal(ctx, tc.who))
		})
		srv.SetErrorPresenter(ErrorPresenter(zerolog.Nop(), false))
		resp, err := client.New(srv).RawPost(`subscription { matchSuggested { score } }`)
		if err != nil {
			t.Fatal(err)
		}
		var errs []struct {
			Extensions struct{ Code string } `json:"extensions"`
		}
		if err := json.Unmarshal(resp.Errors, &errs); err != nil || len(errs) == 0 || errs[0].Extensions.Code != tc.want {
			t.Errorf("%s: errors %s, want %s", tc.who.Role, resp.Errors, tc.want)
		}
	}
}
