package residentid_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/residentid"
)

var (
	cst   = time.FixedZone("CST", 8*60*60)
	today = time.Date(2025, 6, 15, 10, 0, 0, 0, cst)
)

// withCheck appends the ISO 7064 MOD 11-2 check character to 17 digits. It
// derives the weights from the standard's definition (2^(i-1) mod 11, i the
// position counted from the right, check character included) rather than
// copying the package's table.
func withCheck(body string) string {
	if len(body) != 17 {
		panic("withCheck: need 17 digits, got " + body)
	}
	sum := 0
	for k := 0; k < 17; k++ {
		w := 1
		for range 17 - k {
			w = w * 2 % 11
		}
		sum += int(body[k]-'0') * w
	}
	c := (12 - sum%11) % 11 // sum + c ≡ 1 (mod 11)
	if c == 10 {
		return body + "X"
	}
	return body + string(rune('0'+c))
}

// validCheck reports whether an 18-character number's check character is
// right.
func validCheck(s string) bool {
	return len(s) == 18 && withCheck(s[:17]) == s
}

// wrongCheck returns body with a check character that is not the right one.
func wrongCheck(body string) string {
	right := withCheck(body)[17]
	for _, c := range []byte("0123456789X") {
		if c != right {
			return body + string(c)
		}
	}
	panic("unreachable")
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestWithCheck_PublishedExample(t *testing.T) {
	// The example printed in GB 11643-1999.
	if got := withCheck("11010519491231002"); got != "11010519491231002X" {
		t.Fatalf("withCheck = %s, want 11010519491231002X", got)
	}
}

func TestParse_Valid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		today  time.Time
		want   residentid.ID
		birth  time.Time
		female bool
		region string
		age    int // on today
	}{
		{name: "published example", in: "11010519491231002X", want: "11010519491231002X", birth: date(1949, 12, 31), female: true, region: "110105", age: 75},
		{name: "lower-case x", in: "11010519491231002x", want: "11010519491231002X", birth: date(1949, 12, 31), female: true, region: "110105", age: 75},
		{name: "surrounding white space", in: " \t11010519491231002X\n ", want: "11010519491231002X", birth: date(1949, 12, 31), female: true, region: "110105", age: 75},
		{name: "Yuzhong man", in: withCheck("50010319900307123"), want: residentid.ID(withCheck("50010319900307123")), birth: date(1990, 3, 7), female: false, region: "500103", age: 35},
		{name: "Wanzhou woman", in: withCheck("50010120010615004"), want: residentid.ID(withCheck("50010120010615004")), birth: date(2001, 6, 15), female: true, region: "500101", age: 24},
		{name: "day before 24th birthday", in: withCheck("50010120010616004"), want: residentid.ID(withCheck("50010120010616004")), birth: date(2001, 6, 16), female: true, region: "500101", age: 23},
		{name: "leap day 2000", in: withCheck("50023520000229051"), want: residentid.ID(withCheck("50023520000229051")), birth: date(2000, 2, 29), female: false, region: "500235", age: 25},
		{name: "leap day 2024", in: withCheck("50010320240229008"), want: residentid.ID(withCheck("50010320240229008")), birth: date(2024, 2, 29), female: true, region: "500103", age: 1},
		{name: "earliest date", in: withCheck("44030119000101001"), want: residentid.ID(withCheck("44030119000101001")), birth: date(1900, 1, 1), female: false, region: "440301", age: 125},
		{name: "born today", in: withCheck("50010320250615002"), want: residentid.ID(withCheck("50010320250615002")), birth: date(2025, 6, 15), female: true, region: "500103", age: 0},
		{
			// 00:30 on 1 March in Beijing is still 29 February in UTC:
			// today's calendar day is taken in its own location.
			name: "born today in today's location", in: withCheck("50010320240301002"), today: time.Date(2024, 3, 1, 0, 30, 0, 0, cst),
			want: residentid.ID(withCheck("50010320240301002")), birth: date(2024, 3, 1), female: true, region: "500103", age: 0,
		},
		{name: "check character X", in: "11010519491231002X", want: "11010519491231002X", birth: date(1949, 12, 31), female: true, region: "110105", age: 75},
		{name: "check character 0", in: "500103198806010080", want: "500103198806010080", birth: date(1988, 6, 1), female: true, region: "500103", age: 37},
		{name: "province 11", in: withCheck("11000019800101001"), want: residentid.ID(withCheck("11000019800101001")), birth: date(1980, 1, 1), region: "110000", age: 45},
		{name: "province 15", in: withCheck("15000019800101001"), want: residentid.ID(withCheck("15000019800101001")), birth: date(1980, 1, 1), region: "150000", age: 45},
		{name: "province 46", in: withCheck("46000019800101001"), want: residentid.ID(withCheck("46000019800101001")), birth: date(1980, 1, 1), region: "460000", age: 45},
		{name: "province 54", in: withCheck("54000019800101001"), want: residentid.ID(withCheck("54000019800101001")), birth: date(1980, 1, 1), region: "540000", age: 45},
		{name: "province 65", in: withCheck("65000019800101001"), want: residentid.ID(withCheck("65000019800101001")), birth: date(1980, 1, 1), region: "650000", age: 45},
		{name: "Taiwan 71", in: withCheck("71000019800101001"), want: residentid.ID(withCheck("71000019800101001")), birth: date(1980, 1, 1), region: "710000", age: 45},
		{name: "Hong Kong residence permit 81", in: withCheck("81000019800101001"), want: residentid.ID(withCheck("81000019800101001")), birth: date(1980, 1, 1), region: "810000", age: 45},
		{name: "Macao residence permit 82", in: withCheck("82000019800101001"), want: residentid.ID(withCheck("82000019800101001")), birth: date(1980, 1, 1), region: "820000", age: 45},
		{name: "Taiwan residence permit 83", in: withCheck("83000019800101001"), want: residentid.ID(withCheck("83000019800101001")), birth: date(1980, 1, 1), region: "830000", age: 45},
		{name: "15 digits", in: "110105491231002", want: "11010519491231002X", birth: date(1949, 12, 31), female: true, region: "110105", age: 75},
		{name: "15 digits with spaces", in: "  500103900307123 ", want: residentid.ID(withCheck("50010319900307123")), birth: date(1990, 3, 7), region: "500103", age: 35},
		{name: "15 digits leap day 1996", in: "500101960229004", want: residentid.ID(withCheck("50010119960229004")), birth: date(1996, 2, 29), female: true, region: "500101", age: 29},
	} {
		t.Run(tc.name, func(t *testing.T) {
			on := today
			if !tc.today.IsZero() {
				on = tc.today
			}
			id, err := residentid.Parse(tc.in, on)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if id != tc.want {
				t.Fatalf("Parse = %s, want %s", id, tc.want)
			}
			if !validCheck(string(id)) {
				t.Errorf("check character of %s is wrong", id)
			}
			if id.String() != string(tc.want) {
				t.Errorf("String = %s", id.String())
			}
			if got := id.BirthDate(); !got.Equal(tc.birth) || got.Location() != time.UTC {
				t.Errorf("BirthDate = %v, want %v", got, tc.birth)
			}
			if got := id.Female(); got != tc.female {
				t.Errorf("Female = %v, want %v", got, tc.female)
			}
			if got := id.Region(); got != tc.region {
				t.Errorf("Region = %s, want %s", got, tc.region)
			}
			if got := id.Age(on); got != tc.age {
				t.Errorf("Age = %d, want %d", got, tc.age)
			}
			again, err := residentid.Parse(string(id), on)
			if err != nil || again != id {
				t.Errorf("re-parse = %s, %v", again, err)
			}
		})
	}
}

