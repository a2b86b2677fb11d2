package casework_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

func TestRegisterHousehold(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()

		headID := makeID("500103", time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC), 123) // odd: male
		spouseID := makeID("500104", time.Date(1963, 12, 31, 0, 0, 0, 0, time.UTC), 246)
		// A 15-digit number of 1999 or before: 1968-07-05, sequence 358.
		child15 := "500103680705358"
		child18 := "50010319680705358" + string(checkChar("50010319680705358"))
		// A number whose check character is X, typed in lower case.
		var lower string
		for seq := 2; !strings.HasSuffix(lower, "x"); seq += 2 {
			lower = strings.ToLower(makeID("500103", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), seq))
		}
		in := casework.HouseholdInput{
			ExternalID: ptr(" EXT-1 "), RegionCode: huayipo, Address: " 七星岗街道中山一路 8 号 ",
			MonthlyIncomeFen: 120_000, MedicalSpendingFen: 30_000, EducationSpendingFen: 10_000, HousingSpendingFen: 5_000, OtherSpendingFen: 1,
			Members: []casework.PersonInput{
				{Name: " 王建国 ", ResidentID: " " + headID + " ", Relation: "HEAD", Groups: []casework.MembershipInput{
					{GroupCode: "DIBAO", Since: date(t, "2024-01-01")},
					{GroupCode: "DISABILITY", Since: date(t, "2020-05-01"), Until: ptr(date(t, "2025-04-30"))},
				}},
				{Name: "李秀英", ResidentID: spouseID, Relation: "SPOUSE", ExternalID: ptr("P-2")},
				{Name: "王小明", ResidentID: child15, Relation: "CHILD"},
				{Name: "王小红", ResidentID: lower, Relation: "CHILD"},
			},
		}
		h, ps, err := f.svc.RegisterHousehold(cmCtx, in)
		if err != nil {
			t.Fatal(err)
		}
		if h.ID == 0 || *h.ExternalID != "EXT-1" || h.RegionCode != huayipo || h.Address != "七星岗街道中山一路 8 号" ||
			h.MonthlyIncomeFen != 120_000 || h.MedicalSpendingFen != 30_000 || h.EducationSpendingFen != 10_000 ||
			h.HousingSpendingFen != 5_000 || h.OtherSpendingFen != 1 || h.Version != 1 || !h.CreatedAt.Equal(fixedNow()) {
			t.Errorf("household %+v", h)
		}
		if len(ps) != 4 {
			t.Fatalf("%d persons", len(ps))
		}
		head, spouse, child, girl := ps[0], ps[1], ps[2], ps[3]
		if head.Name != "王建国" || head.Relation != "HEAD" || head.BirthDate.String() != "1961-03-09" || head.Female ||
			head.HouseholdID != h.ID || head.PossibleDuplicateOf != nil || head.ExternalID != nil {
			t.Errorf("head %+v", head)
		}
		if !spouse.Female || spouse.BirthDate.String() != "1963-12-31" || *spouse.ExternalID != "P-2" {
			t.Errorf("spouse %+v", spouse)
		}
		if child.BirthDate.String() != "1968-07-05" || !child.Female { // sequence 358: even
			t.Errorf("15-digit child %+v", child)
		}
		if !girl.Female {
			t.Errorf("girl %+v", girl)
		}

		// Read back as stored.
		got, err := f.svc.Household(cmCtx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != h.ID || *got.ExternalID != "EXT-1" || got.MonthlyIncomeFen != 120_000 || got.RegionCode != huayipo {
			t.Errorf("stored household %+v", got)
		}
		stored, err := f.svc.Persons(cmCtx, got)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 4 || stored[0].ID != head.ID || stored[2].BirthDate.String() != "1968-07-05" {
			t.Fatalf("stored persons %+v", stored)
		}
		ms, err := f.svc.Memberships(ctx, head.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || ms[0].GroupCode != "DISABILITY" || ms[1].GroupCode != "DIBAO" ||
			ms[0].Until == nil || ms[0].Until.String() != "2025-04-30" || ms[1].Until != nil {
			t.Fatalf("memberships %+v", ms)
		}
		if ms[0].ActiveOn(f.today()) || !ms[1].ActiveOn(f.today()) {
			t.Errorf("active: disability %v dibao %v", ms[0].ActiveOn(f.today()), ms[1].ActiveOn(f.today()))
		}
		if a := head.Age(f.today()); a != 65 {
			t.Errorf("head age %d, want 65", a)
		}

		// The 15-digit number is stored converted: revealing gives 18.
		full, err := f.svc.RevealResidentID(cmCtx, child.ID, "核对户口本")
		if err != nil {
			t.Fatal(err)
		}
		if full != child18 {
			t.Errorf("revealed %s, want the converted 18-digit number", full[:6])
		}
		if full, err = f.svc.RevealResidentID(cmCtx, girl.ID, "核对户口本"); err != nil || full != strings.ToUpper(lower) {
			t.Errorf("lower-case x stored as %v, %v", full[:6], err)
		}

		// The register is audited without personal data.
		es := auditEntries(t, d)
		if len(es) != 3 || es[0].Action != "registerHousehold" || es[0].SubjectType != "Household" || *es[0].SubjectID != h.ID ||
			es[0].Role != "CASE_MANAGER" || es[0].RegionPrefix != yuzhong || *es[0].TokenID != 3 {
			t.Fatalf("audit %+v", es)
		}
		if !strings.Contains(es[0].Summary, `"persons":4`) || !strings.Contains(es[0].Summary, huayipo) {
			t.Errorf("summary %s", es[0].Summary)
		}

		// No column of any casework table holds a number, or its 15-digit
		// form, or a name... except the names in persons.name.
		secrets := []string{headID, spouseID, child15, child18, strings.ToUpper(lower), headID[6:14] + headID[14:]}
		for _, table := range caseworkTables {
			for _, row := range rawRows(t, d, table) {
				for col, v := range row {
					text := cellText(v)
					for _, s := range secrets {
						if strings.Contains(text, s) {
							t.Errorf("%s.%s holds a resident ID in clear", table, col)
						}
					}
					if table != "persons" {
						for _, name := range []string{"王建国", "李秀英", "王小明"} {
							if strings.Contains(text, name) {
								t.Errorf("%s.%s holds a name", table, col)
							}
						}
					}
				}
			}
		}
		// The stored index and ciphertext are not the number in any encoding.
		for _, row := range rawRows(t, d, "persons") {
			for _, col := range []string{"resident_id_index", "resident_id_sealed"} {
				b, ok := row[col].([]byte)
				if !ok || len(b) < 32 {
					t.Fatalf("%s is %T of %d bytes", col, row[col], len(b))
				}
				if strings.Contains(fmt.Sprintf("%x", b), fmt.Sprintf("%x", headID)) {
					t.Errorf("%s holds the number", col)
				}
			}
		}

		t.Run("FilterByResidentID", func(t *testing.T) {
			f.register(t, cmCtx, linhualu, person("赵六", "HEAD"))
			p, err := f.svc.Households(cmCtx, casework.HouseholdFilter{ResidentID: child15}, page(10))
			if err != nil {
				t.Fatal(err)
			}
			if p.TotalCount != 1 || len(p.Items) != 1 || p.Items[0].ID != h.ID {
				t.Fatalf("by resident ID: %+v", p)
			}
			p, err = f.svc.Households(cmCtx, casework.HouseholdFilter{GroupCode: "DIBAO"}, page(10))
			if err != nil || p.TotalCount != 1 || p.Items[0].ID != h.ID {
				t.Fatalf("by group: %+v, %v", p, err)
			}
			p, err = f.svc.Households(cmCtx, casework.HouseholdFilter{GroupCode: "DISABILITY"}, page(10))
			if err != nil || p.TotalCount != 0 {
				t.Fatalf("by expired group: %+v, %v", p, err)
			}
			_, err = f.svc.Households(cmCtx, casework.HouseholdFilter{ResidentID: wrongCheck(headID)}, page(10))
			wantInvalid(t, err, "residentId")
			wantNoMessage(t, err, headID[:14])
		})
	})
}

