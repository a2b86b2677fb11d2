package aidhub

// Opt is an optional patch field: Set says whether the caller gave it at
// all, Value is nil when the caller gave null (clear the field).
type Opt[T any] struct {
	Set   bool
	Value *T
}

// Some returns a set field with value v.
func Some[T any](v T) Opt[T] { return Opt[T]{Set: true, Value: &v} }

// Null returns a set field that clears the value.
func Null[T any]() Opt[T] { return Opt[T]{Set: true} }

// Apply writes the patch into *dst when the field is set, and leaves it
// alone when not.
func (o Opt[T]) Apply(dst **T) {
	if o.Set {
		*dst = o.Value
	}
}