func TestParse_15To18(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"110105491231002", "11010519491231002X"},
		{"500103900307123", withCheck("50010319900307123")},
		{"500101000101001", withCheck("50010119000101001")},
		{"500101991231002", withCheck("50010119991231002")},
		{"650102850704003", withCheck("65010219850704003")},
	} {
		id, err := residentid.Parse(tc.in, today)
		if err != nil {
			t.Errorf("Parse(%s): %v", tc.in, err)
			continue
		}
		if string(id) != tc.want {
			t.Errorf("Parse(%s) = %s, want %s", tc.in, id, tc.want)
		}
		if id.Region() != tc.in[:6] || id[8:17] != residentid.ID(tc.in[6:]) {
			t.Errorf("Parse(%s) = %s does not keep the digits", tc.in, id)
		}
	}
}

// The messages of each kind of error. Parse's errors must carry one of them
// and nothing else, so no part of a number can reach a log.
const (
	msgLength     = "must be 18 characters (or 15 digits for a number issued before 1999)"
	msgCharacters = "must be digits only, except that the 18th character may be X"
	msgProvince   = "does not start with a valid province code"
	msgBirthDate  = "does not contain a valid birth date"
	msgTooOld     = "contains a birth date before 1900"
	msgFuture     = "contains a birth date in the future"
	msgCheckDigit = "has a wrong check digit; please check it for typing errors"
)