func TestRegisterHousehold_BadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		valid := func() casework.HouseholdInput {
			return casework.HouseholdInput{RegionCode: huayipo, Members: []casework.PersonInput{
				person("张三", "HEAD"), person("李四", "SPOUSE"),
			}}
		}
		future := makeID("500103", fixedNow().AddDate(0, 0, 2), 11)
		cases := []struct {
			name  string
			edit  func(in *casework.HouseholdInput)
			field string
		}{
			{"WrongCheckDigit", func(in *casework.HouseholdInput) { in.Members[1].ResidentID = wrongCheck(in.Members[1].ResidentID) }, "members[1].residentId"},
			{"FutureBirthDate", func(in *casework.HouseholdInput) { in.Members[0].ResidentID = future }, "members[0].residentId"},
			{"ImpossibleBirthDate", func(in *casework.HouseholdInput) {
				s := "50010319990230123"
				in.Members[0].ResidentID = s + string(checkChar(s))
			}, "members[0].residentId"},
			{"BirthBefore1900", func(in *casework.HouseholdInput) {
				in.Members[0].ResidentID = makeID("500103", time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC), 1)
			}, "members[0].residentId"},
			{"BadProvince", func(in *casework.HouseholdInput) {
				in.Members[0].ResidentID = makeID("990103", time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), 1)
			}, "members[0].residentId"},
			{"ShortID", func(in *casework.HouseholdInput) { in.Members[0].ResidentID = "5001031980" }, "members[0].residentId"},
			{"UnknownVillage", func(in *casework.HouseholdInput) { in.RegionCode = "500103001999" }, "regionCode"},
			{"StreetNotVillage", func(in *casework.HouseholdInput) { in.RegionCode = "500103001" }, "regionCode"},
			{"DistrictNotVillage", func(in *casework.HouseholdInput) { in.RegionCode = yuzhong }, "regionCode"},
			{"OutsideChongqing", func(in *casework.HouseholdInput) { in.RegionCode = "510104001001" }, "regionCode"},
			{"NotDigits", func(in *casework.HouseholdInput) { in.RegionCode = "50010300100A" }, "regionCode"},
			{"NoHead", func(in *casework.HouseholdInput) { in.Members[0].Relation = "CHILD" }, "members"},
			{"TwoHeads", func(in *casework.HouseholdInput) { in.Members[1].Relation = "HEAD" }, "members"},
			{"NoMembers", func(in *casework.HouseholdInput) { in.Members = nil }, "members"},
			{"DuplicateIDInHousehold", func(in *casework.HouseholdInput) { in.Members[1].ResidentID = in.Members[0].ResidentID }, "members[1].residentId"},
			{"DuplicateIDOther15Form", func(in *casework.HouseholdInput) {
				in.Members[0].ResidentID = "500103680705357"
				s := "50010319680705357"
				in.Members[1].ResidentID = s + string(checkChar(s))
			}, "members[1].residentId"},
			{"NegativeIncome", func(in *casework.HouseholdInput) { in.MonthlyIncomeFen = -1 }, "monthlyIncomeFen"},
			{"NegativeMedical", func(in *casework.HouseholdInput) { in.MedicalSpendingFen = -100 }, "spending.medicalFen"},
			{"HugeHousing", func(in *casework.HouseholdInput) { in.HousingSpendingFen = 1 << 40 }, "spending.housingFen"},
			{"UnknownRelation", func(in *casework.HouseholdInput) { in.Members[1].Relation = "COUSIN" }, "members[1].relation"},
			{"EmptyName", func(in *casework.HouseholdInput) { in.Members[1].Name = "  " }, "members[1].name"},
			{"UnknownGroup", func(in *casework.HouseholdInput) {
				in.Members[0].Groups = []casework.MembershipInput{{GroupCode: "VIP", Since: date(t, "2025-01-01")}}
			}, "members[0].groups[0].groupCode"},
			{"GroupWithoutSince", func(in *casework.HouseholdInput) {
				in.Members[0].Groups = []casework.MembershipInput{{GroupCode: "DIBAO"}}
			}, "members[0].groups[0].since"},
			{"GroupUntilBeforeSince", func(in *casework.HouseholdInput) {
				in.Members[0].Groups = []casework.MembershipInput{{GroupCode: "DIBAO", Since: date(t, "2025-01-01"), Until: ptr(date(t, "2024-12-31"))}}
			}, "members[0].groups[0].until"},
		}
		before := rowCounts(t, d)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := valid()
				c.edit(&in)
				ids := []string{}
				for _, m := range in.Members {
					ids = append(ids, m.ResidentID)
				}
				_, _, err := f.svc.RegisterHousehold(cmCtx, in)
				wantInvalid(t, err, c.field)
				// The message never quotes a number.
				for _, id := range ids {
					if len(id) >= 15 {
						wantNoMessage(t, err, id[:15])
					}
				}
				unchanged(t, d, before)
			})
		}
	})
}

