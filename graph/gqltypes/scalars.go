// Package gqltypes holds the Go side of GraphQL types that are not domain
// types: the custom scalars and the Node interface. Scalar input that does
// not parse is a BAD_USER_INPUT *aidhub.Error, so clients see a code.
package gqltypes

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/regions"
)

// MarshalDate writes YYYY-MM-DD.
func MarshalDate(d aidhub.Date) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { io.WriteString(w, strconv.Quote(d.String())) })
}

// UnmarshalDate reads YYYY-MM-DD.
func UnmarshalDate(v any) (aidhub.Date, error) {
	s, ok := v.(string)
	if !ok {
		return aidhub.Date{}, aidhub.Errorf(aidhub.EBADINPUT, "a Date is a string YYYY-MM-DD")
	}
	d, err := aidhub.ParseDate(s)
	if err != nil {
		return aidhub.Date{}, aidhub.Errorf(aidhub.EBADINPUT, "%s", err.Error())
	}
	return d, nil
}

// MarshalDateTime writes RFC 3339 in UTC.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
	})
}

// UnmarshalDateTime reads RFC 3339.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, aidhub.Errorf(aidhub.EBADINPUT, "a DateTime is an RFC 3339 string")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, aidhub.Errorf(aidhub.EBADINPUT, "%q is not an RFC 3339 time", s)
	}
	return t, nil
}

// maxSafeInteger is the largest integer a JSON number holds exactly in
// JavaScript clients.
const maxSafeInteger = 1<<53 - 1

// MarshalFen writes an integer.
func MarshalFen(v int64) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { io.WriteString(w, strconv.FormatInt(v, 10)) })
}

// UnmarshalFen reads a whole number of fen, given as a number or a string of digits.
func UnmarshalFen(v any) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > maxSafeInteger {
			return 0, aidhub.Errorf(aidhub.EBADINPUT, "a Fen amount is a whole number of fen (1 yuan = 100 fen)")
		}
		n = int64(x)
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			return 0, aidhub.Errorf(aidhub.EBADINPUT, "a Fen amount is a whole number of fen (1 yuan = 100 fen)")
		}
		n = i
	case string:
		i, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, aidhub.Errorf(aidhub.EBADINPUT, "%q is not a whole number of fen", x)
		}
		n = i
	default:
		return 0, aidhub.Errorf(aidhub.EBADINPUT, "a Fen amount is a whole number of fen, got %s", jsonKind(v))
	}
	if n > maxSafeInteger || n < -maxSafeInteger {
		return 0, aidhub.Errorf(aidhub.EBADINPUT, "%d fen is out of range", n)
	}
	return n, nil
}

// MarshalDivisionCode writes the code.
func MarshalDivisionCode(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalDivisionCode checks the form (2, 6, 9 or 12 digits); whether the
// code exists is for the domain to say, with the field that holds it.
func UnmarshalDivisionCode(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", aidhub.Errorf(aidhub.EBADINPUT, "a DivisionCode is a string of 2, 6, 9 or 12 digits")
	}
	if _, ok := regions.LevelOf(s); !ok {
		return "", aidhub.Errorf(aidhub.EBADINPUT, "%s", fmt.Sprintf("%q is not a division code: want 2, 6, 9 or 12 digits", aidhub.Clip(s)))
	}
	return s, nil
}

// MarshalColour writes a watchlist colour as its enum name.
func MarshalColour(c aidhub.Colour) graphql.Marshaler { return graphql.MarshalString(c.String()) }

// UnmarshalColour reads a WatchColour enum value.
func UnmarshalColour(v any) (aidhub.Colour, error) {
	s, ok := v.(string)
	var c aidhub.Colour
	if !ok || c.UnmarshalText([]byte(s)) != nil {
		return 0, aidhub.Errorf(aidhub.EBADINPUT, "a WatchColour is one of GREEN, BLUE, YELLOW, ORANGE, RED")
	}
	return c, nil
}

// jsonKind names the kind of a decoded JSON value as a client knows it,
// never as a Go type.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case int, int32, int64, float64, json.Number:
		return "a number"
	}
	return "another kind of value"
}
