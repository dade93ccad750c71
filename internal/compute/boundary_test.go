package compute_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainDoesNotImportDrivers: the compute domain (and everything it
// depends on) never imports the driver layer internal/virt; the agent
// translates between them.
func TestDomainDoesNotImportDrivers(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`,
		".", "./state").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const virt = "github.com/kumocloud/kumo/internal/virt"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		for _, imp := range strings.Fields(imports) {
			if imp != virt && !strings.HasPrefix(imp, virt+"/") {
				continue
			}
			t.Errorf("%s, a dependency of the compute domain, imports the driver package %s", pkg, imp)
		}
	}
}
