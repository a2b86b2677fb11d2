package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/aidhub/aidhub"
)

// withInputPath gives a BAD_USER_INPUT without a field (a custom scalar
// refusing its value: `"5001" is not a division code`) the input path of
// the value, so the message names it like every other BAD_USER_INPUT:
// `input.coverage[0]: "5001" is not a division code`. The path is what the
// error's path holds below the field being resolved, which gqlgen extends
// with the argument and input field names while it decodes arguments.
func withInputPath(ctx context.Context, path ast.Path, ae *aidhub.Error) *aidhub.Error {
	if ae.Field != "" || ae.Code != aidhub.EBADINPUT {
		return ae
	}
	field := inputPath(ctx, path)
	if field == "" {
		return ae
	}
	c := *ae
	c.Field = field
	return &c
}

func inputPath(ctx context.Context, path ast.Path) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return ""
	}
	base := fc.Path()
	if len(path) <= len(base) {
		return ""
	}
	for i := range base {
		if path[i] != base[i] {
			return ""
		}
	}
	var b strings.Builder
	for _, el := range path[len(base):] {
		switch el := el.(type) {
		case ast.PathIndex:
			fmt.Fprintf(&b, "[%d]", int(el))
		case ast.PathName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(el))
		}
	}
	return b.String()
}
