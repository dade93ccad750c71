package compute_test

import (
	"os/exec"
	"strings"
	"testing"
)

// driverImportsAllowed are packages the compute domain still reaches that
// import the driver layer, and why; nothing else may.
var driverImportsAllowed = map[string]string{
	// hosts.Registration takes the driver's virt.HostInfo; hosts is being
	// made a service of its own (issue 18, item 1), which drops it.
	"github.com/kumocloud/kumo/internal/hosts": "hosts.Registration takes virt.HostInfo",
}

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
	used := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if pkg == virt || strings.HasPrefix(pkg, virt+"/") {
			continue // reached through an allowed importer, reported there
		}
		for _, imp := range strings.Fields(imports) {
			if imp != virt && !strings.HasPrefix(imp, virt+"/") {
				continue
			}
			if _, ok := driverImportsAllowed[pkg]; ok {
				used[pkg] = true
				continue
			}
			t.Errorf("%s, a dependency of the compute domain, imports the driver package %s", pkg, imp)
		}
	}
	for pkg, why := range driverImportsAllowed {
		if !used[pkg] {
			t.Logf("%s no longer imports internal/virt (%s): drop its exception", pkg, why)
		}
	}
}
