package mapping

import "strings"

// suggest returns the candidate closest to got when it is close enough to
// be a plausible typo (case-insensitive edit distance of at most a third of
// the word, and at most 3), or "" when nothing is.
func suggest(got string, candidates []string) string {
	g := strings.ToLower(got)
	best, bestDist := "", 4
	for _, c := range candidates {
		d := editDistance(g, strings.ToLower(c))
		limit := min(3, max(1, len(c)/3))
		if d <= limit && d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// didYouMean formats a suggestion as a message suffix, or "" when there is
// none.
func didYouMean(got string, candidates []string) string {
	if s := suggest(got, candidates); s != "" {
		return " (did you mean " + s + "?)"
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		// Long strings are never typos of the short names we suggest.
		return 1 << 20
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
