package synthpop_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/matching"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/residentid"
	"github.com/aidhub/aidhub/secret"
	"github.com/aidhub/aidhub/synthpop"
)

// fixedNow is the tests' clock: 2026-11-28 12:00 in Chongqing.
func fixedNow() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }

var adminCtx = auth.WithPrincipal(context.Background(), auth.Principal{TokenID: 1, Role: auth.Admin})

func testKeys(t testing.TB) *secret.Keys {
	t.Helper()
	k, err := secret.NewKeys(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// store is a migrated store with the default catalog and the services
// over it.
type store struct {
	d        *db.DB
	keys     *secret.Keys
	catalog  *catalog.Service
	casework *casework.Service
	cat      *catalog.Catalog
}

func newStore(t *testing.T, d *db.DB) *store {
	t.Helper()
	ctx := context.Background()
	dir := regions.Chongqing()
	s := &store{d: d, keys: testKeys(t)}
	log := audit.New(d, fixedNow)
	s.catalog = catalog.NewService(d, dir, log, fixedNow, catalog.WithRuleCheck(matching.CheckRule))
	if _, err := s.catalog.SeedDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	s.casework = casework.NewService(d, dir, s.keys, s.catalog, log, fixedNow)
	var err error
	if s.cat, err = s.catalog.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *store) generate(t *testing.T, persons, resources int, seed int64) synthpop.Report {
	t.Helper()
	var phases []string
	rep, err := synthpop.Run(context.Background(), s.d, s.keys, s.cat, regions.Chongqing(), synthpop.Options{
		Persons: persons, Resources: resources, Seed: seed, Today: fixedNow(),
		Progress: func(phase string, done, total int) {
			if len(phases) == 0 || phases[len(phases)-1] != phase {
				phases = append(phases, phase)
			}
			if done > total {
				t.Errorf("progress %s: %d of %d", phase, done, total)
			}
		},
	})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	want := "resources,population,finish"
	if s.d.IsPostgres() {
		want = "resources,population,indexes,finish"
	}
	if got := strings.Join(phases, ","); got != want {
		t.Errorf("progress phases %s", got)
	}
	return rep
}

func (s *store) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.d.DB.DB.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStore(t, d)
		schema := schemaOf(t, s)
		rep := s.generate(t, 2000, 50, 42)
		if got := schemaOf(t, s); !slices.Equal(got, schema) {
			t.Errorf("constraints and indexes after generating:\n%s\nbefore:\n%s", strings.Join(got, "\n"), strings.Join(schema, "\n"))
		}

		t.Run("counts", func(t *testing.T) {
			if rep.Persons != 2000 || rep.Resources != 50 {
				t.Fatalf("report: %d persons, %d resources", rep.Persons, rep.Resources)
			}
			for table, want := range map[string]int{
				"organizations": rep.Organizations, "resources": rep.Resources, "resource_items": rep.ResourceItems,
				"resource_groups": rep.ResourceGroups, "resource_coverage": rep.ResourceCoverage,
				"households": rep.Households, "persons": rep.Persons, "group_memberships": rep.Memberships,
				"consents": rep.Consents, "assessments": rep.Assessments, "needs": rep.Needs,
				"referrals": rep.Referrals, "referral_events": rep.ReferralEvents, "aid_records": rep.AidRecords,
				"signals": rep.Signals,
			} {
				if got := s.count(t, "SELECT COUNT(*) FROM "+table); got != want {
					t.Errorf("%s: %d rows, the report says %d", table, got, want)
				}
				if want == 0 && table != "referrals" && table != "referral_events" {
					t.Errorf("%s: no rows", table)
				}
			}
			if rep.Organizations != 20 {
				t.Errorf("%d organizations for 50 resources, want 20", rep.Organizations)
			}
			total := 0
			for _, n := range rep.Groups {
				total += n
			}
			if total != rep.Memberships {
				t.Errorf("groups in the report add up to %d, memberships %d", total, rep.Memberships)
			}
			if rep.Rows() == 0 || rep.RowsPerSecond() <= 0 {
				t.Errorf("rows %d, rate %f", rep.Rows(), rep.RowsPerSecond())
			}
			// every person has a group, every household exactly one head
			if n := s.count(t, "SELECT COUNT(*) FROM persons p WHERE NOT EXISTS (SELECT 1 FROM group_memberships g WHERE g.person_id = p.id)"); n != 0 {
				t.Errorf("%d persons without a group", n)
			}
			if n := s.count(t, "SELECT COUNT(*) FROM households h WHERE (SELECT COUNT(*) FROM persons p WHERE p.household_id = h.id AND p.relation = 'HEAD') <> 1"); n != 0 {
				t.Errorf("%d households without exactly one head", n)
			}
		})

		t.Run("resident IDs", func(t *testing.T) {
			checkResidentIDs(t, s)
		})

		t.Run("regions are real villages", func(t *testing.T) {
			dir := regions.Chongqing()
			for _, q := range []string{"SELECT region_code FROM households", "SELECT division_code FROM resources",
				"SELECT division_prefix FROM resource_coverage", "SELECT division_code FROM organizations"} {
				rows, err := s.d.DB.DB.QueryContext(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var code string
					if err := rows.Scan(&code); err != nil {
						t.Fatal(err)
					}
					var reason string
					if strings.HasPrefix(q, "SELECT region_code") || strings.HasPrefix(q, "SELECT division_code FROM resources") {
						reason = dir.Check(code, regions.Village)
					} else {
						reason = dir.Check(code)
					}
					if reason != "" {
						t.Errorf("%s: %s", q, reason)
					}
				}
				rows.Close()
			}
		})

		t.Run("resources", func(t *testing.T) {
			checkResources(t, s)
		})

		t.Run("same seed same rows", func(t *testing.T) {
			var other *store
			if d.IsPostgres() {
				other = newStore(t, dbtest.Postgres(t))
			} else {
				other = newStore(t, dbtest.SQLite(t))
			}
			other.generate(t, 2000, 50, 42)
			a, b := digests(t, s), digests(t, other)
			for table, da := range a {
				if b[table] != da {
					t.Errorf("%s differs between two runs with the same seed", table)
				}
			}
		})

		t.Run("the hub works on it", func(t *testing.T) {
			var maxHousehold, maxPerson, maxOrg int
			maxHousehold = s.count(t, "SELECT MAX(id) FROM households")
			maxPerson = s.count(t, "SELECT MAX(id) FROM persons")
			maxOrg = s.count(t, "SELECT MAX(id) FROM organizations")
			village := "500103001003"
			h, persons, err := s.casework.RegisterHousehold(adminCtx, casework.HouseholdInput{
				RegionCode: village, MonthlyIncomeFen: 50_000,
				Members: []casework.PersonInput{{Name: "测试", ResidentID: residentID("500103", "19991231", 999), Relation: "HEAD",
					Groups: []casework.MembershipInput{{GroupCode: "DIBAO", Since: aidhub.DateOf(fixedNow())}}}},
			})
			if err != nil {
				t.Fatalf("register household: %v", err)
			}
			if h.ID != int64(maxHousehold+1) || persons[0].ID != int64(maxPerson+1) {
				t.Errorf("new household %d and person %d, want %d and %d", h.ID, persons[0].ID, maxHousehold+1, maxPerson+1)
			}
			o, err := s.catalog.CreateOrganization(adminCtx, catalog.NewOrganization{Name: "测试慈善会", Kind: catalog.KindCharity, DivisionCode: "500103"})
			if err != nil {
				t.Fatalf("create organization: %v", err)
			}
			if o.ID != int64(maxOrg+1) {
				t.Errorf("new organization %d, want %d", o.ID, maxOrg+1)
			}
			// a generated resident ID is found as a duplicate
			var sealed, index []byte
			if err := s.d.DB.DB.QueryRowContext(context.Background(), "SELECT resident_id_sealed, resident_id_index FROM persons WHERE id = 1").Scan(&sealed, &index); err != nil {
				t.Fatal(err)
			}
			plain, err := s.keys.Open(sealed, index)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = s.casework.RegisterHousehold(adminCtx, casework.HouseholdInput{
				RegionCode: village, Members: []casework.PersonInput{{Name: "重复", ResidentID: string(plain), Relation: "HEAD"}},
			})
			if code := aidhub.ErrorCode(err); code != aidhub.ECONFLICT {
				t.Errorf("registering a generated resident ID again: %v, want CONFLICT", err)
			}
		})

		t.Run("signals", func(t *testing.T) {
			// before today (2026-11-28), in the 12 months up to its month
			if n := s.count(t, "SELECT COUNT(*) FROM signals WHERE observed_on >= '2026-11-28' OR observed_on < '2025-12-01'"); n != 0 {
				t.Errorf("%d signals outside 2025-12-01 … 2026-11-27", n)
			}
			if n := s.count(t, "SELECT COUNT(*) FROM signals s WHERE s.person_id IS NOT NULL AND NOT EXISTS "+
				"(SELECT 1 FROM persons p WHERE p.id = s.person_id AND p.household_id = s.household_id)"); n != 0 {
				t.Errorf("%d signals of a person of another household", n)
			}
			g := rep.GroundTruth()
			if g.First.String() != "2025-12" || g.Last.String() != "2026-11" || g.Flood.District != "500101" || len(g.Shocks) == 0 {
				t.Fatalf("ground truth %s … %s, flood %+v, %d shocks", g.First, g.Last, g.Flood, len(g.Shocks))
			}
			for _, sh := range g.Shocks {
				if n := s.count(t, fmt.Sprintf("SELECT COUNT(*) FROM signals WHERE household_id = %d AND month = %d", sh.HouseholdID, sh.Month)); n == 0 {
					t.Errorf("shock %+v: the household has no signal that month", sh)
				}
			}
		})

		t.Run("refuses a store with households", func(t *testing.T) {
			before := s.count(t, "SELECT COUNT(*) FROM persons")
			_, err := synthpop.Run(context.Background(), s.d, s.keys, s.cat, regions.Chongqing(), synthpop.Options{Persons: 10, Resources: 1, Seed: 1, Today: fixedNow()})
			if !errors.Is(err, synthpop.ErrNotEmpty) {
				t.Fatalf("second run: %v, want ErrNotEmpty", err)
			}
			if after := s.count(t, "SELECT COUNT(*) FROM persons"); after != before {
				t.Errorf("persons %d → %d after a refused run", before, after)
			}
			if got := schemaOf(t, s); !slices.Equal(got, schema) {
				t.Errorf("constraints and indexes after a refused run:\n%s", strings.Join(got, "\n"))
			}
		})
	})
}

