// Package detect is the early-warning engine: plain values in, warnings with
// their evidence out, no database (as matching is to matchsvc). It holds
//
//   - the signal kinds and the monthly history of a household built from them
//     (History), and the facts a rule sees (Facts);
//   - the measures threshold rules read (income drop against the household's
//     own baseline, medical/education/arrears burden against income), each
//     compared with its peers' change in the same month (district × group);
//   - adaptive thresholds: per district × group a robust quantile (or
//     median + k·MAD) of the peer-adjusted measure over the months before,
//     clamped to the type's floor and ceiling, falling back to the district,
//     then the city, when a cell is too small (Calibrate);
//   - warning types as data (Type, DefaultTypes) and the evaluation of one
//     household against every type (Evaluator.Evaluate).
//
// The package warning stores signals, types, calibrations and warnings and
// feeds this engine.
package detect
