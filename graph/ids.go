package graph

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/aidhub/aidhub"
)

// Global IDs are base64url("Type:key"): opaque to clients, cheap to decode.
// Catalog entries are keyed by code, the rest by their row ID.

func globalID(typ, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + key))
}

func rowID(typ string, id int64) string { return globalID(typ, strconv.FormatInt(id, 10)) }

// parseGlobalID splits an ID into type and key; ok is false for anything
// that is not one of ours.
func parseGlobalID(id string) (typ, key string, ok bool) {
	if len(id) > 200 {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", "", false
	}
	typ, key, ok = strings.Cut(string(raw), ":")
	return typ, key, ok && key != ""
}

// decodeRowID returns the row ID of a global ID of type typ, or a
// BAD_USER_INPUT naming the field.
func decodeRowID(field, typ, id string) (int64, error) {
	t, key, ok := parseGlobalID(id)
	if ok && t == typ {
		if n, err := strconv.ParseInt(key, 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	if typ == cursorPrefix {
		return 0, aidhub.Invalid(field, "%q is not a cursor of this list", clipID(id))
	}
	article := "a"
	if strings.ContainsRune("AEIOU", rune(typ[0])) {
		article = "an"
	}
	return 0, aidhub.Invalid(field, "%q is not %s %s ID", clipID(id), article, typ)
}

func clipID(id string) string {
	if len(id) > 40 {
		return id[:40] + "…"
	}
	return id
}

// The type names inside global IDs, one per Node type.
const (
	typeResource     = "Resource"
	typeOrganization = "Organization"
	typeGroup        = "PopulationGroup"
	typeCategory     = "ServiceCategory"
	typeItem         = "ServiceItem"
	typeHousehold    = "Household"
	typePerson       = "Person"
	typeConsent      = "Consent"
	typeApplication  = "Application"
	typeAssessment   = "Assessment"
	typeNeed         = "Need"
	typeAidRecord    = "AidRecord"
	typeReferral     = "Referral"
	typeWarning      = "Warning"
	typeSignal       = "Signal"
	cursorPrefix     = "cursor"
)

func encodeCursor(id int64) string { return rowID(cursorPrefix, id) }

// decodeCursor turns an `after` cursor into the row ID to start after.
func decodeCursor(after *string) (int64, error) {
	if after == nil || *after == "" {
		return 0, nil
	}
	return decodeRowID("after", cursorPrefix, *after)
}

// DecodeOrganizationID returns the row ID inside an Organization global ID.
func DecodeOrganizationID(id string) (int64, error) {
	return decodeRowID("id", typeOrganization, id)
}

// optRowID decodes an optional global ID.
func optRowID(field, typ string, id *string) (*int64, error) {
	if id == nil {
		return nil, nil
	}
	n, err := decodeRowID(field, typ, *id)
	if err != nil {
		return nil, err
	}
	return &n, nil
}