func TestRegisterHousehold_Conflicts(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h1, ps1 := f.family(t)

		t.Run("ResidentIDOnFile", func(t *testing.T) {
			dup := person("另一个人", "HEAD")
			dup.ResidentID = strings.ToLower(ps1RevealOrKeep(t, f, ps1[1]))
			before := rowCounts(t, d)
			_, _, err := f.svc.RegisterHousehold(cmCtx, casework.HouseholdInput{RegionCode: linhualu, Members: []casework.PersonInput{person("甲", "SPOUSE"), dup}})
			wantCode(t, err, aidhub.ECONFLICT)
			var e *aidhub.Error
			errors.As(err, &e)
			if e.Existing == nil || e.Existing.Type != "Person" || e.Existing.ID != ps1[1].ID || e.Field != "residentId" {
				t.Fatalf("conflict %+v, want existing person %d", e, ps1[1].ID)
			}
			unchanged(t, d, before)
		})
		t.Run("AddPersonOnFile", func(t *testing.T) {
			in := person("乙", "CHILD")
			in.ResidentID = ps1RevealOrKeep(t, f, ps1[2])
			before := rowCounts(t, d)
			_, err := f.svc.AddPerson(cmCtx, h1.ID, in)
			wantCode(t, err, aidhub.ECONFLICT)
			var e *aidhub.Error
			errors.As(err, &e)
			if e.Existing == nil || e.Existing.ID != ps1[2].ID {
				t.Fatalf("conflict %+v", e)
			}
			unchanged(t, d, before)
		})
		t.Run("ExternalIDOnFile", func(t *testing.T) {
			in := casework.HouseholdInput{ExternalID: ptr("X-1"), RegionCode: huayipo, Members: []casework.PersonInput{person("丙", "HEAD")}}
			if _, _, err := f.svc.RegisterHousehold(cmCtx, in); err != nil {
				t.Fatal(err)
			}
			before := rowCounts(t, d)
			in.Members = []casework.PersonInput{person("丁", "HEAD")}
			_, _, err := f.svc.RegisterHousehold(cmCtx, in)
			wantCode(t, err, aidhub.ECONFLICT)
			unchanged(t, d, before)
		})
	})
}

