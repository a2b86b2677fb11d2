package warning

import (
	"context"
	"fmt"
	"math"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/warning/detect"
)

// ExplainThreshold says a stored threshold in English and Chinese with the
// names of its district and group, e.g. "the threshold for 渝中区 低保 in
// 2026-11 is 31 % (p95 of the last 12 months, n = 4,812)", and says when
// the cell fell back to its district, the city or the type's fixed value.
func (s *Service) ExplainThreshold(ctx context.Context, th *detect.Threshold) (en, zh string, err error) {
	district := th.Cell.District
	if d, ok := s.regions.Lookup(district); ok {
		district = d.Name
	}
	groupEn, groupZh := "all groups", "全部人群"
	if th.Cell.Group != "" {
		groupEn, groupZh = th.Cell.Group, th.Cell.Group
		cat, err := s.catalog.RequestSnapshot(ctx)
		if err != nil {
			return "", "", err
		}
		if g, ok := cat.Group(th.Cell.Group); ok {
			groupEn, groupZh = g.NameZh, g.NameZh // the name case workers use in either language
		}
	}
	cell, cellZh := district+" "+groupEn, district+groupZh
	v := percent(th.Value)
	months := int(th.Window[1]-th.Window[0]) + 1
	how := fmt.Sprintf("%s of the last %d months, n = %s%s", th.Method, months, aidhub.Yuan(int64(th.N)*100), clampedNote(th, false))
	howZh := fmt.Sprintf("近 %d 个月的 %s，n = %s%s", months, th.Method, aidhub.Yuan(int64(th.N)*100), clampedNote(th, true))
	switch th.Scope {
	case detect.ScopeCell:
		en = fmt.Sprintf("the threshold for %s in %s is %s (%s)", cell, th.Month, v, how)
		zh = fmt.Sprintf("%s %s 的阈值为 %s（%s）", cellZh, th.Month, v, howZh)
	case detect.ScopeDistrict:
		en = fmt.Sprintf("the threshold for %s in %s is the district's, %s: too few households for one of their own (%s)", cell, th.Month, v, how)
		zh = fmt.Sprintf("%s家庭数过少，%s 采用全区阈值 %s（%s）", cellZh, th.Month, v, howZh)
	case detect.ScopeCity:
		en = fmt.Sprintf("the threshold for %s in %s is the city's, %s: too few households in the cell and its district (%s)", cell, th.Month, v, how)
		zh = fmt.Sprintf("%s及所在区家庭数过少，%s 采用全市阈值 %s（%s）", cellZh, th.Month, v, howZh)
	default:
		en = fmt.Sprintf("no calibration for %s in %s: the type's fixed threshold, %s", cell, th.Month, v)
		zh = fmt.Sprintf("%s %s 尚无校准，采用该类型的固定阈值 %s", cellZh, th.Month, v)
	}
	return en, zh, nil
}

func percent(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf("%.0f %%", v*100)
}

func clampedNote(th *detect.Threshold, zh bool) string {
	switch {
	case th.Clamped == "FLOOR" && zh:
		return fmt.Sprintf("，原值 %s 低于下限，取下限", percent(th.Raw))
	case th.Clamped == "FLOOR":
		return fmt.Sprintf("; %s raised to the floor", percent(th.Raw))
	case th.Clamped == "CEILING" && zh:
		return fmt.Sprintf("，原值 %s 高于上限，取上限", percent(th.Raw))
	case th.Clamped == "CEILING":
		return fmt.Sprintf("; %s lowered to the ceiling", percent(th.Raw))
	}
	return ""
}
