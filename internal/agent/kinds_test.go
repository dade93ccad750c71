package agent

import (
	"testing"

	"github.com/kumocloud/kumo/internal/compute"
)

// TestHandlesEveryTaskKind: the agent has a handler for exactly the task
// kinds of the compute task contract.
func TestHandlesEveryTaskKind(t *testing.T) {
	// New reads only the service's settings (the periodics' intervals);
	// the handlers use the rest when they run, so a bare service will do.
	a := New(nil, &compute.Service{}, nil, nil, Options{})
	kinds := compute.TaskKinds()
	for kind := range kinds {
		if _, ok := a.tasks[kind]; !ok {
			t.Errorf("no handler for task kind %s", kind)
		}
	}
	for kind := range a.tasks {
		if _, ok := kinds[kind]; !ok {
			t.Errorf("handler for task kind %s the contract does not have", kind)
		}
	}
}
