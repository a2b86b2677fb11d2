package graph

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aidhub/aidhub"
)

// FuzzGlobalID feeds the global ID decoder arbitrary IDs, and arbitrary
// type/key pairs to the encoder. The decoder never panics, refuses anything
// over 200 characters without decoding it, and what it accepts re-encodes
// to an ID that decodes to the same parts; a row ID it returns is positive
// and comes back from rowID; a refusal is a BAD_USER_INPUT naming the field
// with a short message, whatever the length of the input.
func FuzzGlobalID(f *testing.F) {
	for _, seed := range []struct{ id, typ, key string }{
		{rowID(typeResource, 1), typeResource, "1"},
		{rowID(typeOrganization, 9223372036854775807), typeOrganization, "9223372036854775807"},
		{encodeCursor(42), cursorPrefix, "42"},
		{globalID(typeGroup, "DIBAO"), typeGroup, "DIBAO"},
		{globalID(typeItem, "MEAL_ASSISTANCE"), typeItem, "MEAL_ASSISTANCE"},
		{"", "", ""},
		{"=", "Resource", ""},
		{"UmVzb3VyY2U6MQ==", "Resource", "0"},                              // padded: not ours
		{"UmVzb3VyY2U6MR", "Resource", "-1"},                               // non-canonical trailing bits
		{globalID(typeResource, "0"), typeResource, "0"},                   // row 0
		{globalID(typeResource, "-5"), typeResource, "-5"},                 // negative
		{globalID(typeResource, "99999999999999999999"), "", "x"},          // overflows int64
		{globalID(typeResource, "1:2"), typeResource, "1:2"},               // key with a colon
		{globalID("", "1"), ":", "1"},                                      // no type
		{globalID(typeResource, "\xff\xfe"), "\xff", "\xfe"},               // invalid UTF-8 inside
		{"\xff\xfe\xc3\x28", "\xc3\x28", "\xed\xa0\x80"},                   // invalid UTF-8 outside
		{"资源:1", "资源", "一"},                                                // not base64 at all
		{strings.Repeat("A", 200), typeResource, strings.Repeat("9", 140)}, // at the limit
		{strings.Repeat("A", 201), typeResource, strings.Repeat("9", 300)}, // one over
		{strings.Repeat("QUFB", 1<<14), strings.Repeat("T", 1000), "1"},    // very long
		{globalID(typeResource, " 1"), typeResource, "+1"},
		{globalID(typeResource, "0x10"), typeResource, "1_000"},
	} {
		f.Add(seed.id, seed.typ, seed.key)
	}
	types := []string{typeResource, typeOrganization, typeGroup, typeCategory, typeItem, cursorPrefix}
	f.Fuzz(func(t *testing.T, id, typ, key string) {
		if len(id) > 1<<20 || len(typ) > 1<<12 || len(key) > 1<<12 {
			t.Skip("larger than any request body")
		}

		// Decoding arbitrary input.
		gotTyp, gotKey, ok := parseGlobalID(id)
		if ok {
			if len(id) > 200 {
				t.Fatalf("accepted an ID of %d characters", len(id))
			}
			if gotKey == "" || strings.Contains(gotTyp, ":") {
				t.Fatalf("parseGlobalID(%q) = %q, %q: empty key or a colon in the type", id, gotTyp, gotKey)
			}
			if len(gotTyp)+len(gotKey)+1 > base64.RawURLEncoding.DecodedLen(len(id)) {
				t.Fatalf("parseGlobalID(%q) = %q, %q: more than the ID holds", id, gotTyp, gotKey)
			}
			t2, k2, ok2 := parseGlobalID(globalID(gotTyp, gotKey))
			if !ok2 || t2 != gotTyp || k2 != gotKey {
				t.Fatalf("parseGlobalID(%q) = %q, %q but its re-encoding decodes to %q, %q, %v", id, gotTyp, gotKey, t2, k2, ok2)
			}
		}
		for _, want := range types {
			n, err := decodeRowID("id", want, id)
			if err == nil {
				if n <= 0 || !ok || gotTyp != want {
					t.Fatalf("decodeRowID(%s, %q) = %d for type %q", want, id, n, gotTyp)
				}
				if back, err := decodeRowID("id", want, rowID(want, n)); err != nil || back != n {
					t.Fatalf("row %d of %s does not round-trip: %d, %v", n, want, back, err)
				}
				continue
			}
			if n != 0 {
				t.Fatalf("decodeRowID(%s, %q) = %d with error %v", want, id, n, err)
			}
			checkRefusal(t, err, "id", id)
		}
		after := id
		if n, err := decodeCursor(&after); err != nil {
			checkRefusal(t, err, "after", id)
		} else if id == "" && n != 0 || id != "" && (n <= 0 || encodeCursor(n) == "") {
			t.Fatalf("decodeCursor(%q) = %d", id, n)
		}

		// Encoding arbitrary parts: what is short enough and unambiguous
		// (no colon in the type, a key) comes back unchanged.
		enc := globalID(typ, key)
		if base64.RawURLEncoding.EncodedLen(len(typ)+len(key)+1) != len(enc) {
			t.Fatalf("globalID(%q, %q) is %d characters", typ, key, len(enc))
		}
		t3, k3, ok3 := parseGlobalID(enc)
		if strings.Contains(typ, ":") {
			return // ambiguous: not one the hub makes
		}
		if wantOK := len(enc) <= 200 && key != ""; ok3 != wantOK {
			t.Fatalf("parseGlobalID(globalID(%q, %q)) ok = %v, want %v", typ, key, ok3, wantOK)
		}
		if ok3 && (t3 != typ || k3 != key) {
			t.Fatalf("globalID(%q, %q) decodes to %q, %q", typ, key, t3, k3)
		}
	})
}

// checkRefusal: a BAD_USER_INPUT on field, its message bounded whatever
// the input's length and valid UTF-8 (it goes into a JSON response).
func checkRefusal(t *testing.T, err error, field, id string) {
	t.Helper()
	var ae *aidhub.Error
	if !errors.As(err, &ae) || ae.Code != aidhub.EBADINPUT || ae.Field != field {
		t.Fatalf("refusing %q: %#v, want BAD_USER_INPUT on %s", id, err, field)
	}
	if len(ae.Message) > 250 {
		t.Fatalf("refusing %q: a message of %d bytes", id, len(ae.Message))
	}
	if !utf8.ValidString(ae.Message) {
		t.Fatalf("refusing %q: message %q is not valid UTF-8", id, ae.Message)
	}
}
