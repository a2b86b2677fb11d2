package db

import "github.com/uptrace/bun"

// Unit is the transaction of one change, handed by the package that owns
// the changed tables to what must commit with the change or not at all:
// the audit log's entry, the search outbox's and the re-matching jobs,
// the capacity a referral takes of a resource. It is the only form in
// which a transaction crosses a package boundary, so that a receiver
// cannot mistake it for a handle to query other packages' tables with.
//
// The package that began the transaction commits or rolls it back; a
// receiver writes only its own tables (or queues its River jobs) in it,
// through Tx, and never ends it.
type Unit struct{ tx bun.Tx }

// UnitOf wraps tx, the transaction of a change, to hand it on.
func UnitOf(tx bun.Tx) Unit { return Unit{tx: tx} }

// Tx is the unit's transaction, for its receiver to write its own tables
// (or insert its jobs) in. Only the receiving package unwraps it.
func (u Unit) Tx() bun.Tx { return u.tx }