func TestRunRefusesBadOptions(t *testing.T) {
	d := dbtest.SQLite(t)
	s := newStore(t, d)
	for _, o := range []synthpop.Options{{Persons: -1}, {Resources: -1}, {Persons: synthpop.MaxPersons + 1}} {
		if _, err := synthpop.Run(context.Background(), d, s.keys, s.cat, regions.Chongqing(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if _, err := synthpop.Run(context.Background(), d, nil, s.cat, regions.Chongqing(), synthpop.Options{Persons: 1}); err == nil {
		t.Error("no keys: no error")
	}
}

// checkResidentIDs opens every resident ID, validates it and checks that
// the blind index, birth date, sex and region agree with it and that no
// two persons share one.
func checkResidentIDs(t *testing.T, s *store) {
	t.Helper()
	rows, err := s.d.DB.DB.QueryContext(context.Background(),
		"SELECT p.id, p.resident_id_index, p.resident_id_sealed, p.birth_date, p.female, h.region_code FROM persons p JOIN households h ON h.id = p.household_id ORDER BY p.id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	n := 0
	for rows.Next() {
		var (
			id            int64
			index, sealed []byte
			birth         aidhub.Date
			female        bool
			region        string
		)
		if err := rows.Scan(&id, &index, &sealed, &birth, &female, &region); err != nil {
			t.Fatal(err)
		}
		n++
		plain, err := s.keys.Open(sealed, index)
		if err != nil {
			t.Fatalf("person %d: the resident ID does not open: %v", id, err)
		}
		rid, err := residentid.Parse(string(plain), fixedNow())
		if err != nil {
			t.Fatalf("person %d: invalid resident ID: %v", id, err)
		}
		want, _, err := casework.SealResidentID(s.keys, rid)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, index) {
			t.Fatalf("person %d: the blind index does not match the resident ID", id)
		}
		if !rid.BirthDate().Equal(birth.Time) || rid.Female() != female {
			t.Fatalf("person %d: birth date %s, female %v disagree with the resident ID", id, birth, female)
		}
		if rid.Region() != region[:6] {
			t.Fatalf("person %d: resident ID region %s, household in %s", id, rid.Region(), region)
		}
		if seen[string(rid)] {
			t.Fatalf("person %d: resident ID given twice", id)
		}
		seen[string(rid)] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no persons")
	}
}

// checkResources checks what the generated resources offer.
func checkResources(t *testing.T, s *store) {
	t.Helper()
	ctx := context.Background()
	if n := s.count(t, "SELECT COUNT(*) FROM resources WHERE status <> 'PUBLISHED' OR units_taken > capacity_units OR capacity_units < 10 OR capacity_units > 1000"); n != 0 {
		t.Errorf("%d resources not published or with capacity out of range", n)
	}
	// items of one category, 1–3
	if n := s.count(t, `SELECT COUNT(*) FROM (SELECT ri.resource_id FROM resource_items ri JOIN service_items si ON si.code = ri.item_code
		GROUP BY ri.resource_id HAVING COUNT(DISTINCT si.category_code) <> 1 OR COUNT(*) > 3) x`); n != 0 {
		t.Errorf("%d resources with items of several categories or more than 3", n)
	}
	if n := s.count(t, "SELECT COUNT(*) FROM resources r WHERE NOT EXISTS (SELECT 1 FROM resource_items ri WHERE ri.resource_id = r.id) OR NOT EXISTS (SELECT 1 FROM resource_coverage c WHERE c.resource_id = r.id)"); n != 0 {
		t.Errorf("%d resources without items or coverage", n)
	}
	if n := s.count(t, "SELECT COUNT(*) FROM (SELECT resource_id FROM resource_groups GROUP BY resource_id HAVING COUNT(*) > 3) x"); n != 0 {
		t.Errorf("%d resources with more than 3 groups", n)
	}
	rows, err := s.d.DB.DB.QueryContext(ctx, "SELECT eligibility_rule FROM resources WHERE eligibility_rule <> ''")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var rule string
		if err := rows.Scan(&rule); err != nil {
			t.Fatal(err)
		}
		if err := matching.CheckRule(rule); err != nil {
			t.Errorf("rule %q: %v", rule, err)
		}
	}
	// every resource loads through the catalog service
	for id := int64(1); id <= 50; id++ {
		r, err := s.catalog.Resource(adminCtx, id)
		if err != nil {
			t.Fatalf("resource %d: %v", id, err)
		}
		if len(r.ItemCodes) == 0 || len(r.Coverage) == 0 {
			t.Fatalf("resource %d loads without items or coverage", id)
		}
	}
}

// digests hashes each generated table in id order, with the sealed
// resident IDs replaced by what they open to (their nonces are random).
func digests(t *testing.T, s *store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range []string{"organizations", "resources", "resource_items", "resource_groups", "resource_coverage",
		"households", "persons", "group_memberships", "consents", "assessments", "needs", "referrals", "referral_events", "aid_records", "signals"} {
		order := "id"
		switch table {
		case "resource_items", "resource_groups", "resource_coverage":
			order = "1, 2"
		}
		rows, err := s.d.DB.DB.QueryContext(context.Background(), "SELECT * FROM "+table+" ORDER BY "+order)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		h := sha256.New()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var index []byte
			for i, c := range cols {
				if c == "resident_id_index" {
					index = vals[i].([]byte)
				}
			}
			for i, c := range cols {
				v := vals[i]
				if c == "resident_id_sealed" {
					plain, err := s.keys.Open(v.([]byte), index)
					if err != nil {
						t.Fatal(err)
					}
					v = string(plain)
				}
				switch x := v.(type) {
				case []byte:
					v = hex.EncodeToString(x)
				case time.Time:
					v = x.UTC().Format(time.RFC3339Nano)
				}
				fmt.Fprintf(h, "%s=%v\x00", c, v)
			}
			h.Write([]byte{'\n'})
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		out[table] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// schemaOf lists the constraints and indexes of the generated tables
// (PostgreSQL drops and restores them while generating; SQLite keeps them).
func schemaOf(t *testing.T, s *store) []string {
	t.Helper()
	if !s.d.IsPostgres() {
		return nil
	}
	rows, err := s.d.DB.DB.QueryContext(context.Background(), `
		SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid::regclass::text IN ('households', 'persons', 'group_memberships', 'needs', 'aid_records', 'referrals', 'organizations', 'resources', 'resource_items')
		UNION ALL
		SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var x string
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	if len(out) < 30 {
		t.Fatalf("only %d constraints and indexes", len(out))
	}
	return out
}

// residentID builds a valid GB 11643 number.
func residentID(region, birth string, seq int) string {
	s := fmt.Sprintf("%s%s%03d", region, birth, seq)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	return s + string("10X98765432"[sum%11])
}

// TestRunCancelled cancels a run halfway: nothing is left behind.
func TestRunCancelled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStore(t, d)
		schema := schemaOf(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := synthpop.Run(ctx, s.d, s.keys, s.cat, regions.Chongqing(), synthpop.Options{
			Persons: 30_000, Resources: 10, Seed: 1, Today: fixedNow(),
			Progress: func(phase string, done, total int) {
				if phase == "population" { // with resources written
					cancel()
				}
			},
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled run: %v", err)
		}
		for _, table := range []string{"households", "persons", "organizations", "resources"} {
			if n := s.count(t, "SELECT COUNT(*) FROM "+table); n != 0 {
				t.Errorf("%d rows in %s after a cancelled run", n, table)
			}
		}
		if got := schemaOf(t, s); !slices.Equal(got, schema) {
			t.Errorf("constraints and indexes after a cancelled run:\n%s", strings.Join(got, "\n"))
		}
		// and the store takes a run afterwards
		s.generate(t, 100, 5, 1)
	})
}
