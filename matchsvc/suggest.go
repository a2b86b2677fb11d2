package matchsvc

import (
	"context"
	"strings"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
)

// FollowSuggestions streams the suggestions for open needs whose village
// starts with regionPrefix (up to 12 digits) until ctx ends. A case
// manager follows its own region only: no prefix means all of it, one
// outside it is FORBIDDEN. Which roles may follow at all is the API's
// field policy.
func (s *Service) FollowSuggestions(ctx context.Context, regionPrefix string) (<-chan *Suggestion, error) {
	// The prefix is matched against village codes: digits only.
	if len(regionPrefix) > 12 || strings.Trim(regionPrefix, "0123456789") != "" {
		return nil, aidhub.Invalid("regionPrefix", "must be up to 12 digits")
	}
	if pr := auth.FromContext(ctx); pr.Is(auth.CaseManager) {
		switch {
		case regionPrefix == "":
			regionPrefix = pr.RegionPrefix
		case !strings.HasPrefix(regionPrefix, pr.RegionPrefix):
			return nil, aidhub.Errorf(aidhub.EFORBIDDEN, "region %s is outside your region %s", regionPrefix, pr.RegionPrefix)
		}
	}
	in, cancel := s.Broker.Subscribe(regionPrefix)
	out := make(chan *Suggestion)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case sg, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- &sg:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
