package model

import "github.com/aidhub/aidhub/warning"

// WarningEvidence is a warning's evidence with the warning it belongs to:
// its signals are read under the warning's visibility.
type WarningEvidence struct {
	*warning.Evidence
	Warning *warning.Warning
}
