package aidhub

import (
	"fmt"
	"strings"
)

// Yuan writes an amount in fen (1/100 yuan, the unit every amount is
// stored in) as yuan with thousands separators: 240300 is "2,403",
// 240350 "2,403.50".
func Yuan(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	y, f := fen/100, fen%100
	digits := fmt.Sprint(y)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if f != 0 {
		fmt.Fprintf(&b, ".%02d", f)
	}
	return b.String()
}
