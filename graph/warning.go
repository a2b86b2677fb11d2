package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/graph/gqltypes"
	"github.com/aidhub/aidhub/graph/model"
	"github.com/aidhub/aidhub/warning"
	"github.com/aidhub/aidhub/warning/detect"
)

func (r *Resolver) recordSignals(ctx context.Context, in []*model.SignalInput) (*model.RecordSignalsPayload, error) {
	ins := make([]warning.SignalInput, len(in))
	for i, s := range in {
		field := fmt.Sprintf("input[%d]", i)
		sig := warning.SignalInput{Source: deref(s.Source), ExternalID: s.ExternalID, Kind: s.Kind,
			ObservedOn: s.ObservedOn, AmountFen: s.AmountFen, Status: deref(s.Status)}
		household, err := optRowID(field+".householdId", typeHousehold, s.HouseholdID)
		if err != nil {
			return nil, err
		}
		person, err := optRowID(field+".personId", typePerson, s.PersonID)
		if err != nil {
			return nil, err
		}
		sig.HouseholdID, sig.PersonID = deref(household), deref(person)
		ins[i] = sig
	}
	results, err := r.WarningService.RecordSignals(ctx, ins)
	if err != nil {
		return nil, err
	}
	out := &model.RecordSignalsPayload{Results: make([]*warning.RecordResult, len(results))}
	for i := range results {
		out.Results[i] = &results[i]
	}
	return out, nil
}

func warningType(in model.WarningTypeInput) detect.Type {
	t := detect.Type{
		Code: in.Code, NameZh: in.NameZh, NameEn: in.NameEn, DescriptionZh: deref(in.DescriptionZh), DescriptionEn: deref(in.DescriptionEn),
		Signals: in.Signals, Groups: in.Groups, Severity: in.Severity, Level: in.Level, SLADays: in.SLADays,
		Enabled: in.Enabled == nil || *in.Enabled, Subject: deref(in.Subject), Rule: deref(in.Rule),
	}
	if th := in.Threshold; th != nil {
		t.Threshold = &detect.ThresholdRule{
			Measure: th.Measure, Method: th.Method, Quantile: deref(th.Quantile), K: deref(th.K),
			WindowMonths: th.WindowMonths, MinN: th.MinN, Floor: th.Floor, Ceiling: th.Ceiling, Fixed: th.Fixed,
			PeerAdjusted: th.PeerAdjusted == nil || *th.PeerAdjusted, Also: deref(th.Also),
		}
	}
	return t
}

func (r *Resolver) updateWarningType(ctx context.Context, in model.WarningTypeInput, version *int) (*warning.WarningType, error) {
	var v *int64
	if version != nil {
		n := int64(*version)
		v = &n
	}
	return r.WarningService.UpdateType(ctx, warningType(in), v)
}

// recalibrate calibrates month (YYYY-MM; default the current one): from
// 2000 to the current month, since a later one has no months before it
// yet.
func (r *Resolver) recalibrate(ctx context.Context, month *string) (*warning.Calibration, error) {
	current := detect.MonthOf(r.WarningService.Today().Time)
	m := current
	if month != nil {
		var err error
		if m, err = detect.ParseMonth(*month); err != nil {
			return nil, aidhub.Invalid("month", "%q is not a month in the form YYYY-MM", aidhub.Clip(*month))
		}
		if m < 0 || m > current {
			return nil, aidhub.Invalid("month", "%s is outside 2000-01 to %s (this month)", m, current)
		}
	}
	return r.WarningService.Recalibrate(ctx, m)
}

// checkRegionPrefix refuses a prefix that is not up to 12 digits: it goes
// into a LIKE pattern.
func checkRegionPrefix(field, prefix string) error {
	if len(prefix) > 12 || strings.Trim(prefix, "0123456789") != "" {
		return aidhub.Invalid(field, "must be up to 12 digits")
	}
	return nil
}

func (r *Resolver) thresholds(ctx context.Context, regionPrefix, typeCode *string) ([]*detect.Threshold, error) {
	prefix, code := deref(regionPrefix), deref(typeCode)
	if err := checkRegionPrefix("regionPrefix", prefix); err != nil {
		return nil, err
	}
	if code != "" {
		t, err := r.WarningService.Type(ctx, code)
		if err != nil {
			return nil, err
		}
		if t == nil {
			return nil, aidhub.Invalid("typeCode", "%q is not a warning type", aidhub.Clip(code))
		}
	}
	ths, err := r.WarningService.Thresholds(ctx, prefix, code)
	if err != nil {
		return nil, err
	}
	out := make([]*detect.Threshold, len(ths))
	for i := range ths {
		out[i] = &ths[i]
	}
	return out, nil
}

