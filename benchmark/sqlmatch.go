package benchmark

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/matching"
)

// Best is the best match of one need: a resource and its score.
type Best struct {
	ResourceID int64
	Score      float64
}

// SQLScope narrows the SQL matcher to some open needs: those of households
// whose region starts with one of Prefixes, or (when Prefixes is empty)
// every open need.
type SQLScope struct {
	Prefixes []string
}

// SQLResult is what one run of the SQL matcher returned and how long it
// took (statement sent to the last row read).
type SQLResult struct {
	Best    map[int64]Best // need ID → best resource; needs without a match are absent
	Elapsed time.Duration
}

// sqlMatch is the set-based matcher: one statement that applies the
// engine's hard filters and score to every open need in scope and keeps
// the best resource of each (DISTINCT ON: item fit, then score, then
// resource ID, as the engine ranks a need's matches). It follows the
// engine's documentation (package matching) and the loader in
// matcher/load.go:
//
//   - the category tree: cc, a recursive CTE, pairs every category with
//     itself and with each category below it;
//   - need side: household size (members), income per capita (monthly
//     income / size, integer division), age on the day (the person's, or
//     the household head's for household-level needs), the groups in force
//     (a person's own and the head's; every member's for household-level
//     needs) as a bitmask, the best tier, and the duplicate-aid block
//     (Catalog.Covers) from aid_records and open referrals: aid in the
//     need's category or a category below it, both with a window, counts
//     until the end of its period and at least its own category's window
//     from its start; a need naming an item outside its category is left
//     out, as the engine refuses it;
//   - resource side: published, no eligibility rule (rules are expressions
//     evaluated in Go, which SQL cannot run: such resources are left out
//     here and in the comparison), valid today, capacity left; groups as
//     a bitmask; one offer per category its items are in and per category
//     above those, with the plan levels of the items in that category or
//     below it as bitmasks (the entitlement factor) and the items directly
//     in it (the item fit: the item the need names 1, another item of the
//     category 0.6, none, only items below it, 0.3);
//   - candidates by the same keys as the engine's buckets: (category,
//     coverage prefix), the need's prefixes of every length in use joined
//     to the resources' (offer, prefix) pairs by hash; an item the need
//     names does not filter, it only ranks;
//   - the score adds the seven contributions (the factor's points, 100 ×
//     weight / the sum of the weights, times its value) in the engine's
//     order in float8, so equal inputs give the engine's bits.
//
// Parameters, in order: today twice, the scope condition's own, today
// seven times, then the seven factors' points (points, computed in Go as
// the engine computes them).
const sqlMatch = `
WITH RECURSIVE
cc AS (
  SELECT code AS anc, code FROM service_categories
  UNION ALL
  SELECT cc.anc, c.code FROM cc JOIN service_categories c ON c.parent_code = cc.code
),
g AS (
  SELECT code, (row_number() OVER (ORDER BY code) - 1)::int AS bit, tier FROM population_groups
),
pm AS (
  SELECT pe.item_code,
    bit_or(CASE WHEN pe.level = 'ENTITLED' THEN 1::bigint << g.bit ELSE 0 END) AS ent,
    bit_or(CASE WHEN pe.level = 'RECOMMENDED' THEN 1::bigint << g.bit ELSE 0 END) AS rec,
    bit_or(CASE WHEN pe.level = 'OPTIONAL' THEN 1::bigint << g.bit ELSE 0 END) AS opt
  FROM plan_entries pe JOIN g ON g.code = pe.group_code
  GROUP BY pe.item_code
),
r AS MATERIALIZED (
  SELECT r.id, coalesce(rg.mask, -1) AS groups, r.age_min, r.age_max, r.income_ceiling_fen AS ceiling,
    coalesce(r.division_code, '') AS loc, rpad(coalesce(r.division_code, ''), 12, '0') AS loc12,
    CASE WHEN r.capacity_units > 0
      THEN least(greatest(1 - (r.capacity_units - r.units_taken)::float8 / r.capacity_units::float8, 0::float8), 1::float8)
      ELSE 0::float8 END AS scarcity
  FROM resources r
  LEFT JOIN (SELECT rg.resource_id, bit_or(1::bigint << g.bit) AS mask
             FROM resource_groups rg JOIN g ON g.code = rg.group_code GROUP BY rg.resource_id) rg ON rg.resource_id = r.id
  WHERE r.status = 'PUBLISHED' AND r.eligibility_rule = ''
    AND (r.valid_from IS NULL OR r.valid_from <= ?::date) AND (r.valid_until IS NULL OR r.valid_until >= ?::date)
    AND (r.capacity_units IS NULL OR r.capacity_units - r.units_taken > 0)
    AND (r.capacity_budget_fen IS NULL OR r.capacity_budget_fen - r.budget_taken_fen > 0)
),
ro AS (
  SELECT ri.resource_id, cc.anc AS offer,
    coalesce(bit_or(pm.ent), 0) AS ent, coalesce(bit_or(pm.rec), 0) AS rec, coalesce(bit_or(pm.opt), 0) AS opt,
    array_agg(ri.item_code) FILTER (WHERE si.category_code = cc.anc) AS direct
  FROM resource_items ri JOIN r ON r.id = ri.resource_id JOIN service_items si ON si.code = ri.item_code
  JOIN cc ON cc.code = si.category_code
  LEFT JOIN pm ON pm.item_code = ri.item_code
  GROUP BY ri.resource_id, cc.anc
),
rk AS MATERIALIZED (
  SELECT ro.offer, rc.division_prefix AS prefix, r.id AS resource_id, ro.ent, ro.rec, ro.opt, ro.direct,
    r.groups, r.age_min, r.age_max, r.ceiling, r.loc, r.loc12, r.scarcity
  FROM ro JOIN r ON r.id = ro.resource_id JOIN resource_coverage rc ON rc.resource_id = ro.resource_id
),
lens AS (
  SELECT DISTINCT length(prefix) AS l FROM rk
),
n0 AS MATERIALIZED (
  SELECT n.id, n.household_id, n.person_id, n.category_code, n.item_code, n.severity, n.opened_on,
    h.region_code, h.monthly_income_fen
  FROM needs n JOIN households h ON h.id = n.household_id
  WHERE n.status = 'OPEN' AND %s
),
hh AS MATERIALIZED (
  SELECT DISTINCT household_id FROM n0
),
mem AS MATERIALIZED (
  SELECT p.id, p.household_id, p.relation, p.birth_date, p.female
  FROM persons p JOIN hh ON hh.household_id = p.household_id
),
hs AS (
  SELECT household_id, count(*) AS size, max(id) FILTER (WHERE relation = 'HEAD') AS head
  FROM mem GROUP BY household_id
),
pgm AS MATERIALIZED (
  SELECT gm.person_id, bit_or(1::bigint << g.bit) AS mask
  FROM group_memberships gm JOIN mem ON mem.id = gm.person_id JOIN g ON g.code = gm.group_code
  WHERE gm.since <= ?::date AND (gm.until IS NULL OR gm.until >= ?::date)
  GROUP BY gm.person_id
),
hgm AS (
  SELECT mem.household_id, bit_or(pgm.mask) AS mask
  FROM pgm JOIN mem ON mem.id = pgm.person_id GROUP BY mem.household_id
),
aid AS (
  SELECT a.household_id, a.person_id, a.category_code, a.period_start, a.period_end
  FROM aid_records a JOIN hh ON hh.household_id = a.household_id
  UNION ALL
  SELECT f.household_id, f.person_id, f.category_code, f.period_start, f.period_end
  FROM referrals f JOIN hh ON hh.household_id = f.household_id
  WHERE f.status IN ('PENDING', 'ACCEPTED', 'IN_PROGRESS')
),
blk AS (
  SELECT n0.id, max(greatest(a.period_end, a.period_start + (ac.duplicate_window_days - 1))) AS until
  FROM n0
  JOIN service_categories nc ON nc.code = n0.category_code AND nc.duplicate_window_days > 0
  JOIN aid a ON a.household_id = n0.household_id
    AND (n0.person_id IS NULL OR a.person_id IS NULL OR a.person_id = n0.person_id)
  JOIN service_categories ac ON ac.code = a.category_code AND ac.duplicate_window_days > 0
  JOIN cc ON cc.anc = n0.category_code AND cc.code = a.category_code
  GROUP BY n0.id
),
n1 AS (
  SELECT n0.id, n0.region_code AS region, n0.severity, n0.opened_on,
    n0.category_code AS offer, n0.item_code AS item,
    CASE WHEN n0.person_id IS NULL THEN coalesce(hgm.mask, 0)
      ELSE coalesce(pp.mask, 0) | coalesce(ph.mask, 0) END AS groups,
    CASE WHEN s.birth_date IS NULL THEN 0 ELSE greatest(
      extract(year FROM ?::date)::int - extract(year FROM s.birth_date)::int
      - CASE WHEN (extract(month FROM ?::date), extract(day FROM ?::date)) < (extract(month FROM s.birth_date), extract(day FROM s.birth_date))
        THEN 1 ELSE 0 END, 0) END AS age,
    n0.monthly_income_fen / greatest(coalesce(hs.size, 1), 1) AS income
  FROM n0
  LEFT JOIN service_items ni ON ni.code = n0.item_code
  LEFT JOIN hs ON hs.household_id = n0.household_id
  LEFT JOIN mem s ON s.id = coalesce(n0.person_id, hs.head)
  LEFT JOIN pgm pp ON pp.person_id = n0.person_id
  LEFT JOIN pgm ph ON ph.person_id = hs.head
  LEFT JOIN hgm ON hgm.household_id = n0.household_id
  LEFT JOIN blk ON blk.id = n0.id
  WHERE (blk.until IS NULL OR blk.until < ?::date)
    AND (n0.item_code IS NULL OR ni.category_code = n0.category_code)
),
n AS MATERIALIZED (
  SELECT n1.id, n1.region, n1.offer, n1.item, n1.groups, n1.age, n1.income,
    n1.severity::float8 / 5 AS sev_v,
    least(greatest(?::date - n1.opened_on, 0)::float8 / 90, 1::float8) AS wait_v,
    coalesce((SELECT (10 - min(g.tier))::float8 / 9 FROM g WHERE n1.groups & (1::bigint << g.bit) <> 0), 0::float8) AS prio_v
  FROM n1
  WHERE n1.age <= 150
),
nk AS (
  SELECT n.*, left(n.region, lens.l) AS prefix
  FROM n JOIN lens ON lens.l <= length(n.region)
),
cand AS (
  SELECT nk.id AS need_id, rk.resource_id, nk.region, nk.groups, nk.sev_v, nk.wait_v, nk.prio_v,
    rk.ent, rk.rec, rk.opt, rk.loc, rk.loc12, rk.scarcity,
    CASE WHEN rk.direct IS NULL THEN 0.3::float8
         WHEN nk.item IS NOT NULL AND nk.item = ANY (rk.direct) THEN 1::float8
         ELSE 0.6::float8 END AS fit
  FROM nk JOIN rk ON rk.offer = nk.offer AND rk.prefix = nk.prefix
  WHERE (rk.groups = -1 OR rk.groups & nk.groups <> 0)
    AND (rk.age_min IS NULL OR nk.age >= rk.age_min) AND (rk.age_max IS NULL OR nk.age <= rk.age_max)
    AND (rk.ceiling IS NULL OR nk.income <= rk.ceiling)
),
scored AS (
  SELECT need_id, resource_id, fit,
    ((((((?::float8 * sev_v
      + ?::float8 * fit)
      + ?::float8 * CASE WHEN groups & ent <> 0 THEN 1::float8 WHEN groups & rec <> 0 THEN 0.6::float8
                         WHEN groups & opt <> 0 THEN 0.3::float8 ELSE 0::float8 END)
      + ?::float8 * CASE
          WHEN loc = '' THEN 0.1::float8
          WHEN least(length(region), length(loc)) >= 12 AND left(region, 12) = loc12 THEN 1::float8
          WHEN least(length(region), length(loc)) >= 9 AND left(region, 9) = left(loc12, 9) THEN 0.75::float8
          WHEN least(length(region), length(loc)) >= 6 AND left(region, 6) = left(loc12, 6) THEN 0.5::float8
          WHEN least(length(region), length(loc)) >= 4 AND left(region, 4) = left(loc12, 4)
            OR least(length(region), length(loc)) >= 2 AND left(region, 2) = left(loc12, 2)
               AND left(region, 2) IN ('11', '12', '31', '50') THEN 0.2::float8
          ELSE 0::float8 END)
      + ?::float8 * wait_v)
      + ?::float8 * prio_v)
      + ?::float8 * scarcity) AS score
  FROM cand
)
SELECT DISTINCT ON (need_id) need_id, resource_id, score
FROM scored
ORDER BY need_id, fit DESC, score DESC, resource_id`