// ps1RevealOrKeep reveals a person's number as the case manager.
func ps1RevealOrKeep(t *testing.T, f *fixture, p *casework.Person) string {
	t.Helper()
	id, err := f.svc.RevealResidentID(cmCtx, p.ID, "查重测试")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRegisterHousehold_PossibleDuplicate(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		birth := time.Date(1975, 6, 15, 0, 0, 0, 0, time.UTC)
		mk := func(name string, seq int) casework.PersonInput {
			return casework.PersonInput{Name: name, ResidentID: makeID(yuzhong, birth, seq), Relation: "HEAD"}
		}
		_, first := f.register(t, cmCtx, huayipo, mk("张伟", 101))
		_, twin := f.register(t, cmCtx, huayipo, mk("张伟", 103))
		if twin[0].PossibleDuplicateOf == nil || *twin[0].PossibleDuplicateOf != first[0].ID {
			t.Fatalf("same name, birth date and village: possibleDuplicateOf %v, want %d", twin[0].PossibleDuplicateOf, first[0].ID)
		}
		_, third := f.register(t, cmCtx, huayipo, mk("张伟", 105))
		if third[0].PossibleDuplicateOf == nil || *third[0].PossibleDuplicateOf != first[0].ID {
			t.Fatalf("third twin points at %v, want the first %d", third[0].PossibleDuplicateOf, first[0].ID)
		}
		_, other := f.register(t, cmCtx, linhualu, mk("张伟", 107))
		if other[0].PossibleDuplicateOf != nil {
			t.Fatalf("another village flagged as duplicate of %d", *other[0].PossibleDuplicateOf)
		}
		_, name := f.register(t, cmCtx, huayipo, mk("张伟民", 109))
		if name[0].PossibleDuplicateOf != nil {
			t.Fatalf("another name flagged")
		}
		// Stored as flagged.
		h, _ := f.svc.Household(cmCtx, twin[0].HouseholdID)
		ps, _ := f.svc.Persons(cmCtx, h)
		if ps[0].PossibleDuplicateOf == nil || *ps[0].PossibleDuplicateOf != first[0].ID {
			t.Fatalf("stored flag %v", ps[0].PossibleDuplicateOf)
		}
	})
}

