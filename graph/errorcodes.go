package graph

import (
	"github.com/aidhub/aidhub"
)

// Codes of the protocol: requests refused before anything runs, by gqlgen,
// by the limits here or by server's transport. They are here, in one place,
// so that ErrorCodes (and the README's table written from it) lists each.
const (
	// CodeParseFailed and CodeValidationFailed are gqlgen's
	// (errcode.ParseFailed, errcode.ValidationFailed).
	CodeParseFailed      = "GRAPHQL_PARSE_FAILED"
	CodeValidationFailed = "GRAPHQL_VALIDATION_FAILED"
	// CodeComplexityLimit is gqlgen's extension.FixedComplexityLimit's.
	CodeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"
	CodeDepthLimit      = "DEPTH_LIMIT_EXCEEDED"
	CodeAliasLimit      = "ALIAS_LIMIT_EXCEEDED"
	CodeSelectionLimit  = "SELECTION_LIMIT_EXCEEDED"
	// CodePersistedQueryNotFound is gqlgen's APQ code: the client is to
	// send the query with its hash; part of the APQ handshake, not a failure.
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
	CodeMethodNotAllowed       = "METHOD_NOT_ALLOWED"
	CodeNotAcceptable          = "NOT_ACCEPTABLE"
	CodeUnsupportedMediaType   = "UNSUPPORTED_MEDIA_TYPE"
)

// ErrorCode is one value of an error's extensions.code and what it means.
type ErrorCode struct {
	Code string
	// Protocol: the request was refused before it ran (no data).
	Protocol bool
	Meaning  string
}

// ErrorCodes are every code an error of the API may carry: the
// application's (aidhub.E*), then the protocol's. The README's table is
// written from it by go generate; TestErrorCodes_EveryCodeListed fails when
// the code uses one that is not here.
var ErrorCodes = []ErrorCode{
	{aidhub.EBADINPUT, false, "an input is not valid; `extensions.field` names it. Also before running: `first` out of range, a list too long, a body that is not a GraphQL request (400)"},
	{aidhub.EUNAUTHENTICATED, false, "no valid token, and the field or operation needs one"},
	{aidhub.EFORBIDDEN, false, "the caller's role or scope may not do this"},
	{aidhub.ENOTFOUND, false, "no such record, or none the caller may see"},
	{aidhub.ECONFLICT, false, "the change conflicts with what is stored (a version, a resident ID on file, a state)"},
	{aidhub.EDUPLICATEAID, false, "the person or household already has aid in the category for an overlapping period (重复帮扶)"},
	{aidhub.ECAPACITY, false, "the resource has no units or budget left"},
	{aidhub.ECONSENT, false, "the household has not (or no longer) consented to this use"},
	{aidhub.EINTERNAL, false, "anything else; details only in the log"},
	{CodeParseFailed, true, "the query is not GraphQL, or has more tokens than the limit"},
	{CodeValidationFailed, true, "the query does not fit the schema, or its variables do not fit their types"},
	{CodeComplexityLimit, true, "the query's complexity is over the limit"},
	{CodeDepthLimit, true, "the query is nested deeper than the limit"},
	{CodeAliasLimit, true, "the query has more aliases than the limit"},
	{CodeSelectionLimit, true, "the query selects more fields than the limit once its fragments are expanded, or takes too many steps to validate"},
	{CodePersistedQueryNotFound, true, "an automatic persisted query's hash is unknown: send the query with it (200)"},
	{CodeMethodNotAllowed, true, "another method than GET, POST or OPTIONS, or a mutation over GET (405)"},
	{CodeNotAcceptable, true, "the Accept header allows no response media type (406)"},
	{CodeUnsupportedMediaType, true, "the body is not application/json (415)"},
}
