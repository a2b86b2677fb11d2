package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/regions"
)

func TestTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC) }
		tokens := auth.NewTokens(d, regions.Chongqing(), now)
		svc := catalog.NewService(d, regions.Chongqing(), audit.New(d, now), now)
		org, err := svc.CreateOrganization(auth.WithPrincipal(ctx, auth.System), catalog.NewOrganization{Name: "慈善会", Kind: catalog.KindCharity, DivisionCode: "500103"})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("round trip per role", func(t *testing.T) {
			for _, nt := range []auth.NewToken{
				{Role: auth.Admin},
				{Role: auth.Donor, Label: "基金会"},
				{Role: auth.Charity, OrganizationID: org.ID},
				{Role: auth.CaseManager, RegionPrefix: "500103001"},
			} {
				tok, err := tokens.Create(ctx, nt)
				if err != nil {
					t.Fatalf("%+v: %v", nt, err)
				}
				if !strings.HasPrefix(tok, auth.TokenPrefix) || len(tok) < 40 {
					t.Fatalf("token %q", tok)
				}
				p, err := tokens.Authenticate(ctx, tok)
				if err != nil {
					t.Fatal(err)
				}
				if p.Role != nt.Role || p.OrganizationID != nt.OrganizationID || p.RegionPrefix != nt.RegionPrefix || p.TokenID == 0 {
					t.Fatalf("principal %+v for %+v", p, nt)
				}
			}
		})

		t.Run("stored hashed", func(t *testing.T) {
			tok, err := tokens.Create(ctx, auth.NewToken{Role: auth.Admin})
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := d.NewSelect().TableExpr("api_tokens").ColumnExpr("count(*)").Where("token_hash = ?", tok).Scan(ctx, &n); err != nil || n != 0 {
				t.Fatalf("the clear token is stored (%d rows, %v)", n, err)
			}
		})

		t.Run("bad tokens", func(t *testing.T) {
			for _, tok := range []string{"", "aht_", "aht_unknown", "Bearer x", strings.Repeat("a", 500)} {
				if _, err := tokens.Authenticate(ctx, tok); aidhub.ErrorCode(err) != aidhub.EUNAUTHENTICATED {
					t.Errorf("%q: %v", tok, err)
				}
			}
		})

		t.Run("revoked", func(t *testing.T) {
			tok, _ := tokens.Create(ctx, auth.NewToken{Role: auth.Donor})
			p, _ := tokens.Authenticate(ctx, tok)
			if err := tokens.Revoke(ctx, p.TokenID); err != nil {
				t.Fatal(err)
			}
			if _, err := tokens.Authenticate(ctx, tok); aidhub.ErrorCode(err) != aidhub.EUNAUTHENTICATED {
				t.Fatalf("revoked token still works: %v", err)
			}
			if err := tokens.Revoke(ctx, p.TokenID); aidhub.ErrorCode(err) != aidhub.ENOTFOUND {
				t.Fatalf("second revoke: %v", err)
			}
		})

		t.Run("scope rules", func(t *testing.T) {
			for _, nt := range []auth.NewToken{
				{Role: auth.Charity},                             // no organization
				{Role: auth.Charity, OrganizationID: 999},        // unknown organization
				{Role: auth.CaseManager},                         // no region
				{Role: auth.CaseManager, RegionPrefix: "510104"}, // not Chongqing
				{Role: auth.CaseManager, RegionPrefix: "5001"},   // not a code
				{Role: auth.Admin, OrganizationID: org.ID},       // admin has no organization
				{Role: auth.Donor, RegionPrefix: "500103"},       // donor has no region
				{Role: "KING"}, // unknown role
				{Role: auth.Admin, Label: strings.Repeat("长", 101)}, // label too long
			} {
				if _, err := tokens.Create(ctx, nt); aidhub.ErrorCode(err) != aidhub.EBADINPUT {
					t.Errorf("%+v: %v", nt, err)
				}
			}
		})
	})
}

func TestPrincipal_Require(t *testing.T) {
	if err := auth.AnonymousPrincipal.Require("x", auth.Admin); aidhub.ErrorCode(err) != aidhub.EUNAUTHENTICATED {
		t.Fatal(err)
	}
	if err := (auth.Principal{Role: auth.Donor}).Require("x", auth.Admin); aidhub.ErrorCode(err) != aidhub.EFORBIDDEN {
		t.Fatal(err)
	}
	if err := (auth.Principal{Role: auth.Admin}).Require("x", auth.Admin, auth.Charity); err != nil {
		t.Fatal(err)
	}
	if auth.FromContext(context.Background()).Role != auth.Anonymous {
		t.Fatal("no principal must mean anonymous")
	}
	if r, ok := auth.ParseRole(" case_manager "); !ok || r != auth.CaseManager {
		t.Fatal("ParseRole")
	}
}