func TestResidentID_MaskAndReveal(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		id := makeID(yuzhong, time.Date(1970, 2, 3, 0, 0, 0, 0, time.UTC), 457)
		h, ps := f.register(t, cmCtx, huayipo, casework.PersonInput{Name: "刘洋", ResidentID: id, Relation: "HEAD"})
		p := ps[0]

		for _, c := range []struct {
			name string
			ctx  context.Context
			want string
		}{
			{"CaseManager", cmCtx, id[:6] + "********" + id[14:]},
			{"Admin", adminCtx, id[:6] + "********" + id[14:]},
			{"Charity", f.charityA(), id[:3] + "**************" + id[17:]},
			{"Donor", donorCtx, "******************"},
			{"Anonymous", anonCtx, "******************"},
		} {
			got, err := f.svc.MaskedResidentID(c.ctx, p)
			if err != nil || got != c.want {
				t.Errorf("%s sees %q, %v; want %q", c.name, got, err, c.want)
			}
		}

		before := rowCounts(t, d)
		for _, c := range []struct {
			name, reason string
			ctx          context.Context
			code, field  string
		}{
			{"Anonymous", "核对身份", anonCtx, aidhub.EUNAUTHENTICATED, ""},
			{"Donor", "核对身份", donorCtx, aidhub.EFORBIDDEN, ""},
			{"Charity", "核对身份", f.charityA(), aidhub.EFORBIDDEN, ""},
			{"Admin", "核对身份", adminCtx, aidhub.EFORBIDDEN, ""},
			{"OtherRegion", "核对身份", cmOtherCtx, aidhub.ENOTFOUND, ""},
			{"NoReason", "  ", cmCtx, aidhub.EBADINPUT, "reason"},
			{"ShortReason", "核对", cmCtx, aidhub.EBADINPUT, "reason"},
		} {
			_, err := f.svc.RevealResidentID(c.ctx, p.ID, c.reason)
			if c.field != "" {
				wantInvalid(t, err, c.field)
			} else {
				wantCode(t, err, c.code)
			}
			unchanged(t, d, before)
		}
		_, err := f.svc.RevealResidentID(cmCtx, p.ID+1000, "核对身份信息")
		wantCode(t, err, aidhub.ENOTFOUND)

		reason := "与户口本核对 刘洋"
		got, err := f.svc.RevealResidentID(cmCtx, p.ID, reason)
		if err != nil || got != id {
			t.Fatalf("reveal %v", err)
		}
		e := lastAudit(t, d, "revealResidentId")
		if e.SubjectType != "Person" || *e.SubjectID != p.ID || e.Role != "CASE_MANAGER" || *e.TokenID != 3 {
			t.Fatalf("audit %+v", e)
		}
		if strings.Contains(e.Summary, id[:14]) || strings.Contains(e.Summary, id[6:14]) || strings.Contains(e.Summary, "刘洋") ||
			strings.Contains(e.Summary, "户口本") {
			t.Fatalf("audit summary %s holds personal data", e.Summary)
		}
		if !strings.Contains(e.Summary, fmt.Sprintf(`"householdId":%d`, h.ID)) {
			t.Errorf("summary %s", e.Summary)
		}
		// A case manager of one street only does not see other streets.
		var otherStreet string
		for _, v := range yuzhongVillages {
			if !strings.HasPrefix(v, "500103001") {
				otherStreet = v
				break
			}
		}
		_, ps2 := f.register(t, cmCtx, otherStreet, person("街道外", "HEAD"))
		if _, err := f.svc.RevealResidentID(cmStreetCtx, ps2[0].ID, "核对身份信息"); aidhub.ErrorCode(err) != aidhub.ENOTFOUND {
			t.Fatalf("street case manager reveals outside its street: %v", err)
		}
		if _, err := f.svc.RevealResidentID(cmStreetCtx, p.ID, "核对身份信息"); err != nil {
			t.Fatalf("street case manager inside its street: %v", err)
		}
	})
}

