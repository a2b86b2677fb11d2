package matcher

// HoldLoading takes the load lock as a reload in progress does, until the
// returned function is called.
func (s *Service) HoldLoading() (release func()) {
	s.loading.Lock()
	return s.loading.Unlock
}
