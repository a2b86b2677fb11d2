package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/graph"
)

// Media types of GraphQL-over-HTTP responses.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// allowedMethods is the Allow header of /graphql.
const allowedMethods = "GET, POST, OPTIONS"

// httpTransport serves GraphQL over HTTP (POST and GET) as the
// GraphQL-over-HTTP specification says, in place of gqlgen's POST, GET and
// Options transports:
//
//   - the response media type follows Accept: application/graphql-response+json
//     when the client prefers it, application/json when it asks for it, for
//     */* or application/*, and when Accept is missing; 406 when it accepts
//     neither;
//   - a request that is not a GraphQL request (another method, a body that is
//     not JSON, a query that is not a string, …) is refused with a 4xx status
//     and a code, without a data entry, whatever the media type;
//   - a request refused before execution (parse, validation, variable
//     coercion, the complexity, depth, alias, token and range limits) is one
//     kind of error with one rule: 400 with application/graphql-response+json,
//     200 with application/json, and never a data entry (APQ's
//     PERSISTED_QUERY_NOT_FOUND is 200 with either);
//   - GET runs queries only: a mutation is 405 with Allow: POST.
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

// Supports takes every request but websocket upgrades, so no request ever
// meets gqlgen's uncoded "transport not supported".
func (httpTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == ""
}

// graphqlRequest is one GraphQL-over-HTTP request, already checked.
type graphqlRequest struct {
	params    *graphql.RawParams
	mediaType string
	get       bool
}

func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	mediaType, ok := negotiate(r.Header.Get("Accept"))
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Allow", allowedMethods)
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodPost:
	default:
		w.Header().Set("Allow", allowedMethods)
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		t.refuse(w, r, exec, mediaJSON, http.StatusMethodNotAllowed, graph.CodeMethodNotAllowed,
			"/graphql takes GET (queries) and POST, not %s", clipMethod(r.Method))
		return
	}
	if !ok {
		t.refuse(w, r, exec, mediaJSON, http.StatusNotAcceptable, graph.CodeNotAcceptable,
			"the response is %s or %s; the Accept header allows neither", mediaGraphQLResponse, mediaJSON)
		return
	}
	req := graphqlRequest{mediaType: mediaType, get: r.Method == http.MethodGet}
	var status int
	var err error
	if req.get {
		req.params, status, err = readGET(r)
	} else {
		req.params, status, err = readPOST(r)
	}
	if err != nil {
		code := aidhub.EBADINPUT
		if status == http.StatusUnsupportedMediaType {
			code = graph.CodeUnsupportedMediaType
		}
		t.refuse(w, r, exec, mediaType, status, code, "%s", err.Error())
		return
	}
	req.params.Headers = r.Header
	t.run(w, r, exec, req)
}

func (t httpTransport) run(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, req graphqlRequest) {
	ctx := r.Context()
	start := graphql.Now()
	req.params.ReadTime = graphql.TraceTiming{Start: start, End: start}
	opCtx, errs := exec.CreateOperationContext(ctx, req.params)
	if errs != nil {
		status := http.StatusOK
		if req.mediaType == mediaGraphQLResponse && !persistedQueryNotFound(errs) {
			status = http.StatusBadRequest
		}
		for _, e := range errs {
			cleanVariableError(e)
		}
		t.writeErrors(w, req.mediaType, status, exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs))
		return
	}
	switch opCtx.Operation.Operation {
	case ast.Mutation:
		if req.get {
			w.Header().Set("Allow", "POST")
			t.refuse(w, r, exec, req.mediaType, http.StatusMethodNotAllowed, graph.CodeMethodNotAllowed,
				"GET runs queries only; send mutations with POST")
			return
		}
	case ast.Subscription:
		t.refuse(w, r, exec, req.mediaType, http.StatusBadRequest, aidhub.EBADINPUT,
			"subscriptions are served over websocket (graphql-transport-ws), not over %s", r.Method)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp == nil { // the request's context ended before it ran
		t.refuse(w, r, exec, req.mediaType, http.StatusServiceUnavailable, aidhub.EINTERNAL,
			"the request was cancelled or timed out before it ran")
		return
	}
	w.Header().Set("Content-Type", req.mediaType)
	w.WriteHeader(http.StatusOK)
	b, err := json.Marshal(resp)
	if err != nil {
		requestLog(ctx).Error().Err(err).Msg("encoding the response failed")
		return
	}
	_, _ = w.Write(b)
}

// refuse answers a request the transport will not run, through the
// executor's error path so the presenter and the request log see it.
func (t httpTransport) refuse(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, mediaType string, status int, code, format string, args ...any) {
	err := &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}
	t.writeErrors(w, mediaType, status, exec.DispatchError(r.Context(), gqlerror.List{err}))
}