func TestAddPerson(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _ := f.family(t)
		in := person("新生儿", "CHILD")
		in.Groups = []casework.MembershipInput{{GroupCode: "DISTRESSED_CHILD", Since: date(t, "2026-11-01")}}
		p, err := f.svc.AddPerson(cmCtx, h.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if p.HouseholdID != h.ID || p.Relation != "CHILD" || p.ID == 0 {
			t.Fatalf("added %+v", p)
		}
		ms, _ := f.svc.Memberships(context.Background(), p.ID)
		if len(ms) != 1 || ms[0].GroupCode != "DISTRESSED_CHILD" {
			t.Fatalf("memberships %+v", ms)
		}
		e := lastAudit(t, d, "addPerson")
		if *e.SubjectID != p.ID || strings.Contains(e.Summary, "新生儿") {
			t.Fatalf("audit %+v", e)
		}
		ps, _ := f.svc.Persons(cmCtx, h)
		if len(ps) != 4 {
			t.Fatalf("%d persons", len(ps))
		}

		before := rowCounts(t, d)
		_, err = f.svc.AddPerson(cmCtx, h.ID, person("第二户主", "HEAD"))
		wantInvalid(t, err, "relation")
		bad := person("错号", "CHILD")
		bad.ResidentID = wrongCheck(bad.ResidentID)
		_, err = f.svc.AddPerson(cmCtx, h.ID, bad)
		wantInvalid(t, err, "residentId")
		_, err = f.svc.AddPerson(cmOtherCtx, h.ID, person("外区", "CHILD"))
		wantCode(t, err, aidhub.ENOTFOUND)
		_, err = f.svc.AddPerson(cmCtx, h.ID+999, person("无户", "CHILD"))
		wantCode(t, err, aidhub.ENOTFOUND)
		_, err = f.svc.AddPerson(donorCtx, h.ID, person("捐赠人", "CHILD"))
		wantCode(t, err, aidhub.EFORBIDDEN)
		_, err = f.svc.AddPerson(f.charityA(), h.ID, person("慈善", "CHILD"))
		wantCode(t, err, aidhub.EFORBIDDEN)
		_, err = f.svc.AddPerson(anonCtx, h.ID, person("匿名", "CHILD"))
		wantCode(t, err, aidhub.EUNAUTHENTICATED)
		unchanged(t, d, before)
	})
}