// SQLMatcher runs the set-based SQL matcher on PostgreSQL.
type SQLMatcher struct {
	DB      *db.DB
	Weights matching.Weights
	// WorkMem is the session's work_mem for the statement ("" leaves the
	// server's): the hash joins and the final sort are large.
	WorkMem string
	// JIT leaves PostgreSQL's JIT compilation on; off, the statement is
	// planned and run without it (JIT costs seconds on this statement).
	JIT bool
}

// Run matches the open needs in scope on day today (YYYY-MM-DD).
func (m *SQLMatcher) Run(ctx context.Context, today string, scope SQLScope) (*SQLResult, error) {
	if !m.DB.IsPostgres() {
		return nil, fmt.Errorf("benchmark: the SQL matcher is written for PostgreSQL, not %s", m.DB.Engine)
	}
	where := "true"
	var scopeArgs []any
	if len(scope.Prefixes) > 0 {
		likes := make([]string, len(scope.Prefixes))
		for i, p := range scope.Prefixes {
			if strings.ContainsAny(p, "%_\\") {
				return nil, fmt.Errorf("benchmark: region prefix %q has LIKE wildcards", p)
			}
			likes[i] = p + "%"
		}
		where = "h.region_code LIKE ANY (?::text[])"
		scopeArgs = append(scopeArgs, "{"+strings.Join(likes, ",")+"}")
	}
	// the placeholders in the order they appear in the statement
	args := []any{today, today}
	args = append(args, scopeArgs...)
	args = append(args, today, today, today, today, today, today, today)
	for _, p := range points(m.Weights) {
		args = append(args, p)
	}
	query := fmt.Sprintf(sqlMatch, where)

	conn, err := m.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	if m.WorkMem != "" {
		if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = "+quote(m.WorkMem)); err != nil {
			return nil, fmt.Errorf("benchmark: work_mem: %w", err)
		}
	}
	if !m.JIT {
		if _, err := tx.ExecContext(ctx, "SET LOCAL jit = off"); err != nil {
			return nil, fmt.Errorf("benchmark: jit: %w", err)
		}
	}
	res := &SQLResult{Best: map[int64]Best{}}
	start := time.Now()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("benchmark: SQL matcher: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var need int64
		var b Best
		if err := rows.Scan(&need, &b.ResourceID, &b.Score); err != nil {
			return nil, err
		}
		res.Best[need] = b
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("benchmark: SQL matcher: %w", err)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
