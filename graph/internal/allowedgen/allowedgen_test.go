package main

import (
	"strings"
	"testing"

	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/graph"
)

const testSchema = `directive @allowed(roles: [Role!]!) on FIELD_DEFINITION
enum Role { ADMIN CHARITY }
type Query {
  "Public."
  open: Int
  secret(
    first: Int = 20
  ): [Thing!]! @deprecated(reason: "no")
}
"""
A thing.
"""
type Thing {
  """
  Long
  description.
  """
  a: Int!
  "Short."
  b(x: Int): String
  c: Int
}
extend type Query {
  more: Thing
}
`

var testRoles = map[string][]auth.Role{
	"Query.secret": {auth.Admin},
	"Thing.a":      {auth.Admin, auth.Charity},
	"Thing.b":      {auth.Admin},
	"Thing.c":      {auth.Charity},
	"Query.more":   {auth.Admin},
}

func testRolesFor(object, field string) ([]auth.Role, bool) {
	return testRoles[object+"."+field], true
}

func TestMark(t *testing.T) {
	files := []string{"s.graphqls"}
	out, err := mark(files, map[string]string{"s.graphqls": testSchema}, testRolesFor)
	if err != nil {
		t.Fatal(err)
	}
	got := out["s.graphqls"]
	for _, want := range []string{
		"  \"Public.\"\n  open: Int\n",
		"  secret(\n    first: Int = 20\n  ): [Thing!]! @allowed(roles: [ADMIN]) @deprecated(reason: \"no\")\n",
		"  description.\n  Allowed: ADMIN, CHARITY.\n  \"\"\"\n  a: Int! @allowed(roles: [ADMIN, CHARITY])\n",
		"  \"Short. Allowed: ADMIN.\"\n  b(x: Int): String @allowed(roles: [ADMIN])\n",
		"  \"Allowed: CHARITY.\"\n  c: Int @allowed(roles: [CHARITY])\n",
		"  \"Allowed: ADMIN.\"\n  more: Thing @allowed(roles: [ADMIN])\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	// Running again changes nothing; a changed policy replaces the marks.
	again, err := mark(files, out, testRolesFor)
	if err != nil || again["s.graphqls"] != got {
		t.Errorf("not idempotent (%v):\n%s", err, again["s.graphqls"])
	}
	testRoles["Thing.c"] = nil
	defer func() { testRoles["Thing.c"] = []auth.Role{auth.Charity} }()
	changed, err := mark(files, out, testRolesFor)
	if err != nil || !strings.Contains(changed["s.graphqls"], "  c: Int\n") || strings.Contains(changed["s.graphqls"], "Allowed: CHARITY.\"") {
		t.Errorf("public again, still marked (%v):\n%s", err, changed["s.graphqls"])
	}
}

func TestMark_RefusesAFieldWithoutRule(t *testing.T) {
	_, err := mark([]string{"s"}, map[string]string{"s": testSchema}, func(o, f string) ([]auth.Role, bool) { return nil, false })
	if err == nil {
		t.Fatal("no error for a field without a rule")
	}
}

func TestReplaceSection(t *testing.T) {
	doc := "a\n" + accessSection.begin + "\nold\n" + accessSection.end + "\nb\n"
	got, err := replaceSection(doc, accessSection, accessTable(map[string][]auth.Role{"Thing": {auth.Admin}, "Query": nil}, map[string][]auth.Role{"Thing.c": {auth.Charity}}))
	if err != nil {
		t.Fatal(err)
	}
	want := "a\n" + accessSection.begin + "\n| field | ANONYMOUS | ADMIN | CASE_MANAGER | CHARITY | DONOR | DATA_FEED |\n|---|---|---|---|---|---|---|\n" +
		"| `Thing` (every field not listed) | | ✓ | | | | |\n| `Thing.c` | | | | ✓ | | |\n" + accessSection.end + "\nb\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := replaceSection("no markers", accessSection, ""); err == nil {
		t.Error("no error without markers")
	}
	if _, err := replaceSection(doc, codesSection, ""); err == nil || !strings.Contains(err.Error(), codesSection.begin) {
		t.Errorf("no error naming the missing error-codes markers: %v", err)
	}
}

func TestNodeList(t *testing.T) {
	got := nodeList([]string{"Household", "Resource"}, map[string][]auth.Role{"Household": {auth.Admin, auth.Charity}})
	for _, want := range []string{
		"- ANONYMOUS: `Resource`\n", "- ADMIN: `Household`, `Resource`\n", "- CASE_MANAGER: `Resource`\n",
		"- CHARITY: `Household`, `Resource`\n", "- DONOR: `Resource`\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

func TestCodeTable(t *testing.T) {
	got := codeTable([]graph.ErrorCode{{Code: "NOT_FOUND", Meaning: "gone"}, {Code: "GRAPHQL_PARSE_FAILED", Protocol: true, Meaning: "not GraphQL"}})
	want := "| `extensions.code` | refused before running | meaning |\n|---|---|---|\n" +
		"| `NOT_FOUND` |  | gone |\n| `GRAPHQL_PARSE_FAILED` | ✓ | not GraphQL |\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