var messages = map[string]bool{msgLength: true, msgCharacters: true, msgProvince: true, msgBirthDate: true, msgTooOld: true, msgFuture: true, msgCheckDigit: true}

// checkError fails unless err is a BAD_USER_INPUT *aidhub.Error about
// residentId with message want that mentions no part of in.
func checkError(t *testing.T, in string, err error, want string) {
	t.Helper()
	var e *aidhub.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *aidhub.Error", err, err)
	}
	if e.Code != aidhub.EBADINPUT || e.Field != "residentId" {
		t.Errorf("error code %s field %s, want BAD_USER_INPUT residentId", e.Code, e.Field)
	}
	if want != "" && e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}
	if !messages[e.Message] {
		t.Errorf("message %q is not one of the fixed messages", e.Message)
	}
	for _, run := range regexp.MustCompile(`[0-9]{5,}`).FindAllString(err.Error(), -1) {
		t.Errorf("error %q contains the digits %s", err, run)
	}
	if s := strings.TrimSpace(in); len(s) >= 6 && strings.Contains(err.Error(), s) {
		t.Errorf("error %q contains the input", err)
	}
}

func TestParse_Errors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		today time.Time
		want  string
	}{
		{"empty", "", time.Time{}, msgLength},
		{"only spaces", "    ", time.Time{}, msgLength},
		{"14 digits", "11010549123100", time.Time{}, msgLength},
		{"16 digits", "1101054912310021", time.Time{}, msgLength},
		{"17 digits", "11010519491231002", time.Time{}, msgLength},
		{"19 characters", "11010519491231002X0", time.Time{}, msgLength},
		{"two numbers", "11010519491231002X 11010519491231002X", time.Time{}, msgLength},
		{"letter inside", "1101051949123100AX", time.Time{}, msgCharacters},
		{"X not last", "1101051949123100X2", time.Time{}, msgCharacters},
		{"wrong last letter", "11010519491231002Y", time.Time{}, msgCharacters},
		{"space inside", "110105 9491231002X", time.Time{}, msgCharacters},
		{"hyphens", "110105-19491231-2X", time.Time{}, msgCharacters},
		{"minus sign", "-1010519491231002X", time.Time{}, msgCharacters},
		{"full-width digits", "１１０１０５１９４９１２３１００２Ｘ", time.Time{}, msgCharacters},
		{"Chinese character", "11010519491231002叉", time.Time{}, msgCharacters},
		{"15 with X", "11010549123100X", time.Time{}, msgCharacters},
		{"15 with x", "11010549123100x", time.Time{}, msgCharacters},
		{"15 with letter", "1101054912310a2", time.Time{}, msgCharacters},
		{"invalid UTF-8", "11010519491231002\xff", time.Time{}, msgCharacters},
		{"province 00", withCheck("00010319900307123"), time.Time{}, msgProvince},
		{"province 10", withCheck("10010319900307123"), time.Time{}, msgProvince},
		{"province 16", withCheck("16010319900307123"), time.Time{}, msgProvince},
		{"province 20", withCheck("20010319900307123"), time.Time{}, msgProvince},
		{"province 24", withCheck("24010319900307123"), time.Time{}, msgProvince},
		{"province 30", withCheck("30010319900307123"), time.Time{}, msgProvince},
		{"province 38", withCheck("38010319900307123"), time.Time{}, msgProvince},
		{"province 40", withCheck("40010319900307123"), time.Time{}, msgProvince},
		{"province 47", withCheck("47010319900307123"), time.Time{}, msgProvince},
		{"province 49", withCheck("49010319900307123"), time.Time{}, msgProvince},
		{"province 55", withCheck("55010319900307123"), time.Time{}, msgProvince},
		{"province 60", withCheck("60010319900307123"), time.Time{}, msgProvince},
		{"province 66", withCheck("66010319900307123"), time.Time{}, msgProvince},
		{"province 70", withCheck("70010319900307123"), time.Time{}, msgProvince},
		{"province 72", withCheck("72010319900307123"), time.Time{}, msgProvince},
		{"province 80", withCheck("80010319900307123"), time.Time{}, msgProvince},
		{"province 84", withCheck("84010319900307123"), time.Time{}, msgProvince},
		{"province 91", withCheck("91010319900307123"), time.Time{}, msgProvince},
		{"province 99", withCheck("99010319900307123"), time.Time{}, msgProvince},
		{"15 digits province 99", "990103900307123", time.Time{}, msgProvince},
		{"month 00", withCheck("50010319900007123"), time.Time{}, msgBirthDate},
		{"month 13", withCheck("50010319901307123"), time.Time{}, msgBirthDate},
		{"month 99", withCheck("50010319909907123"), time.Time{}, msgBirthDate},
		{"day 00", withCheck("50010319900300123"), time.Time{}, msgBirthDate},
		{"day 32", withCheck("50010319900132123"), time.Time{}, msgBirthDate},
		{"31 April", withCheck("50010319900431123"), time.Time{}, msgBirthDate},
		{"30 February", withCheck("50010320000230123"), time.Time{}, msgBirthDate},
		{"29 February 1900", withCheck("50010319000229123"), time.Time{}, msgBirthDate},
		{"29 February 2001", withCheck("50010320010229123"), time.Time{}, msgBirthDate},
		{"29 February 2100 (not leap)", withCheck("50010321000229123"), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), msgBirthDate},
		{"15 digits 29 February 1900", "500103000229123", time.Time{}, msgBirthDate},
		{"15 digits month 13", "500103901307123", time.Time{}, msgBirthDate},
		{"31 December 1899", withCheck("50010318991231123"), time.Time{}, msgTooOld},
		{"year 0001", withCheck("50010300010101123"), time.Time{}, msgTooOld},
		{"tomorrow", withCheck("50010320250616123"), time.Time{}, msgFuture},
		{"next year", withCheck("50010320260101123"), time.Time{}, msgFuture},
		{"year 9999", withCheck("50010399991231123"), time.Time{}, msgFuture},
		{
			// 23:30 on 29 February in Honolulu is already 1 March in
			// UTC; today's calendar day is taken in its own location.
			"tomorrow in today's location", withCheck("50010320240301123"), time.Date(2024, 2, 29, 23, 30, 0, 0, time.FixedZone("HST", -10*60*60)), msgFuture,
		},
		{"check digit of the example", "110105194912310021", time.Time{}, msgCheckDigit},
		{"check digit 0 instead of X", "110105194912310020", time.Time{}, msgCheckDigit},
		{"lower-case x where a digit belongs", wrongCheckX("50010319900307123"), time.Time{}, msgCheckDigit},
		{"one digit mistyped", "11010519491231003X", time.Time{}, msgCheckDigit},
		{"two digits transposed", "11010519491213002X", time.Time{}, msgCheckDigit},
		{"wrong check digit", wrongCheck("50010319900307123"), time.Time{}, msgCheckDigit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			on := today
			if !tc.today.IsZero() {
				on = tc.today
			}
			id, err := residentid.Parse(tc.in, on)
			if err == nil {
				t.Fatalf("Parse = %s, want error %q", id, tc.want)
			}
			if id != "" {
				t.Errorf("Parse returned %s with the error", id)
			}
			checkError(t, tc.in, err, tc.want)
		})
	}
}

