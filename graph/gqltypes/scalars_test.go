package gqltypes_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/graph/gqltypes"
)

func TestUnmarshalFen(t *testing.T) {
	good := map[any]int64{int64(100): 100, 250.0: 250, json.Number("42"): 42, "1000": 1000, 0: 0}
	for in, want := range good {
		if got, err := gqltypes.UnmarshalFen(in); err != nil || got != want {
			t.Errorf("%v: %d, %v", in, got, err)
		}
	}
	for _, in := range []any{1.5, "1.5", "一百", true, 1e300, nil} {
		if _, err := gqltypes.UnmarshalFen(in); aidhub.ErrorCode(err) != aidhub.EBADINPUT {
			t.Errorf("%v: %v", in, err)
		}
	}
}

func TestDateAndDivisionCode(t *testing.T) {
	d, err := gqltypes.UnmarshalDate("2026-11-28")
	if err != nil || d.String() != "2026-11-28" {
		t.Fatal(d, err)
	}
	var buf bytes.Buffer
	gqltypes.MarshalDate(d).MarshalGQL(&buf)
	if buf.String() != `"2026-11-28"` {
		t.Fatal(buf.String())
	}
	for _, bad := range []any{"2026-13-01", "28/11/2026", "2026-11-28T00:00:00Z", 20261128} {
		if _, err := gqltypes.UnmarshalDate(bad); aidhub.ErrorCode(err) != aidhub.EBADINPUT {
			t.Errorf("%v: %v", bad, err)
		}
	}
	for _, good := range []string{"50", "500103", "500103001", "500103001003"} {
		if _, err := gqltypes.UnmarshalDivisionCode(good); err != nil {
			t.Error(good, err)
		}
	}
	for _, bad := range []any{"5001", "50010300100a", "", 500103} {
		if _, err := gqltypes.UnmarshalDivisionCode(bad); aidhub.ErrorCode(err) != aidhub.EBADINPUT {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
