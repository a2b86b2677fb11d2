// Package matching is aidhub's matching engine: plain values in, ranked
// and explained matches out. It imports no storage, GraphQL or search
// package, so it can be tested and benchmarked alone.
//
// # Matching
//
// A Need (an assessed need of a person, or of a household as a whole) is
// matched against Resources (published charity resources). A resource is
// a match when it passes every hard filter:
//
//   - category: it offers an item in the need's category or in a category
//     below it (a need for MEDICAL is met by INPATIENT_AID of
//     MEDICAL_INPATIENT), never above or beside it (a MEDICAL_INPATIENT
//     need is not met by MEDICAL_ESCORT of MEDICAL: an escort does not pay
//     an inpatient bill). An item the need names does not filter: it ranks
//     (item fit);
//   - group: the resource is for any group, or for one of the need's;
//   - coverage: one of its division-code prefixes is a prefix of the
//     need's region;
//   - age: AgeMin ≤ age ≤ AgeMax; income: income ≤ ceiling (per capita,
//     per month, in fen);
//   - window: ValidFrom ≤ today ≤ ValidUntil;
//   - capacity: every counted measure (units, budget) above zero;
//   - rule: the resource's expression (RuleEnv) is true; an evaluation
//     error fails it with the error as the reason;
//   - duplicate: no aid to the need's subject covers its category today
//     or later (Need.BlockedUntil < today). aidhub.Catalog.Covers is the
//     rule: aid in a category covers needs in it and above it, for its
//     period and at least its own category's window, whether or not it
//     names the need.
//
// Matches are scored out of MaxScore (100) points by seven factors, each a
// value in [0, 1] times its share of the points (100 × its weight / the
// sum of the weights; Weights): severity (severity / 5); item fit, a
// property of the pair (1 when the resource offers the item the need
// names, 0.6 when it offers an item in the need's category, 0.3 when it
// offers only items in categories below it); the entitlement of the best
// pair of the need's groups and the resource's items answering the need in
// the groups' differentiated plans (ENTITLED 1, RECOMMENDED 0.6, OPTIONAL
// 0.3, none 0); distance by administrative proximity of the need's region
// to the resource's location, since households have no coordinates (same
// village 1, street 0.75, district 0.5, city 0.2, resource location
// unknown 0.1, farther 0); waiting time (days since the need was opened /
// 90, at most 1); group priority ((10 − best tier) / 9); and scarcity (1 −
// units left / units total for resources counting units, else 0).
// Scarcity is positive on purpose: a resource that is nearly used up is
// offered first where it fits, so its last units are spent before it
// lapses instead of a fresh resource's; its default weight is small so it
// only separates near ties.
//
// The score is the sum of the contributions added in the fixed order of
// the factors, so the explanation adds up to the score exactly. A need's
// matches are ordered by item fit first, so that what the need asked for
// comes first and the other items of its category follow, then by score,
// then by resource ID (Match, Sweep); a resource's needs by score, then
// need ID (MatchResource), so that the most urgent come first whatever
// they named.
//
// # Indexes and memory
//
// Need → resources: every resource is listed in buckets keyed by
// (category, coverage prefix), once for each category its items are in and
// each category above those, with a mask of the items it offers directly
// in the category for the item fit, and in buckets keyed by (item,
// coverage prefix) for each item it offers. A need looks up one bucket per
// prefix length in use (at most 12; 2, 6, 9 and 12 in practice): a need
// naming an item first those of the item (every entry an exact fit), then
// those of its category skipping exact fits; the sweep, which keeps the
// best only, needs the category's buckets only when no resource offers the
// item. So a need's cost follows the resources that answer its category
// and cover its region, not the whole catalogue of resources. Coverage
// prefixes of a resource that lie inside another of its prefixes are
// dropped, so a resource is listed once in the buckets a need looks up
// for one code (its exact fits a second time, skipped). A bucket holds a
// copy of what the filters read (32 bytes: groups, income ceiling,
// validity, age range, with capacity folded into validity) apart from what
// only the score of a passing resource reads (64 bytes: ID, plan masks,
// the items offered directly, location, scarcity), so a need never touches
// the resources themselves;
// the group filter is one AND on the copied mask (a resource for any
// group carries every bit), which narrows by group without listing a
// resource once per group.
//
// Resource → needs: NeedIndex keeps need indexes in buckets keyed by
// (category, district, group) plus (category, district, any group); a
// resource scans the buckets of its categories, the districts its coverage
// reaches and, when it is for some groups only, those groups' buckets.
//
// Population stores open needs and their people as a struct of arrays:
// 40 bytes per person row and 26 per need, codes interned to small
// integers, groups as a 64-bit mask, regions interned with their prefixes
// parsed once, no pointers for the garbage collector to follow. Sweep
// walks the needs in region order (a counting sort, 4 bytes per need), so
// that a district's shared buckets stay in cache and each worker looks up
// the buckets of a (village, offer) once; it keeps the best match per
// need and counts the watchlist by district and colour. With 50,000
// resources, the engine, a population of 3,080,000 people (4.0 million
// needs) and its NeedIndex take about 130 bytes per person.
package matching