// writeErrors writes a response without a data entry: the request was not
// executed.
func (httpTransport) writeErrors(w http.ResponseWriter, mediaType string, status int, resp *graphql.Response) {
	body := struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{Errors: resp.Errors, Extensions: resp.Extensions}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func persistedQueryNotFound(errs gqlerror.List) bool {
	for _, e := range errs {
		if e.Extensions["code"] != graph.CodePersistedQueryNotFound {
			return false
		}
	}
	return len(errs) > 0
}

// negotiate picks the response media type from an Accept header: the
// supported type of the highest quality, the first listed among equals;
// */*, application/* and a missing header mean application/json. ok is
// false when the header accepts neither type.
func negotiate(accept string) (mediaType string, ok bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	type choice struct {
		mediaType string
		q         float64
	}
	var choices []choice
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		if q == 0 {
			continue
		}
		switch mt {
		case mediaGraphQLResponse:
			choices = append(choices, choice{mediaGraphQLResponse, q})
		case mediaJSON, "application/*", "*/*":
			choices = append(choices, choice{mediaJSON, q})
		}
	}
	if len(choices) == 0 {
		return "", false
	}
	sort.SliceStable(choices, func(i, j int) bool { return choices[i].q > choices[j].q })
	return choices[0].mediaType, true
}

// errBadRequest is a request that is not a GraphQL request; its message is
// ours, never the decoder's (no Go type names, no echo of the body).
type errBadRequest string

func (e errBadRequest) Error() string { return string(e) }

func readPOST(r *http.Request) (*graphql.RawParams, int, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != mediaJSON {
		return nil, http.StatusUnsupportedMediaType, errBadRequest("POST a JSON body with Content-Type: application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, http.StatusUnsupportedMediaType, errBadRequest("the body must be UTF-8 (Content-Type: application/json; charset=utf-8)")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, errBadRequest(fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit))
		}
		return nil, http.StatusBadRequest, errBadRequest("the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, http.StatusBadRequest, errBadRequest("the request body is empty; POST a JSON object with a query")
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, http.StatusBadRequest, errBadRequest(jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, http.StatusBadRequest, errBadRequest("the request body holds more than one JSON value")
	}
	p := &graphql.RawParams{}
	if err := decodeString(fields["query"], "query", &p.Query); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if err := decodeString(fields["operationName"], "operationName", &p.OperationName); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if err := decodeObject(fields["variables"], "variables", &p.Variables); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if err := decodeObject(fields["extensions"], "extensions", &p.Extensions); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if err := requireQuery(p); err != nil {
		return nil, http.StatusBadRequest, err
	}
	return p, 0, nil
}

func readGET(r *http.Request) (*graphql.RawParams, int, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, http.StatusBadRequest, errBadRequest("the URL's query string is malformed")
	}
	p := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	for name, into := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
		if s := q.Get(name); s != "" {
			if err := decodeObject(json.RawMessage(s), name, into); err != nil {
				return nil, http.StatusBadRequest, err
			}
		}
	}
	if err := requireQuery(p); err != nil {
		return nil, http.StatusBadRequest, err
	}
	return p, 0, nil
}

// requireQuery refuses a request without a query, unless it names a
// persisted query by its hash.
func requireQuery(p *graphql.RawParams) error {
	if p.Query != "" {
		return nil
	}
	if _, ok := p.Extensions["persistedQuery"]; ok {
		return nil
	}
	return errBadRequest("the request has no query")
}

func isNull(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

func decodeString(raw json.RawMessage, name string, into *string) error {
	if isNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return errBadRequest(name + " must be a string")
	}
	return nil
}

func decodeObject(raw json.RawMessage, name string, into *map[string]any) error {
	if isNull(raw) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // Int and Fen keep every digit
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return errBadRequest(name + " is not valid JSON")
		}
		return errBadRequest(name + " must be a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBadRequest(name + " must be one JSON object")
	}
	*into = m
	return nil
}

// jsonProblem says what is wrong with a body that is not a JSON object,
// with the byte offset of a syntax error but nothing of the body itself.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("the request body is not valid JSON (at byte %d); POST a JSON object with a query", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the request body is not valid JSON (it ends too early); POST a JSON object with a query"
	default:
		return "the request body must be a JSON object with a query"
	}
}

// variableCoercion matches gqlparser's messages that name Go kinds
// ("cannot use bool as Int", "must be a ResourceFilter, not a map").
var (
	cannotUse = regexp.MustCompile(`^cannot use .* as (\w+)`)
	mustBeNot = regexp.MustCompile(`^(must be an? \w+), not an? \w+$`)
)

// cleanVariableError rewrites a variable coercion error to name the
// variable and the expected type, without the Go kind of the value.
func cleanVariableError(e *gqlerror.Error) {
	if len(e.Path) < 2 || e.Path[0] != ast.PathName("variable") {
		return
	}
	msg := e.Message
	if m := cannotUse.FindStringSubmatch(msg); m != nil {
		msg = "must be " + article(m[1]) + " " + m[1]
	} else if m := mustBeNot.FindStringSubmatch(msg); m != nil {
		msg = m[1]
	}
	var name strings.Builder
	name.WriteString("$")
	for i, el := range e.Path[1:] {
		switch el := el.(type) {
		case ast.PathIndex:
			fmt.Fprintf(&name, "[%d]", int(el))
		case ast.PathName:
			if i > 0 {
				name.WriteString(".")
			}
			name.WriteString(string(el))
		}
	}
	e.Message = "variable " + name.String() + ": " + msg
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	if _, ok := e.Extensions["code"]; !ok {
		errcode.Set(e, graph.CodeValidationFailed)
	}
}

func article(word string) string {
	if word != "" && strings.ContainsRune("AEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}

func clipMethod(m string) string {
	if len(m) > 16 {
		return m[:16] + "…"
	}
	return m
}
