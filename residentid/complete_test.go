package residentid_test

import (
	"testing"
	"time"

	"github.com/aidhub/aidhub/residentid"
)

func TestComplete(t *testing.T) {
	today := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	id, err := residentid.Complete("11010519491231002", today)
	if err != nil || id != "11010519491231002X" {
		t.Fatalf("Complete = %q, %v; want the standard's example 11010519491231002X", id, err)
	}
	for _, bad := range []string{"", "1101051949123100", "110105194912310021", "1101051949123100a", "11010520300101002"} {
		if _, err := residentid.Complete(bad, today); err == nil {
			t.Errorf("Complete(%q) accepted", bad)
		}
	}
}