// wrongCheckX returns body with a lower-case x where the right check
// character is a digit.
func wrongCheckX(body string) string {
	if withCheck(body)[17] == 'X' {
		panic("wrongCheckX: the right check character is X")
	}
	return body + "x"
}

func TestParse_EveryWrongCheckCharacter(t *testing.T) {
	for _, body := range []string{"11010519491231002", "50010319900307123", "50023520000229051", "83000019800101001"} {
		right := withCheck(body)
		for _, c := range "0123456789Xx" {
			s := body + string(c)
			_, err := residentid.Parse(s, today)
			if strings.EqualFold(s, right) {
				if err != nil {
					t.Errorf("Parse(%s): %v", s, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("Parse(%s) accepted a wrong check character", s)
				continue
			}
			checkError(t, s, err, msgCheckDigit)
		}
	}
}

func TestParse_EverySingleDigitError(t *testing.T) {
	// MOD 11-2 detects every single-digit substitution.
	valid := withCheck("50010319900307123")
	for i := 0; i < 17; i++ {
		for c := byte('0'); c <= '9'; c++ {
			if c == valid[i] {
				continue
			}
			s := valid[:i] + string(c) + valid[i+1:]
			if _, err := residentid.Parse(s, today); err == nil {
				t.Errorf("Parse accepted %s, %s with digit %d changed", s, valid, i+1)
			}
		}
	}
}

func TestID_Age(t *testing.T) {
	leap := residentid.ID(withCheck("50010320000229051"))  // born 2000-02-29
	plain := residentid.ID(withCheck("50010319900307123")) // born 1990-03-07
	for _, tc := range []struct {
		id   residentid.ID
		on   time.Time
		want int
	}{
		{plain, date(1990, 3, 7), 0},
		{plain, date(1990, 3, 6), 0}, // before birth
		{plain, date(1980, 1, 1), 0},
		{plain, date(1991, 3, 6), 0},
		{plain, date(1991, 3, 7), 1},
		{plain, date(2025, 3, 6), 34},
		{plain, date(2025, 3, 7), 35},
		{plain, date(2025, 12, 31), 35},
		{plain, time.Date(2025, 3, 7, 0, 30, 0, 0, cst), 35}, // still 6 March in UTC
		{plain, time.Date(2025, 3, 6, 23, 30, 0, 0, cst), 34},
		{leap, date(2001, 2, 28), 0},
		{leap, date(2001, 3, 1), 1},
		{leap, date(2004, 2, 28), 3},
		{leap, date(2004, 2, 29), 4},
		{leap, date(2025, 2, 28), 24},
		{leap, date(2025, 3, 1), 25},
		{"", date(2025, 3, 1), 0},
		{"123", date(2025, 3, 1), 0},
	} {
		if got := tc.id.Age(tc.on); got != tc.want {
			t.Errorf("%s.Age(%s) = %d, want %d", tc.id, tc.on.Format(time.RFC3339), got, tc.want)
		}
	}
}

func TestID_InvalidIsZero(t *testing.T) {
	for _, id := range []residentid.ID{"", "5001031990", "500103199003071234567"} {
		if !id.BirthDate().IsZero() || id.Female() || id.Region() != "" || id.Age(today) != 0 {
			t.Errorf("%q: BirthDate %v Female %v Region %q Age %d", id, id.BirthDate(), id.Female(), id.Region(), id.Age(today))
		}
	}
}

func TestID_Female(t *testing.T) {
	for d := byte('0'); d <= '9'; d++ {
		id, err := residentid.Parse(withCheck("5001031990030712"+string(d)), today)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := id.Female(), (d-'0')%2 == 0; got != want {
			t.Errorf("17th digit %c: Female = %v, want %v", d, got, want)
		}
	}
}

func TestID_Mask(t *testing.T) {
	id := residentid.ID("50010319900307123X")
	for _, tc := range []struct {
		id    residentid.ID
		level residentid.MaskLevel
		want  string
	}{
		{id, residentid.MaskPartial, "500103********123X"},
		{id, residentid.MaskStrict, "500**************X"},
		{id, residentid.MaskFull, "******************"},
		{id, residentid.MaskLevel(0), "******************"}, // zero value
		{id, residentid.MaskLevel(-1), "******************"},
		{id, residentid.MaskLevel(99), "******************"},
		{"11010519491231002X", residentid.MaskPartial, "110105********002X"},
		{"11010519491231002X", residentid.MaskStrict, "110**************X"},
		{"", residentid.MaskPartial, "******************"},
		{"500103", residentid.MaskPartial, "******************"},
		{"500103", residentid.MaskStrict, "******************"},
	} {
		got := tc.id.Mask(tc.level)
		if got != tc.want {
			t.Errorf("%q.Mask(%d) = %s, want %s", tc.id, tc.level, got, tc.want)
		}
		if len(got) != 18 {
			t.Errorf("%q.Mask(%d) has %d characters", tc.id, tc.level, len(got))
		}
	}
}

func TestID_MaskHidesBirthDate(t *testing.T) {
	id, err := residentid.Parse(withCheck("50010319900307123"), today)
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []residentid.MaskLevel{residentid.MaskPartial, residentid.MaskStrict, residentid.MaskFull} {
		if m := id.Mask(level); strings.Contains(m, "1990") || strings.Contains(m, "0307") {
			t.Errorf("Mask(%d) = %s shows the birth date", level, m)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", "110105491231002", " 50010319900307123X ",
		withCheck("50010320000229051"), withCheck("50010319000229123"), withCheck("83000019800101001"),
		"", "X", "１１０１０５１９４９１２３１００２Ｘ", "11010519491231002\xff", "000000000000000000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := residentid.Parse(s, today)
		if err != nil {
			if id != "" {
				t.Fatalf("Parse(%q) = %q with error %v", s, id, err)
			}
			var e *aidhub.Error
			if !errors.As(err, &e) || e.Code != aidhub.EBADINPUT || e.Field != "residentId" || !messages[e.Message] {
				t.Fatalf("Parse(%q): unexpected error %#v", s, err)
			}
			return
		}
		if len(id) != 18 || !validCheck(string(id)) {
			t.Fatalf("Parse(%q) = %q: check character is not valid", s, id)
		}
		if strings.Contains(string(id), "x") {
			t.Fatalf("Parse(%q) = %q has a lower-case x", s, id)
		}
		again, err := residentid.Parse(string(id), today)
		if err != nil || again != id {
			t.Fatalf("Parse(%q) = %q, which re-parses to %q, %v", s, id, again, err)
		}
		if b := id.BirthDate(); b.IsZero() || b.Before(date(1900, 1, 1)) || b.After(today) {
			t.Fatalf("Parse(%q) = %q: birth date %v", s, id, b)
		}
		if id.Mask(residentid.MaskPartial)[6:14] != "********" {
			t.Fatalf("Mask of %q = %s", id, id.Mask(residentid.MaskPartial))
		}
	})
}
