package graph

import (
	"context"

	"github.com/aidhub/aidhub"

	"github.com/99designs/gqlgen/graphql"

	"github.com/aidhub/aidhub/graph/model"
)

func pageArgs(first *int, after *string) (aidhub.PageArgs, error) {
	a := aidhub.PageArgs{}
	if first != nil {
		if *first < 1 || *first > aidhub.MaxPage {
			return a, aidhub.Invalid("first", "must be 1 to %d, got %d", aidhub.MaxPage, *first)
		}
		a.First = *first
	}
	var err error
	a.After, err = decodeCursor(after)
	return a, err
}

func pageInfo(ids []int64, hasNext bool, after int64) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: hasNext, HasPreviousPage: after > 0}
	if len(ids) > 0 {
		start, end := encodeCursor(ids[0]), encodeCursor(ids[len(ids)-1])
		pi.StartCursor, pi.EndCursor = &start, &end
	}
	return pi
}

// opt turns a GraphQL omittable field into a domain patch field.
func opt[T any](o graphql.Omittable[*T]) aidhub.Opt[T] {
	v, set := o.ValueOK()
	if !set {
		return aidhub.Opt[T]{}
	}
	return aidhub.Opt[T]{Set: true, Value: v}
}

// optInt64 is opt for GraphQL Int fields held as int64 in the domain.
func optInt64(o graphql.Omittable[*int]) aidhub.Opt[int64] {
	v, set := o.ValueOK()
	if !set {
		return aidhub.Opt[int64]{}
	}
	if v == nil {
		return aidhub.Null[int64]()
	}
	return aidhub.Some(int64(*v))
}

func optList(o graphql.Omittable[[]string]) *[]string {
	v, set := o.ValueOK()
	if !set {
		return nil
	}
	if v == nil {
		v = []string{}
	}
	return &v
}

func ptrOpt[T any](v *T) aidhub.Opt[T] {
	if v == nil {
		return aidhub.Opt[T]{}
	}
	return aidhub.Some(*v)
}

func int64Opt(v *int) aidhub.Opt[int64] {
	if v == nil {
		return aidhub.Opt[int64]{}
	}
	return aidhub.Some(int64(*v))
}

func listPtr(v []string) *[]string {
	if v == nil {
		return nil
	}
	return &v
}

func deref[T any](v *T) T {
	var zero T
	if v == nil {
		return zero
	}
	return *v
}

// optString is for text fields: null clears them to "".
func optString(o graphql.Omittable[*string]) *string {
	v, set := o.ValueOK()
	if !set {
		return nil
	}
	if v == nil {
		empty := ""
		return &empty
	}
	return v
}

func versionPtr(v *int) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}

// optional calls get for a non-nil ID and turns NOT_FOUND into null: a
// field pointing at something the caller may not see is simply empty. Any
// other error stays: CONSENT_REQUIRED, when a charity reads a household
// referred to it that no longer consents, is null with that error.
func optional[T any](ctx context.Context, id *int64, get func(context.Context, int64) (*T, error)) (*T, error) {
	if id == nil {
		return nil, nil
	}
	v, err := get(ctx, *id)
	if aidhub.ErrorCode(err) == aidhub.ENOTFOUND {
		return nil, nil
	}
	return v, err
}
