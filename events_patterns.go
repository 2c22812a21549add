package webhook

// EventPatterns returns every pattern an endpoint's Events may hold that
// matches eventType (MatchEvent): the type itself and the prefix pattern of
// each of its leading segments ("a.b.c" gives "a.b.c", "a.*" and "a.b.*").
// An endpoint receives events of eventType if its Events list is empty or
// holds one of these, so a Store can match endpoints in a query (see
// MatchEnqueuer). eventType must be a valid type (ValidEventType).
func EventPatterns(eventType string) []string {
	out := make([]string, 1, 4)
	out[0] = eventType
	for i := 0; i < len(eventType); i++ {
		if eventType[i] == '.' {
			out = append(out, eventType[:i+1]+"*")
		}
	}
	return out
}