func (r *Resolver) warnings(ctx context.Context, filter *model.WarningFilter, first *int, after *string) (*model.WarningConnection, error) {
	args, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	var f warning.Filter
	if filter != nil {
		f = warning.Filter{RegionPrefix: deref(filter.RegionPrefix), TypeCodes: filter.Types, Severities: filter.Severities,
			States: filter.States, Overdue: filter.Overdue}
		if err := checkRegionPrefix("filter.regionPrefix", f.RegionPrefix); err != nil {
			return nil, err
		}
		household, err := optRowID("filter.householdId", typeHousehold, filter.HouseholdID)
		if err != nil {
			return nil, err
		}
		f.HouseholdID = deref(household)
		for i, code := range f.TypeCodes {
			// An unknown code is a typo, not a type without warnings.
			t, err := r.WarningService.Type(ctx, code)
			if err != nil {
				return nil, err
			}
			if t == nil {
				return nil, aidhub.Invalid(fmt.Sprintf("filter.types[%d]", i), "%q is not a warning type", aidhub.Clip(code))
			}
		}
	}
	p, err := r.WarningService.Warnings(ctx, f, args)
	if err != nil {
		return nil, err
	}
	c := &model.WarningConnection{TotalCount: p.TotalCount, PageInfo: pageInfo(p.IDs, p.HasNextPage, args.After), Edges: make([]*model.WarningEdge, len(p.Items))}
	for i, w := range p.Items {
		c.Edges[i] = &model.WarningEdge{Cursor: encodeCursor(w.ID), Node: w}
	}
	return c, nil
}

func (r *Resolver) transitionWarning(ctx context.Context, in model.TransitionWarningInput) (*model.TransitionWarningPayload, error) {
	id, err := decodeRowID("warningId", typeWarning, in.WarningID)
	if err != nil {
		return nil, err
	}
	t := warning.Transition{WarningID: id, Action: in.Action, Note: deref(in.Note), Reason: deref(in.Reason),
		HelpText: deref(in.HelpText), CategoryCodes: in.CategoryCodes}
	if in.Outcome != nil {
		t.Outcome = *in.Outcome
	}
	if in.Version != nil {
		v := int64(*in.Version)
		t.Version = &v
	}
	w, err := r.WarningService.Transition(ctx, t)
	if err != nil {
		return nil, err
	}
	out := &model.TransitionWarningPayload{Warning: w}
	if w.ApplicationID != nil && in.Action == warning.ActionOpenApplication {
		if out.Application, err = r.Casework.Application(ctx, *w.ApplicationID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *Resolver) groups(ctx context.Context, codes []string) ([]*catalog.Group, error) {
	cat, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*catalog.Group, 0, len(codes))
	for _, code := range codes {
		if g, ok := cat.Group(code); ok {
			out = append(out, g)
		}
	}
	return out, nil
}

// divisionName is a division's own name (渝中区), or its code when the
// directory does not know it.
func (r *Resolver) divisionName(code string) string {
	if d, ok := r.CatalogService.Regions().Lookup(code); ok {
		return d.Name
	}
	return code
}

// facts lists a hit's facts by name, their values as JSON text.
func facts(fs map[string]any) []*model.WarningFact {
	names := make([]string, 0, len(fs))
	for name := range fs {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]*model.WarningFact, len(names))
	for i, name := range names {
		v, err := json.Marshal(fs[name])
		if err != nil {
			v = []byte(fmt.Sprint(fs[name]))
		}
		out[i] = &model.WarningFact{Name: name, Value: string(v)}
	}
	return out
}

// measured returns v for a threshold type's evidence, nil for a rule's.
func measured(e *model.WarningEvidence, v float64) *float64 {
	if e.Measure == "" {
		return nil
	}
	return &v
}

func nonEmpty[T ~string](s T) *T {
	if s == "" {
		return nil
	}
	return &s
}

func (r *Resolver) warningNode(ctx context.Context, typ string, id int64) (gqltypes.Node, error) {
	if err := authorizeNode(ctx, typ); err != nil {
		return nil, err
	}
	if typ == typeWarning {
		w, err := r.WarningService.Warning(ctx, id)
		if err != nil {
			return nil, err
		}
		return w, nil
	}
	sg, err := r.WarningService.Signal(ctx, id)
	if err != nil {
		return nil, err
	}
	return sg, nil
}
