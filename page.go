package aidhub

// PageArgs asks for up to First rows after the row with ID After: every
// list of the hub pages this way, by ID.
type PageArgs struct {
	First int
	After int64
}

// MaxPage is the largest page a caller may ask for.
const MaxPage = 100

// Validate fills the default page size (20) and checks the bounds.
func (p *PageArgs) Validate() error {
	if p.First == 0 {
		p.First = 20
	}
	if p.First < 0 || p.First > MaxPage {
		return Invalid("first", "must be 1 to %d, got %d", MaxPage, p.First)
	}
	if p.After < 0 {
		return Invalid("after", "is not a cursor of this list")
	}
	return nil
}

// Page is one page of a list ordered by ID.
type Page[T any] struct {
	Items       []T
	HasNextPage bool
	TotalCount  int
	IDs         []int64 // the ID of each item, for cursors
}

// NewPage cuts rows, fetched with one row more than asked so that the
// extra row tells whether there is a next page, into a page.
func NewPage[T any](rows []T, args PageArgs, total int, id func(T) int64) *Page[T] {
	p := &Page[T]{TotalCount: total}
	if len(rows) > args.First {
		rows, p.HasNextPage = rows[:args.First], true
	}
	p.Items = rows
	for _, r := range rows {
		p.IDs = append(p.IDs, id(r))
	}
	return p
}
