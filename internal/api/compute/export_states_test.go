package compute

import "sort"

// ServerActionNames are the body keys POST /servers/{id}/action handles,
// sorted, for the action × state table test.
func ServerActionNames() []string {
	h := &handlers{}
	var names []string
	for name := range h.serverActionHandlers() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
