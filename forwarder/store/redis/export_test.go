package redis

// UngroupedIntake makes s send each Accept's script on its own, as
// before intake was grouped: the baseline of BenchmarkAcceptParallel.
func UngroupedIntake(s *Store) { s.intake.off = true }
