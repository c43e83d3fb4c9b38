package emulator

// isReserved reports whether check, one of the reserved package's
// lists (the rules compiler uses the same), reserves name.
func isReserved(check func(string) (string, bool), name string) bool {
	_, ok := check(name)
	return ok
}

// paramValueLimits are the parameters allowed longer string values than
// maxParamValueLen.
var paramValueLimits = map[string]int{"page_title": 300, "page_referrer": 420, "page_location": 1000}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// validName reports whether s is a GA4 event or parameter name: at most
// maxNameLen characters, a letter first, then letters, digits and '_'.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}
